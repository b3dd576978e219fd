"""The bundled expression functions: windowed counts, date distances, latest values.

Conditions call them directly, e.g. ``count_within(gated_feature_attempts, 14) >= 2``,
without declaring a derived signal first. They follow the derivations' conventions: the
core never calls them with a missing argument, and they return ``None`` when the answer
is undefined (an empty list has no latest value).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from upsell_rules.plugin.types import Function


def count_within(dates: Sequence[date], days: float, *, as_of: date) -> int | None:
    """How many of ``dates`` fall in the ``days`` days up to and including ``as_of``.

    The window matches the ``count_within_days`` derivation: from ``as_of - days`` to
    ``as_of``, both ends included; dates after ``as_of`` are not counted.
    """
    if days < 0:
        return None
    earliest = as_of - timedelta(days=int(days))
    return sum(1 for day in dates if earliest <= day <= as_of)


def days_since(day: date, *, as_of: date) -> int:
    """Whole days from ``day`` to ``as_of`` (negative when ``day`` is later)."""
    return (as_of - day).days


def days_until(day: date, *, as_of: date) -> int:
    """Whole days from ``as_of`` to ``day`` (negative when ``day`` has passed)."""
    return (day - as_of).days


def latest(series: Sequence[float]) -> float | None:
    """The last (newest) value of a series, or missing when it is empty."""
    return series[-1] if series else None


def count_of(items: Sequence[str], value: str) -> int:
    """How many ``items`` equal ``value``, ignoring case and surrounding spaces."""
    wanted = value.strip().casefold()
    return sum(1 for item in items if str(item).strip().casefold() == wanted)


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="count_within",
        description="How many dates fall in the last N days (as-of day included).",
        args=("date_list", "number"),
        arg_names=("dates", "days"),
        returns="integer",
        call=count_within,
        needs_as_of=True,
    ),
    Function(
        name="days_since",
        description="Days from a date to the as-of date.",
        args=("date",),
        arg_names=("day",),
        returns="integer",
        call=days_since,
        needs_as_of=True,
    ),
    Function(
        name="days_until",
        description="Days from the as-of date to a date.",
        args=("date",),
        arg_names=("day",),
        returns="integer",
        call=days_until,
        needs_as_of=True,
    ),
    Function(
        name="latest",
        description="The newest (last) value of a series.",
        args=("number_list",),
        arg_names=("series",),
        returns="number",
        call=latest,
    ),
    Function(
        name="count_of",
        description="How many items of a text list equal a value (case-insensitive).",
        args=("string_list", "string"),
        arg_names=("items", "value"),
        returns="integer",
        call=count_of,
    ),
)
