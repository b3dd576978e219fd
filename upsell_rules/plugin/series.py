"""Pure helpers over billing-cycle series (oldest value first, the last one is current).

Derivations and upsell-type summaries share these so that a rule's threshold and the
sentence a CSM reads are computed the same way. Nothing here touches files, clocks or
global state.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar

T = TypeVar("T")

#: Days in one billing cycle when nothing better is known (monthly billing).
DEFAULT_CYCLE_DAYS = 30

#: How far below a growth threshold a computed rate may fall and still count as reaching
#: it. ``480 / 400 - 1`` is 0.19999999999999996 in binary floating point, so without
#: this "grew by 20% or more" would miss a growth of exactly 20%.
GROWTH_TOLERANCE = 1e-9


def growth_floor(rate: float) -> float:
    """The lowest computed growth (``current / previous - 1``) that counts as ``rate``.

    Every engine compares against this same number, so they agree to the bit.
    """
    return rate - GROWTH_TOLERANCE


def trailing_run(values: Sequence[T], predicate: Callable[[T], bool]) -> int:
    """Count how many values at the end of ``values`` satisfy ``predicate`` in a row.

    ``trailing_run([9, 3, 8, 9], lambda v: v >= 8)`` is 2: the run stops at the first
    value, walking back from the newest, that fails the predicate.
    """
    run = 0
    for value in reversed(values):
        if not predicate(value):
            break
        run += 1
    return run


def growth_rates(values: Sequence[float]) -> list[float | None]:
    """Cycle-over-cycle growth, ``v[i] / v[i-1] - 1``, one entry per pair of cycles.

    The result is one shorter than ``values``. An entry is ``None`` where the previous
    value is 0, because growth from nothing has no rate.
    """
    rates: list[float | None] = []
    for previous, current in itertools.pairwise(values):
        rates.append(None if previous == 0 else current / previous - 1)
    return rates


def last_growth_rate(values: Sequence[float]) -> float | None:
    """Growth of the newest cycle over the one before, or ``None`` if it is undefined.

    Undefined means fewer than two values, or a previous value of 0.
    """
    if len(values) < 2:
        return None
    previous = values[-2]
    if previous == 0:
        return None
    return values[-1] / previous - 1


def least_squares_slope(values: Sequence[float]) -> float | None:
    """Slope of the least-squares line through ``values`` at x = 0, 1, 2, ...

    Returns the average change per cycle, or ``None`` for fewer than two values.
    """
    n = len(values)
    if n < 2:
        return None
    # The x offsets from their mean sum to zero, so any constant can be taken off y
    # without changing the result; taking off the first value makes an exactly flat
    # series give exactly 0 instead of a rounding residue.
    first = values[0]
    offset = -(n - 1) / 2
    numerator = 0.0
    for y in values:
        numerator += offset * (y - first)
        offset += 1.0
    # n(n^2 - 1)/12 is the sum of the squared x offsets for x = 0 .. n-1.
    return numerator * 12 / (n * (n * n - 1))


def projected_cycles_to_limit(
    values: Sequence[float], limit: float, window: int = 3
) -> float | None:
    """How many cycles until the series reaches ``limit`` at its recent pace.

    The pace is the least-squares slope over the last ``window`` values. Returns 0.0
    when the newest value is already at or above the limit, and ``None`` when the
    series is empty, has fewer than two values in the window, is flat or falling (it
    never gets there), or rises so slowly that the answer is not a finite number.
    ``window`` must be at least 2.
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 cycles, got {window}")
    if not values:
        return None
    last = values[-1]
    if last >= limit:
        return 0.0
    slope = least_squares_slope(values[-window:])
    if slope is None or slope <= 0:
        return None
    cycles = (limit - last) / slope
    # A vanishingly small slope overflows to infinity: as good as never.
    return cycles if math.isfinite(cycles) else None


def window_start(values: Sequence[T], cycles: int) -> T | None:
    """The value at the start of the last ``cycles`` cycles (``cycles - 1`` before the end).

    Clamped to the first value when the series is shorter; ``None`` when it is empty.
    ``cycles`` must be at least 1 (1 means the newest value).
    """
    if cycles < 1:
        raise ValueError(f"cycles must be at least 1, got {cycles}")
    if not values:
        return None
    return values[max(len(values) - cycles, 0)]


# --- Tolerant readers ---------------------------------------------------------------
# Upsell-type summaries read the account's signals without knowing whether the core has
# coerced them yet, so these accept both the typed value and its raw text form.


def as_number(value: Any) -> float | None:
    """``value`` as a finite float (numbers and numeric text), or ``None`` if it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    # NaN and infinities cannot ground a sentence, so they count as missing.
    return number if math.isfinite(number) else None


def as_number_list(value: Any) -> list[float] | None:
    """A list of numbers from a list/tuple or ``a|b|c`` text; ``None`` if any item is not one."""
    items: Sequence[Any]
    if isinstance(value, str):
        items = [part for part in value.split("|") if part.strip()]
    elif isinstance(value, list | tuple):
        items = value
    else:
        return None
    numbers: list[float] = []
    for item in items:
        number = as_number(item)
        if number is None:
            return None
        numbers.append(number)
    return numbers


def as_string_list(value: Any) -> list[str] | None:
    """A list of non-empty, stripped strings from a list/tuple or ``a|b|c`` text."""
    if isinstance(value, str):
        items: Sequence[Any] = value.split("|")
    elif isinstance(value, list | tuple):
        items = value
    else:
        return None
    return [text for text in (str(item).strip() for item in items) if text]


def as_date(value: Any) -> date | None:
    """``value`` as a date (a date, or ISO ``YYYY-MM-DD`` text), else ``None``."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def as_date_list(value: Any) -> list[date] | None:
    """A list of dates from a list/tuple or ``a|b|c`` text; ``None`` if any item is not one."""
    if isinstance(value, str):
        items: Sequence[Any] = [part for part in value.split("|") if part.strip()]
    elif isinstance(value, list | tuple):
        items = value
    else:
        return None
    dates: list[date] = []
    for item in items:
        parsed = as_date(item)
        if parsed is None:
            return None
        dates.append(parsed)
    return dates


def format_number(value: float) -> str:
    """A number for a sentence: thousands separators, no ``.0`` on whole numbers."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def format_count(count: int, singular: str, plural: str | None = None) -> str:
    """``count`` with the noun in the right number: ``1 cycle``, ``3 cycles``."""
    noun = singular if count == 1 else (plural or f"{singular}s")
    return f"{count} {noun}"


def format_percent(fraction: float) -> str:
    """A fraction as a whole percentage: ``0.923`` is ``92%``."""
    value = fraction * 100
    return f"{round(value)}%" if math.isfinite(value) else f"{value}%"


def cycles_to_days(cycles: float, cycle_days: int = DEFAULT_CYCLE_DAYS) -> int | None:
    """A projection in cycles as whole days (at least 1 when it is not already 0).

    ``None`` when the number of days is too large to be a number.
    """
    days = cycles * cycle_days
    if not math.isfinite(days):
        return None
    if days <= 0:
        return 0
    return max(1, round(days))
