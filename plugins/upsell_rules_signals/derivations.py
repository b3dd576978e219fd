"""The bundled derivations: signals computed from other signals.

Each ``_build_*`` function runs once per ruleset load: it checks the parameters, binds
them to local names, and returns a small closure that runs once per account. The
closures are on the hot path (tens of them per account, tens of thousands of accounts
per second), so they avoid helper calls and re-reading parameters.

Conventions shared by every derivation:

- A missing input (absent or ``None``) gives ``None``: the value is unknown, conditions
  on it are false and the decision lists it as missing. So does an undefined result
  (division by zero, too little history).
- Where a list is expected, a single value counts as a one-element list; where a single
  value is expected, a list contributes its last (newest) element.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from upsell_rules.plugin.series import growth_floor, last_growth_rate, projected_cycles_to_limit
from upsell_rules.plugin.types import Derivation, DeriveFn, ParamSpec

from .params import (
    LIST_TYPES,
    day_count,
    derivation,
    number_param,
    signal_name,
    signal_names,
    signal_param,
    text_set,
    whole_number,
)

# --- the derivations ------------------------------------------------------------------


def _build_latest(params: Mapping[str, Any]) -> DeriveFn:
    series = signal_name(params, "series")

    def latest(signals: Mapping[str, Any], as_of: date) -> Any:
        values = signals.get(series)
        if isinstance(values, LIST_TYPES):
            return values[-1] if values else None
        return values

    return latest


def _build_first_of_window(params: Mapping[str, Any]) -> DeriveFn:
    series = signal_name(params, "series")
    back = whole_number(params, "cycles", minimum=1) - 1

    def first_of_window(signals: Mapping[str, Any], as_of: date) -> Any:
        values = signals.get(series)
        if isinstance(values, LIST_TYPES):
            if not values:
                return None
            index = len(values) - 1 - back
            return values[index if index > 0 else 0]
        return values

    return first_of_window


def _build_utilization(params: Mapping[str, Any]) -> DeriveFn:
    series = signal_name(params, "series")
    limit_name = signal_name(params, "limit")

    def utilization(signals: Mapping[str, Any], as_of: date) -> list[float] | None:
        values = signals.get(series)
        limit = signals.get(limit_name)
        if values is None or not limit:
            return None
        if isinstance(limit, LIST_TYPES):
            limit = limit[-1]
            if not limit:
                return None
        if isinstance(values, LIST_TYPES):
            return [value / limit for value in values]
        return [values / limit]

    return utilization


def _build_ratio(params: Mapping[str, Any]) -> DeriveFn:
    numerator_name = signal_name(params, "numerator")
    denominator_name = signal_name(params, "denominator")

    def ratio(signals: Mapping[str, Any], as_of: date) -> float | None:
        numerator = signals.get(numerator_name)
        denominator = signals.get(denominator_name)
        if isinstance(numerator, LIST_TYPES):
            numerator = numerator[-1] if numerator else None
        if isinstance(denominator, LIST_TYPES):
            denominator = denominator[-1] if denominator else None
        if numerator is None or not denominator:
            return None
        result: float = numerator / denominator
        return result

    return ratio


def _build_consecutive_at_or_above(params: Mapping[str, Any]) -> DeriveFn:
    series = signal_name(params, "series")
    threshold = number_param(params, "threshold")

    def consecutive_at_or_above(signals: Mapping[str, Any], as_of: date) -> int | None:
        values = signals.get(series)
        if values is None:
            return None
        if not isinstance(values, LIST_TYPES):
            return 1 if values >= threshold else 0
        run = 0
        for value in reversed(values):
            if value is None or value < threshold:
                break
            run += 1
        return run

    return consecutive_at_or_above


def _build_count_within_days(params: Mapping[str, Any]) -> DeriveFn:
    dates_name = signal_name(params, "dates")
    span = timedelta(days=day_count(params, "days"))

    def count_within_days(signals: Mapping[str, Any], as_of: date) -> int | None:
        dates = signals.get(dates_name)
        if dates is None:
            return None
        # A window reaching past the first date a date can hold starts there.
        earliest = as_of - span if as_of - date.min >= span else date.min
        if not isinstance(dates, LIST_TYPES):
            return 1 if earliest <= dates <= as_of else 0
        count = 0
        for day in dates:
            if earliest <= day <= as_of:
                count += 1
        return count

    return count_within_days


def _count_within_days_changes(params: Mapping[str, Any], signals: Mapping[str, Any]
                               ) -> list[date]:
    """A date is counted from its own day through ``days`` days later."""
    dates = signals.get(signal_name(params, "dates"))
    if dates is None:
        return []
    span = timedelta(days=day_count(params, "days"))
    listed = dates if isinstance(dates, LIST_TYPES) else (dates,)
    # No change after the last date a date can hold.
    return [d for day in listed
            for d in (day, *([day + span + timedelta(days=1)] if date.max - day > span else []))]


def _build_days_until(params: Mapping[str, Any]) -> DeriveFn:
    date_name = signal_name(params, "date")

    def days_until(signals: Mapping[str, Any], as_of: date) -> int | None:
        day = signals.get(date_name)
        if not isinstance(day, date):
            return None
        return (day - as_of).days

    return days_until


def _build_days_since(params: Mapping[str, Any]) -> DeriveFn:
    date_name = signal_name(params, "date")

    def days_since(signals: Mapping[str, Any], as_of: date) -> int | None:
        day = signals.get(date_name)
        if not isinstance(day, date):
            return None
        return (as_of - day).days

    return days_since


def _build_date_after(params: Mapping[str, Any]) -> DeriveFn:
    date_name = signal_name(params, "date")
    span = timedelta(days=day_count(params, "days"))
    last = date.max - span  # later dates have no date ``span`` days on

    def date_after(signals: Mapping[str, Any], as_of: date) -> date | None:
        day = signals.get(date_name)
        if not isinstance(day, date) or day > last:
            return None
        return day + span

    return date_after


def _build_difference(params: Mapping[str, Any]) -> DeriveFn:
    a_name = signal_name(params, "a")
    b_name = signal_name(params, "b")

    def difference(signals: Mapping[str, Any], as_of: date) -> Any:
        a = signals.get(a_name)
        b = signals.get(b_name)
        if isinstance(a, LIST_TYPES):
            a = a[-1] if a else None
        if isinstance(b, LIST_TYPES):
            b = b[-1] if b else None
        if a is None or b is None:
            return None
        return a - b

    return difference


def _build_max_of(params: Mapping[str, Any]) -> DeriveFn:
    names = signal_names(params, "signals")

    def max_of(signals: Mapping[str, Any], as_of: date) -> Any:
        best = None
        for name in names:
            value = signals.get(name)
            if isinstance(value, LIST_TYPES):
                value = value[-1] if value else None
            if value is not None and (best is None or value > best):
                best = value
        return best

    return max_of


def _build_count_in(params: Mapping[str, Any]) -> DeriveFn:
    list_name = signal_name(params, "list")
    wanted = text_set(params, "values")

    def count_in(signals: Mapping[str, Any], as_of: date) -> int | None:
        items = signals.get(list_name)
        if items is None:
            return None
        if not isinstance(items, LIST_TYPES):
            items = (items,)
        count = 0
        for item in items:
            if str(item).strip().casefold() in wanted:
                count += 1
        return count

    return count_in


def _build_length(params: Mapping[str, Any]) -> DeriveFn:
    list_name = signal_name(params, "list")

    def length(signals: Mapping[str, Any], as_of: date) -> int | None:
        items = signals.get(list_name)
        if items is None:
            return None
        if isinstance(items, LIST_TYPES):
            return len(items)
        return 1

    return length


def _build_growth_rate(params: Mapping[str, Any]) -> DeriveFn:
    series = signal_name(params, "series")

    def growth_rate(signals: Mapping[str, Any], as_of: date) -> float | None:
        values = signals.get(series)
        if not isinstance(values, LIST_TYPES):
            return None
        return last_growth_rate(values)

    return growth_rate


def _build_consecutive_growth_at_or_above(params: Mapping[str, Any]) -> DeriveFn:
    series = signal_name(params, "series")
    floor = growth_floor(number_param(params, "rate"))

    def consecutive_growth_at_or_above(signals: Mapping[str, Any], as_of: date) -> int | None:
        values = signals.get(series)
        if not isinstance(values, LIST_TYPES) or len(values) < 2:
            return None
        run = 0
        for index in range(len(values) - 1, 0, -1):
            previous = values[index - 1]
            if not previous or values[index] / previous - 1 < floor:
                break
            run += 1
        return run

    return consecutive_growth_at_or_above


def _build_projected_days_to_limit(params: Mapping[str, Any]) -> DeriveFn:
    series = signal_name(params, "series")
    limit_name = signal_name(params, "limit")
    cycle_days = whole_number(params, "cycle_days", minimum=1)
    window = whole_number(params, "window", minimum=2)

    def projected_days_to_limit(signals: Mapping[str, Any], as_of: date) -> float | None:
        values = signals.get(series)
        limit = signals.get(limit_name)
        if isinstance(limit, LIST_TYPES):
            limit = limit[-1] if limit else None
        if values is None or limit is None:
            return None
        if not isinstance(values, LIST_TYPES):
            values = (values,)
        cycles = projected_cycles_to_limit(values, limit, window)
        if cycles is None:
            return None
        return cycles * cycle_days

    return projected_days_to_limit


def _build_lifecycle_stage(params: Mapping[str, Any]) -> DeriveFn:
    since_name = signal_name(params, "customer_since")
    trend_name = signal_name(params, "engagement_trend")
    onboarding_days = whole_number(params, "onboarding_days", minimum=0)
    growth_days = whole_number(params, "growth_days", minimum=0)
    if growth_days < onboarding_days:
        raise ValueError(
            f"parameter 'growth_days' ({growth_days}) must not be less than "
            f"'onboarding_days' ({onboarding_days})"
        )

    def lifecycle_stage(signals: Mapping[str, Any], as_of: date) -> str | None:
        trend = signals.get(trend_name)
        if trend is not None and str(trend).strip().casefold() == "declining":
            return "at_risk"
        since = signals.get(since_name)
        if not isinstance(since, date):
            return None
        age = (as_of - since).days
        if age < 0:
            # The relationship has not started yet: no stage can be named.
            return None
        if age <= onboarding_days:
            return "onboarding"
        if age <= growth_days:
            return "growth"
        return "maturity"

    return lifecycle_stage


def _lifecycle_stage_changes(params: Mapping[str, Any], signals: Mapping[str, Any]
                             ) -> list[date]:
    """The stage moves on the first day, and the day after each stage's last."""
    since = signals.get(signal_name(params, "customer_since"))
    if not isinstance(since, date):
        return []
    return [since + timedelta(days=days) for days in (
        0, whole_number(params, "onboarding_days", minimum=0) + 1,
        whole_number(params, "growth_days", minimum=0) + 1)]


