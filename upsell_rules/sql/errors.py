"""The compiler's one exception, importable without loading SQLGlot."""

from __future__ import annotations


class NotCompilable(Exception):
    """The ruleset uses something that has no SQL form (a plugin's derivation or function)."""


__all__ = ["NotCompilable"]
