"""Diagnostics and the located error types every part of the project raises."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file, counted from 1. ``line``/``col`` are 0 when unknown."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.path}:{self.line}:{self.col}"
        if self.line:
            return f"{self.path}:{self.line}"
        return self.path


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a ruleset: where, a stable code, and a message.

    Codes starting with ``E`` are errors (the ruleset cannot be used); ``W`` codes are
    warnings (it can, but something looks wrong).
    """

    location: Location
    code: str
    message: str

    @property
    def is_error(self) -> bool:
        """True for ``E`` codes."""
        return self.code.startswith("E")

    def __str__(self) -> str:
        loc = self.location
        # Findings always carry line and column (counted from 1), even when unknown.
        return f"{loc.path}:{max(loc.line, 1)}:{max(loc.col, 1)}: {self.code} {self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order by file, then position, then code."""
        loc = self.location
        return (loc.path, loc.line, loc.col, self.code)


class UpsellRulesError(Exception):
    """Base class of every error this project raises on purpose."""


class RulesetError(UpsellRulesError):
    """A ruleset could not be loaded; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


@dataclass(frozen=True)
class RecordError:
    """One input record that could not be read, with where and why.

    ``field`` and ``value`` are empty when the whole row is at fault (a JSON syntax
    error, a row with too many cells).
    """

    location: Location
    message: str
    field: str = ""
    value: str = ""
    account_id: str = ""

    def __str__(self) -> str:
        head = f"{self.location}: "
        if self.field:
            return f"{head}{self.field}: {self.message}"
        return f"{head}{self.message}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "location": str(self.location),
            "account_id": self.account_id or None,
            "field": self.field or None,
            "value": self.value or None,
            "message": self.message,
        }


class InputError(UpsellRulesError):
    """An input file as a whole cannot be read (missing, unknown format, no header)."""


class PluginError(UpsellRulesError):
    """A plugin failed to load or misbehaved; the message names the plugin."""


class PluginTimeout(BaseException):
    """A plugin made no progress within the run's time budget; the message names it.

    Raised by :mod:`upsell_rules.plugin.watchdog` in the middle of the stuck plugin's code. It
    is a ``BaseException``, like ``KeyboardInterrupt``, so that a plugin's own
    ``except Exception`` cannot swallow it and carry on hanging.
    """
