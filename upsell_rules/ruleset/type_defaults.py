"""A play's defaults from the upsell type it names (``upsell_type: seat``).

An upsell type plugin may ship the behaviour of its plays: a default window, owner rule
set and opening line (:class:`~upsell_rules.plugin.types.UpsellType`). A play that
names the type and leaves a key out takes the type's value; a key the play writes
always wins. Problems with a default (an unknown placeholder, an owner rule set the
ruleset does not have) are located at the play's ``upsell_type`` key and name the
plugin, since the text is not in the ruleset.
"""

from __future__ import annotations

from typing import Any, Protocol

from upsell_rules.errors import Diagnostic, did_you_mean
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import UpsellType
from upsell_rules.ruleset.templates import Template, TemplateError, parse_template
from upsell_rules.ruleset.yamlload import Path

#: The play key each default fills, and the UpsellType attribute it comes from.
DEFAULTED_KEYS = {"window": "default_window", "owner": "default_owner",
                  "message": "default_opening"}


class _Checker(Protocol):
    registry: Registry
    findings: list[Diagnostic]

    def add(self, path: Path, code: str, message: str, *, key: bool = False) -> None: ...

    def known_names(self) -> list[str]: ...


def play_type(checker: _Checker, path: Path, spec: dict[str, Any]) -> UpsellType | None:
    """The upsell type a play names, or ``None`` (an unknown name is E130)."""
    name = spec.get("upsell_type")
    if not isinstance(name, str):
        return None
    kind = checker.registry.upsell_types.get(name)
    if kind is None:
        known = list(checker.registry.upsell_types)
        checker.add((*path, "upsell_type"), "E130",
                    f"plays.{path[-1]}.upsell_type: unknown upsell type '{name}'"
                    f"{did_you_mean(name, known)}")
    return kind


def default_text(kind: UpsellType | None, key: str) -> str:
    """The type's default for play key ``key`` (``""`` when it gives none)."""
    if kind is None:
        return ""
    value = getattr(kind, DEFAULTED_KEYS[key], "")
    return value if isinstance(value, str) else ""


def default_template(
    checker: _Checker, path: Path, kind: UpsellType, key: str
) -> Template | None:
    """The type's default for ``key`` as a checked template, or ``None``."""
    text = default_text(kind, key)
    if not text:
        return None
    plugin = checker.registry.provider("upsell type", kind.name)
    where = f"plays.{path[-1]}.{key} (default of upsell type '{kind.name}', plugin '{plugin}')"
    at = (*path, "upsell_type")
    try:
        template = parse_template(text)
    except TemplateError as exc:
        checker.add(at, "E140", f"{where}: {exc.message}")
        return None
    known = checker.known_names()
    unknown = [name for name in template.names if name not in known]
    for name in unknown:
        checker.add(at, "E140", f"{where}: unknown placeholder '{{{name}}}' (declare the "
                                f"signal, or write {key}: in the play)")
    return None if unknown else template


__all__ = ["DEFAULTED_KEYS", "default_template", "default_text", "play_type"]
