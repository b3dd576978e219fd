"""Parameter checks and registration helpers shared by the bundled derivations.

The checks run when a ruleset is loaded (never per account): each reads one parameter of
a derivation, says plainly what was expected when it is wrong, and returns it typed.
:func:`derivation` builds the registration entry, with the parameters' defaults filled in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from upsell_rules.plugin.types import Derivation, DeriveFn, OverTime, ParamSpec, SignalType

LIST_TYPES = (list, tuple)


# --- parameter checks ---------------------------------------------------------------


def signal_name(params: Mapping[str, Any], name: str) -> str:
    """Parameter ``name``: the name of one signal."""
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"parameter '{name}' must name a signal, got {value!r}")
    return value.strip()


def signal_names(params: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """Parameter ``name``: one or more signal names (a single name counts as a list)."""
    value = params.get(name)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, LIST_TYPES) or not value:
        raise ValueError(f"parameter '{name}' must be a list of signal names, got {value!r}")
    names = tuple(str(item).strip() for item in value)
    if not all(names):
        raise ValueError(f"parameter '{name}' has an empty signal name")
    return names


def whole_number(params: Mapping[str, Any], name: str, minimum: int) -> int:
    """Parameter ``name``: a whole number of at least ``minimum`` (``3.0`` counts)."""
    value = params.get(name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"parameter '{name}' must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"parameter '{name}' must be at least {minimum}, got {value}")
    return value


#: The most days between two dates a date can hold (0001-01-01 to 9999-12-31).
MAX_DAYS = (date.max - date.min).days


def day_count(params: Mapping[str, Any], name: str) -> int:
    """Parameter ``name``: a whole number of days, from 0 to :data:`MAX_DAYS` (more could
    not be added to or taken from any date)."""
    days = whole_number(params, name, minimum=0)
    if days > MAX_DAYS:
        raise ValueError(f"parameter '{name}' must be at most {MAX_DAYS} (the days from "
                         f"0001-01-01 to 9999-12-31), got {days}")
    return days


def number_param(params: Mapping[str, Any], name: str) -> float:
    """Parameter ``name``: a number (not a boolean)."""
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"parameter '{name}' must be a number, got {value!r}")
    return float(value)


def text_set(params: Mapping[str, Any], name: str) -> frozenset[str]:
    """Parameter ``name``: texts given as a list or comma-separated, compared without case."""
    value = params.get(name)
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, LIST_TYPES):
        items = list(value)
    else:
        raise ValueError(f"parameter '{name}' must be a comma-separated list, got {value!r}")
    wanted = frozenset(str(item).strip().casefold() for item in items) - {""}
    if not wanted:
        raise ValueError(f"parameter '{name}' lists no values")
    return wanted


# --- registration ---------------------------------------------------------------------


def signal_param(description: str, default: str | None = None) -> ParamSpec:
    """The spec of a parameter naming a signal (required unless it has a default)."""
    return ParamSpec("signal", default=default, required=default is None, description=description)


def _with_defaults(
    build: Callable[[Mapping[str, Any]], DeriveFn], specs: Mapping[str, ParamSpec]
) -> Callable[[Mapping[str, Any]], DeriveFn]:
    """Fill in parameter defaults before ``build`` sees them.

    The core already does this; doing it here too keeps a derivation usable when it is
    built directly (in a plugin's own tests, say).
    """
    defaults = {name: spec.default for name, spec in specs.items() if spec.default is not None}

    def build_with_defaults(params: Mapping[str, Any]) -> DeriveFn:
        merged = dict(defaults)
        merged.update((name, value) for name, value in params.items() if value is not None)
        return build(merged)

    return build_with_defaults


def derivation(
    name: str,
    description: str,
    output_type: SignalType,
    build: Callable[[Mapping[str, Any]], DeriveFn],
    params: dict[str, ParamSpec],
    over_time: OverTime = "fixed",
) -> Derivation:
    """A bundled derivation's registration entry, its parameters' defaults filled in."""
    return Derivation(
        name=name,
        description=description,
        output_type=output_type,
        build=_with_defaults(build, params),
        params=params,
        over_time=over_time,
    )


__all__ = [
    "LIST_TYPES", "derivation", "number_param", "signal_name", "signal_names", "signal_param",
    "text_set", "whole_number",
]