DERIVATIONS: tuple[Derivation, ...] = (
    derivation(
        "latest",
        "The current (newest) value of a per-cycle series, e.g. this cycle's active seats.",
        "number",
        _build_latest,
        {"series": signal_param("The per-cycle series to read, oldest first.")},
    ),
    derivation(
        "first_of_window",
        "The value at the start of the last N billing cycles, to compare with the current "
        "one (if there is less history, the oldest value).",
        "number",
        _build_first_of_window,
        {
            "series": signal_param("The per-cycle series to read, oldest first."),
            "cycles": ParamSpec(
                "integer", default=3, description="How many cycles the window covers (1 = now)."
            ),
        },
    ),
    derivation(
        "utilization",
        "Each cycle's value as a fraction of a limit (0.85 = 85% of the limit).",
        "number_list",
        _build_utilization,
        {
            "series": signal_param("The per-cycle usage to compare.", "usage_history"),
            "limit": signal_param("The limit it is compared with.", "usage_limit"),
        },
    ),
    derivation(
        "ratio",
        "One signal divided by another (the current value when the first is a series); "
        "unknown when the divisor is 0.",
        "number",
        _build_ratio,
        {
            "numerator": signal_param("The signal on top of the fraction."),
            "denominator": signal_param("The signal it is divided by."),
        },
    ),
    derivation(
        "consecutive_at_or_above",
        "How many of the most recent cycles in a row are at or above a threshold, "
        "e.g. cycles in a row above 70% of the usage limit.",
        "integer",
        _build_consecutive_at_or_above,
        {
            "series": signal_param("The per-cycle series to check, oldest first."),
            "threshold": ParamSpec(
                "number", required=True, description="The value each cycle must reach."
            ),
        },
    ),
    derivation(
        "count_within_days",
        "How many of the listed dates fall within the last N days up to the evaluation "
        "date; future dates are not counted.",
        "integer",
        _build_count_within_days,
        {
            "dates": signal_param("The list of dates to count.", "gated_feature_attempts"),
            "days": ParamSpec("integer", required=True, description="How many days back to look."),
        },
        _count_within_days_changes,
    ),
    derivation(
        "days_until",
        "Days from the evaluation date to a date; negative once the date has passed.",
        "integer",
        _build_days_until,
        {"date": signal_param("The date to count down to.", "renewal_date")},
        "days_until",
    ),
    derivation(
        "days_since",
        "Days from a date to the evaluation date; negative while the date is in the future.",
        "integer",
        _build_days_since,
        {"date": signal_param("The date to count from.")},
        "days_since",
    ),
    derivation(
        "date_after",
        "The date a number of days after another, e.g. the first day after onboarding "
        "(customer_since plus 31 days), for a window that names the day a block clears.",
        "date",
        _build_date_after,
        {
            "date": signal_param("The date to count from."),
            "days": ParamSpec("integer", required=True, description="How many days after."),
        },
    ),
    derivation(
        "difference",
        "One signal minus another (current values when they are series), "
        "e.g. departments now minus departments at purchase.",
        "number",
        _build_difference,
        {
            "a": signal_param("The signal to subtract from."),
            "b": signal_param("The signal to subtract."),
        },
    ),
    derivation(
        "max_of",
        "The largest of several signals, ignoring the missing ones (a series counts with "
        "its current value); unknown only when all are missing.",
        "number",
        _build_max_of,
        {
            "signals": ParamSpec("signals", required=True, description="The signals to compare."),
        },
    ),
    derivation(
        "count_in",
        "How many items of a list are among the given values, ignoring letter case, "
        "e.g. open tickets that are P1 or P2. An empty list gives 0.",
        "integer",
        _build_count_in,
        {
            "list": signal_param("The list to look through.", "open_ticket_priorities"),
            "values": ParamSpec(
                "string",
                default="P1,P2",
                description="The values to count, separated by commas, e.g. P1,P2.",
            ),
        },
    ),
    derivation(
        "length",
        "How many items a list holds, e.g. how many add-ons the customer asked for.",
        "integer",
        _build_length,
        {"list": signal_param("The list to count.")},
    ),
    derivation(
        "growth_rate",
        "Growth of the current cycle over the previous one (0.2 = +20%); unknown with "
        "fewer than two cycles or when the previous cycle was 0.",
        "number",
        _build_growth_rate,
        {"series": signal_param("The per-cycle series, oldest first.", "usage_history")},
    ),
    derivation(
        "consecutive_growth_at_or_above",
        "How many of the most recent cycles in a row grew by at least a rate over the "
        "cycle before, e.g. months in a row of 20%+ usage growth.",
        "integer",
        _build_consecutive_growth_at_or_above,
        {
            "series": signal_param("The per-cycle series, oldest first.", "usage_history"),
            "rate": ParamSpec(
                "number",
                required=True,
                description="The growth each cycle must reach (0.2 = +20% over the cycle before).",
            ),
        },
    ),
    derivation(
        "projected_days_to_limit",
        "Days until the series reaches the limit if it keeps its recent pace (a straight "
        "line through the last few cycles): 0 when already there, unknown when flat or "
        "falling.",
        "number",
        _build_projected_days_to_limit,
        {
            "series": signal_param("The per-cycle series, oldest first.", "usage_history"),
            "limit": signal_param("The limit it is heading for.", "usage_limit"),
            "cycle_days": ParamSpec(
                "integer", default=30, description="Days in one billing cycle."
            ),
            "window": ParamSpec(
                "integer",
                default=3,
                description="How many recent cycles set the pace (at least 2).",
            ),
        },
    ),
    derivation(
        "lifecycle_stage",
        "Where the account is in its life: at_risk (engagement declining), onboarding, "
        "growth or maturity, by days since it became a customer.",
        "string",
        _build_lifecycle_stage,
        {
            "customer_since": signal_param("When the relationship started.", "customer_since"),
            "engagement_trend": signal_param(
                "The engagement direction; 'declining' means at risk.", "engagement_trend"
            ),
            "onboarding_days": ParamSpec(
                "integer", default=30, description="Days after the start that count as onboarding."
            ),
            "growth_days": ParamSpec(
                "integer",
                default=180,
                description="Days after the start that still count as growth; maturity after.",
            ),
        },
        _lifecycle_stage_changes,
    ),
)
