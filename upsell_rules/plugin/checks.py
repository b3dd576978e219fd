"""Checks on what a plugin registers, and on the upsell-rules version it asks for.

A plugin hands objects to ``register``; these functions say, in one sentence naming
the field, what is wrong with one (a ``dict`` where a :class:`Derivation` belongs, a
``title`` of ``42``, a ``frame`` of ``None``), and whether the installed upsell-rules
satisfies the ``Requires-Dist: upsell-rules ...`` line of the plugin's distribution.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable, Mapping
from typing import Any

from upsell_rules.plugin.types import (
    OVER_TIME_KINDS,
    SIGNAL_TYPES,
    Derivation,
    Engine,
    FieldSpec,
    Function,
    ParamSpec,
    Sink,
    Source,
    UpsellType,
)

#: The class each kind of registration must be an instance of.
KIND_CLASSES: dict[str, type] = {
    "field": FieldSpec,
    "source": Source,
    "derivation": Derivation,
    "function": Function,
    "upsell type": UpsellType,
    "engine": Engine,
    "sink": Sink,
}

_TEXT = "text"
_CALL = "callable"
_CALL_OR_NONE = "callable or None"
_SIGNAL_TYPE = "signal type"
_SIGNAL_TYPES = "tuple of signal types"
_PARAMS = "mapping of name to ParamSpec"
_FIELDS = "tuple of FieldSpec"
_FLAG = "True or False"
_RANGES = "'', 'lines' or 'csv'"
_COLUMNAR = "'', 'parquet' or 'csv'"
_OVER_TIME = "'fixed', 'days_since', 'days_until', a callable or None"

#: Field -> what it must hold, per registered class (fields not named are not checked).
_FIELD_RULES: dict[type, dict[str, str]] = {
    FieldSpec: {"name": _TEXT, "type": _SIGNAL_TYPE, "description": _TEXT},
    Source: {
        "name": _TEXT, "description": _TEXT, "matches": _CALL, "read": _CALL,
        "fields": _FIELDS, "options": _PARAMS, "read_with_context": _CALL_OR_NONE,
        "byte_ranges": _RANGES, "columnar": _COLUMNAR,
    },
    Derivation: {
        "name": _TEXT, "description": _TEXT, "output_type": _SIGNAL_TYPE, "build": _CALL,
        "params": _PARAMS, "over_time": _OVER_TIME,
    },
    Function: {
        "name": _TEXT, "description": _TEXT, "args": _SIGNAL_TYPES, "returns": _SIGNAL_TYPE,
        "call": _CALL, "needs_as_of": _FLAG,
    },
    UpsellType: {
        "name": _TEXT, "title": _TEXT, "frame": _TEXT, "description": _TEXT,
        "default_window": _TEXT, "describe": _CALL_OR_NONE, "default_owner": _TEXT,
        "default_opening": _TEXT, "trigger_hint": _TEXT,
    },
    Engine: {
        "name": _TEXT, "description": _TEXT, "prepare": _CALL, "available": _CALL,
        "parallel_safe": _FLAG,
    },
    Sink: {"name": _TEXT, "description": _TEXT, "deliver": _CALL, "options": _PARAMS,
           "target_option": _TEXT},
}


def _fits(value: Any, rule: str) -> bool:
    checks: dict[str, Callable[[Any], bool]] = {
        _TEXT: lambda v: isinstance(v, str),
        _CALL: callable,
        _CALL_OR_NONE: lambda v: v is None or callable(v),
        _SIGNAL_TYPE: lambda v: v in SIGNAL_TYPES,
        _SIGNAL_TYPES: lambda v: isinstance(v, tuple | list) and all(
            item in SIGNAL_TYPES for item in v
        ),
        _PARAMS: lambda v: isinstance(v, Mapping) and all(
            isinstance(k, str) and isinstance(p, ParamSpec) for k, p in v.items()
        ),
        _FIELDS: lambda v: isinstance(v, tuple | list) and all(
            isinstance(item, FieldSpec) for item in v
        ),
        _FLAG: lambda v: isinstance(v, bool),
        _RANGES: lambda v: v in ("", "lines", "csv"),
        _COLUMNAR: lambda v: v in ("", "parquet", "csv"),
        _OVER_TIME: lambda v: v is None or v in OVER_TIME_KINDS or callable(v),
    }
    return checks[rule](value)


def _shown(value: Any) -> str:
    text = repr(value)
    return (text if len(text) <= 40 else text[:37] + "...") + f" ({type(value).__name__})"


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def check_registered(kind: str, item: Any) -> str | None:
    """What is wrong with ``item`` registered as a ``kind``, or ``None`` when it fits."""
    expected = KIND_CLASSES[kind]
    if not isinstance(item, expected):
        other = next((k for k, c in KIND_CLASSES.items() if isinstance(item, c)), None)
        what = _a(type(item).__name__) + (f" (a {other})" if other else "")
        return (
            f"registered {what} as {_a(kind)}; expected {_a(expected.__name__)} "
            "(from upsell_rules.plugin.types)"
        )
    name = getattr(item, "name", None)
    label = f"{kind} '{name}'" if isinstance(name, str) else kind
    if not isinstance(name, str) or not name:
        return f"registered {_a(kind)} without a name (name={_shown(name)})"
    for attribute, rule in _FIELD_RULES.get(expected, {}).items():
        if not hasattr(item, attribute):
            continue
        value = getattr(item, attribute)
        if not _fits(value, rule):
            allowed = (
                f"one of {', '.join(SIGNAL_TYPES)}" if rule == _SIGNAL_TYPE else rule
            )
            return f"{label}: {attribute} is {_shown(value)}; expected {allowed}"
    return None


# --- version requirements -------------------------------------------------------------


def requirement_problem(distribution: str, core_name: str, core_version: str) -> str | None:
    """Why ``distribution``'s requirement on ``core_name`` is not met, or ``None``.

    Reads the distribution's metadata (``Requires-Dist``); a distribution that is not
    installed, or that names no requirement on the core, is fine.
    """
    if not distribution:
        return None
    try:
        requires = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    wanted = _normalise(core_name)
    for line in requires:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if _normalise(requirement.name) != wanted or not requirement.specifier:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            ok = requirement.specifier.contains(Version(core_version), prereleases=True)
        except InvalidVersion:
            return None
        if not ok:
            return (
                f"{distribution} requires {core_name}{requirement.specifier} "
                f"(Requires-Dist), but {core_name} {core_version} is installed"
            )
    return None


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


__all__ = ["KIND_CLASSES", "check_registered", "requirement_problem"]
