"""The bundled derivations and the series helpers they share."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import upsell_rules_signals
from upsell_rules.plugin import hookspecs
from upsell_rules.plugin.series import (
    as_date,
    as_date_list,
    as_number,
    as_number_list,
    as_string_list,
    cycles_to_days,
    format_count,
    format_number,
    format_percent,
    growth_rates,
    last_growth_rate,
    least_squares_slope,
    projected_cycles_to_limit,
    trailing_run,
    window_start,
)
from upsell_rules.plugin.types import Derivation, DeriveFn

AS_OF = date(2026, 3, 15)
BY_NAME: dict[str, Derivation] = {d.name: d for d in upsell_rules_signals.DERIVATIONS}


def build(name: str, **params: Any) -> DeriveFn:
    return BY_NAME[name].build(params)


def run(name: str, signals: Mapping[str, Any], as_of: date = AS_OF, /, **params: Any) -> Any:
    return build(name, **params)(signals, as_of)


# --- registration and metadata --------------------------------------------------------


def test_hook_registers_every_derivation() -> None:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(upsell_rules_signals)
    found: list[Derivation] = []
    manager.hook.upsell_rules_derivations(register=found.append)
    assert sorted(d.name for d in found) == sorted(
        [
            "latest",
            "first_of_window",
            "utilization",
            "ratio",
            "consecutive_at_or_above",
            "count_within_days",
            "days_until",
            "days_since",
            "date_after",
            "difference",
            "max_of",
            "count_in",
            "length",
            "growth_rate",
            "consecutive_growth_at_or_above",
            "projected_days_to_limit",
            "lifecycle_stage",
            "consecutive_above",
            "ahead",
            "text_if",
            "titled",
        ]
    )


@pytest.mark.parametrize(
    "derivation",
    (*upsell_rules_signals.DERIVATIONS, *upsell_rules_signals.READINGS),
    ids=lambda d: d.name,
)
def test_every_derivation_and_param_is_documented(derivation: Derivation) -> None:
    assert derivation.description
    for name, spec in derivation.params.items():
        assert spec.description, name
        # A parameter is either required or has a default, never both nor neither.
        assert spec.required is (spec.default is None), name


def test_reads_uses_contract_defaults() -> None:
    assert BY_NAME["lifecycle_stage"].reads({}) == ("customer_since", "engagement_trend")
    assert BY_NAME["projected_days_to_limit"].reads({"limit": "seats_licensed"}) == (
        "usage_history",
        "seats_licensed",
    )
    assert BY_NAME["max_of"].reads({"signals": ["a", "b"]}) == ("a", "b")
    assert BY_NAME["days_until"].reads({}) == ("renewal_date",)
    assert BY_NAME["count_within_days"].reads({"days": 14}) == ("gated_feature_attempts",)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("latest", {}, "parameter 'series' must name a signal"),
        ("first_of_window", {"series": "s", "cycles": 0}, "'cycles' must be at least 1"),
        ("first_of_window", {"series": "s", "cycles": "3"}, "'cycles' must be a whole number"),
        ("consecutive_at_or_above", {"series": "s"}, "'threshold' must be a number"),
        ("consecutive_at_or_above", {"series": "s", "threshold": True}, "must be a number"),
        ("count_within_days", {"days": -1}, "'days' must be at least 0"),
        ("count_within_days", {"days": 1.5}, "'days' must be a whole number"),
        ("max_of", {"signals": []}, "'signals' must be a list of signal names"),
        ("max_of", {"signals": ["a", " "]}, "empty signal name"),
        ("count_in", {"values": " , "}, "'values' lists no values"),
        ("count_in", {"values": 3}, "comma-separated list"),
        ("projected_days_to_limit", {"window": 1}, "'window' must be at least 2"),
        ("projected_days_to_limit", {"cycle_days": 0}, "'cycle_days' must be at least 1"),
        ("lifecycle_stage", {"growth_days": 10}, "'growth_days' (10) must not be less"),
    ],
)
def test_bad_parameters_fail_at_build_time(name: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BY_NAME[name].build(params)


def test_whole_float_is_accepted_for_integer_params() -> None:
    assert run("first_of_window", {"s": [1, 2, 3]}, series="s", cycles=2.0) == 2


# --- one derivation at a time -------------------------------------------------------


def test_latest() -> None:
    assert run("latest", {"s": [3, 5, 8]}, series="s") == 8
    assert run("latest", {"s": []}, series="s") is None
    assert run("latest", {}, series="s") is None
    assert run("latest", {"s": None}, series="s") is None
    assert run("latest", {"s": 4.5}, series="s") == 4.5


def test_first_of_window() -> None:
    history = {"s": [10, 14, 18, 23]}
    assert run("first_of_window", history, series="s") == 14
    assert run("first_of_window", history, series="s", cycles=1) == 23
    assert run("first_of_window", history, series="s", cycles=4) == 10
    assert run("first_of_window", history, series="s", cycles=9) == 10
    assert run("first_of_window", {"s": []}, series="s") is None
    assert run("first_of_window", {}, series="s") is None
    assert run("first_of_window", {"s": 7}, series="s") == 7


def test_utilization() -> None:
    signals = {"usage_history": [50.0, 80.0, 100.0], "usage_limit": 100.0}
    assert run("utilization", signals) == [0.5, 0.8, 1.0]
    seats = {"seats_active_history": [20, 23], "seats_licensed": 25}
    assert run("utilization", seats, series="seats_active_history", limit="seats_licensed") == [
        0.8,
        0.92,
    ]
    assert run("utilization", {"usage_history": [1.0], "usage_limit": 0}) is None
    assert run("utilization", {"usage_history": [1.0]}) is None
    assert run("utilization", {"usage_limit": 10}) is None
    assert run("utilization", {"usage_history": 5, "usage_limit": 10}) == [0.5]


def test_ratio() -> None:
    assert run("ratio", {"a": 23, "b": 25}, numerator="a", denominator="b") == 0.92
    assert run("ratio", {"a": [10, 23], "b": 25}, numerator="a", denominator="b") == 0.92
    assert run("ratio", {"a": 1, "b": 0}, numerator="a", denominator="b") is None
    assert run("ratio", {"b": 2}, numerator="a", denominator="b") is None
    assert run("ratio", {"a": 2}, numerator="a", denominator="b") is None
    assert run("ratio", {"a": [], "b": 2}, numerator="a", denominator="b") is None
    assert run("ratio", {"a": 0, "b": 2}, numerator="a", denominator="b") == 0


def test_consecutive_at_or_above() -> None:
    params = {"series": "u", "threshold": 0.7}
    assert run("consecutive_at_or_above", {"u": [0.9, 0.5, 0.7, 0.85]}, **params) == 2
    assert run("consecutive_at_or_above", {"u": [0.9, 0.95]}, **params) == 2
    assert run("consecutive_at_or_above", {"u": [0.9, 0.2]}, **params) == 0
    assert run("consecutive_at_or_above", {"u": []}, **params) == 0
    assert run("consecutive_at_or_above", {}, **params) is None
    assert run("consecutive_at_or_above", {"u": 0.8}, **params) == 1


def test_count_within_days() -> None:
    attempts = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 10), date(2026, 3, 15)]
    signals = {"gated_feature_attempts": [*attempts, date(2026, 3, 16)]}
    # 14 days back from 2026-03-15 is 2026-03-01, inclusive; the future date never counts.
    assert run("count_within_days", signals, days=14) == 4
    assert run("count_within_days", signals, days=13) == 3
    assert run("count_within_days", signals, days=0) == 1
    assert run("count_within_days", {"gated_feature_attempts": []}, days=14) == 0
    assert run("count_within_days", {}, days=14) is None
    assert run("count_within_days", {"d": date(2026, 3, 1)}, dates="d", days=30) == 1


def test_days_until_and_days_since() -> None:
    signals = {"renewal_date": date(2026, 5, 14), "customer_since": date(2026, 3, 20)}
    assert run("days_until", signals) == 60
    assert run("days_until", {"renewal_date": date(2026, 3, 5)}) == -10
    assert run("days_until", {}) is None
    assert run("days_until", {"renewal_date": "2026-05-14"}) is None
    assert run("days_since", {"x": date(2026, 3, 1)}, date="x") == 14
    assert run("days_since", signals, date="customer_since") == -5
    assert run("days_since", {}, date="x") is None


def test_date_after() -> None:
    assert run("date_after", {"x": date(2026, 10, 20)}, date="x", days=31) == date(2026, 11, 20)
    assert run("date_after", {"x": date(2026, 10, 20)}, date="x", days=0) == date(2026, 10, 20)
    assert run("date_after", {}, date="x", days=31) is None
    # No date is 31 days after the last days a date can hold: missing, not a failure.
    assert run("date_after", {"x": date(9999, 12, 1)}, date="x", days=31) is None
    assert run("date_after", {"x": date(9999, 11, 30)}, date="x", days=31) == date.max


def test_a_day_count_beyond_the_calendar_is_refused_where_it_is_given() -> None:
    from upsell_rules_signals.params import MAX_DAYS, day_count

    assert MAX_DAYS == 3652058
    assert day_count({"days": MAX_DAYS}, "days") == MAX_DAYS
    for wrong in (MAX_DAYS + 1, 10**9, 10**20):
        with pytest.raises(ValueError, match="must be at most 3652058"):
            day_count({"days": wrong}, "days")


def test_windows_as_long_as_the_calendar_count_instead_of_failing() -> None:
    dates = {"d": [date(1, 1, 1), date(2026, 3, 1), date(9999, 12, 31)]}
    assert run("count_within_days", dates, dates="d", days=3652058) == 2
    assert run("date_after", {"x": date(1, 1, 1)}, date="x", days=3652058) == date.max


def test_difference() -> None:
    params = {"a": "departments_active", "b": "departments_at_purchase"}
    assert run("difference", {"departments_active": 4, "departments_at_purchase": 1}, **params) == 3
    assert (
        run("difference", {"departments_active": 1, "departments_at_purchase": 4}, **params) == -3
    )
    assert run("difference", {"departments_active": 4}, **params) is None
    assert run("difference", {"departments_at_purchase": 4}, **params) is None
    assert (
        run("difference", {"departments_active": [1, 6], "departments_at_purchase": 2}, **params)
        == 4
    )


def test_max_of() -> None:
    params = {"signals": ["a", "b", "c"]}
    assert run("max_of", {"a": 0.5, "b": 0.93, "c": 0.7}, **params) == 0.93
    assert run("max_of", {"a": 0.5, "c": None}, **params) == 0.5
    assert run("max_of", {"a": [0.99, 0.2], "b": 0.3}, **params) == 0.3
    assert run("max_of", {"a": [], "b": -1}, **params) == -1
    assert run("max_of", {}, **params) is None


def test_count_in() -> None:
    assert run("count_in", {"open_ticket_priorities": ["P1", "p2", "P3", " P2 "]}) == 3
    assert run("count_in", {"open_ticket_priorities": []}) == 0
    assert run("count_in", {}) is None
    assert run("count_in", {"open_ticket_priorities": ["P3"]}) == 0
    gaps = {"named_gaps": ["SSO", "audit_log", "sandbox"]}
    assert run("count_in", gaps, list="named_gaps", values="sso, Audit_Log") == 2
    assert run("count_in", gaps, list="named_gaps", values=["sandbox"]) == 1
    assert run("count_in", {"t": "P1"}, list="t") == 1


def test_length() -> None:
    assert run("length", {"named_gaps": ["sso", "audit_log"]}, list="named_gaps") == 2
    assert run("length", {"named_gaps": []}, list="named_gaps") == 0
    assert run("length", {}, list="named_gaps") is None
    assert run("length", {"named_gaps": "sso"}, list="named_gaps") == 1


def test_growth_rate() -> None:
    assert run("growth_rate", {"usage_history": [100.0, 125.0]}) == pytest.approx(0.25)
    assert run("growth_rate", {"usage_history": [100.0, 80.0]}) == pytest.approx(-0.2)
    assert run("growth_rate", {"usage_history": [0.0, 80.0]}) is None
    assert run("growth_rate", {"usage_history": [80.0]}) is None
    assert run("growth_rate", {}) is None
    assert run("growth_rate", {"s": [1, 2]}, series="s") == 1.0


def test_consecutive_growth_at_or_above() -> None:
    signals = {"usage_history": [100.0, 90.0, 110.0, 135.0, 170.0]}
    assert run("consecutive_growth_at_or_above", signals, rate=0.2) == 3
    assert run("consecutive_growth_at_or_above", signals, rate=0.5) == 0
    assert run("consecutive_growth_at_or_above", signals, rate=-0.2) == 4
    assert run("consecutive_growth_at_or_above", {"usage_history": [0, 5, 10]}, rate=0.2) == 1
    assert run("consecutive_growth_at_or_above", {"usage_history": [5]}, rate=0.2) is None
    assert run("consecutive_growth_at_or_above", {}, rate=0.2) is None


def test_projected_days_to_limit() -> None:
    rising = {"usage_history": [60_000.0, 70_000.0, 80_000.0], "usage_limit": 100_000.0}
    assert run("projected_days_to_limit", rising) == pytest.approx(60.0)
    assert run("projected_days_to_limit", rising, cycle_days=7) == pytest.approx(14.0)
    at_limit = {"usage_history": [90.0, 100.0], "usage_limit": 100.0}
    assert run("projected_days_to_limit", at_limit) == 0
    flat = {"usage_history": [80.0, 80.0, 80.0], "usage_limit": 100.0}
    assert run("projected_days_to_limit", flat) is None
    falling = {"usage_history": [90.0, 85.0, 80.0], "usage_limit": 100.0}
    assert run("projected_days_to_limit", falling) is None
    assert run("projected_days_to_limit", {"usage_history": [80.0], "usage_limit": 100.0}) is None
    assert run("projected_days_to_limit", {"usage_history": [80.0, 90.0]}) is None
    assert run("projected_days_to_limit", {"usage_limit": 100.0}) is None
    seats = {"seats_active_history": [14, 18, 23], "seats_licensed": 25}
    days = run(
        "projected_days_to_limit", seats, series="seats_active_history", limit="seats_licensed"
    )
    assert days == pytest.approx((25 - 23) / 4.5 * 30)
    # The window decides how much history sets the pace: old growth is forgotten.
    history = {"usage_history": [10.0, 50.0, 90.0, 90.0, 91.0], "usage_limit": 100.0}
    assert run("projected_days_to_limit", history, window=2) == pytest.approx(9 * 30)
    assert run("projected_days_to_limit", history, window=5) is not None


@pytest.mark.parametrize(
    ("signals", "stage"),
    [
        ({"customer_since": date(2026, 3, 1)}, "onboarding"),
        ({"customer_since": date(2026, 2, 13)}, "onboarding"),  # day 30
        ({"customer_since": date(2026, 2, 12)}, "growth"),  # day 31
        ({"customer_since": date(2025, 9, 16)}, "growth"),  # day 180
        ({"customer_since": date(2025, 9, 15)}, "maturity"),  # day 181
        ({"customer_since": date(2026, 3, 15)}, "onboarding"),  # day 0
        ({"customer_since": date(2026, 3, 16)}, None),  # starts tomorrow
        ({"customer_since": date(2020, 1, 1), "engagement_trend": "Declining "}, "at_risk"),
        ({"customer_since": date(2026, 3, 1), "engagement_trend": "declining"}, "at_risk"),
        ({"engagement_trend": "DECLINING"}, "at_risk"),
        ({"engagement_trend": "stable"}, None),
        ({"customer_since": date(2020, 1, 1), "engagement_trend": "rising"}, "maturity"),
        ({}, None),
    ],
)
def test_lifecycle_stage(signals: dict[str, Any], stage: str | None) -> None:
    assert run("lifecycle_stage", signals) == stage


def test_lifecycle_stage_custom_windows() -> None:
    signals = {"customer_since": date(2026, 2, 13)}
    assert run("lifecycle_stage", signals, onboarding_days=60, growth_days=90) == "onboarding"
    assert run("lifecycle_stage", signals, onboarding_days=10, growth_days=20) == "maturity"


# --- series helpers -----------------------------------------------------------------


def test_series_helpers_examples() -> None:
    assert trailing_run([9, 3, 8, 9], lambda v: v >= 8) == 2
    assert growth_rates([100.0, 0.0, 50.0, 75.0]) == [-1.0, None, 0.5]
    assert growth_rates([5.0]) == []
    assert last_growth_rate([0.0, 4.0]) is None
    assert least_squares_slope([1.0]) is None
    assert least_squares_slope([1.0, 3.0, 5.0]) == 2.0
    assert projected_cycles_to_limit([], 10) is None
    assert projected_cycles_to_limit([12.0], 10) == 0.0
    assert projected_cycles_to_limit([5.0], 10) is None
    assert projected_cycles_to_limit([2.0, 4.0, 6.0], 10) == 2.0
    with pytest.raises(ValueError, match="window"):
        projected_cycles_to_limit([1.0, 2.0], 10, window=1)
    assert window_start([1, 2, 3], 2) == 2
    assert window_start([], 2) is None
    with pytest.raises(ValueError, match="cycles"):
        window_start([1], 0)


def test_tolerant_readers() -> None:
    assert as_number("  42.5 ") == 42.5
    assert as_number(True) is None
    assert as_number("abc") is None
    assert as_number([1]) is None
    assert as_number_list("14|18| 23") == [14.0, 18.0, 23.0]
    assert as_number_list([1, "2"]) == [1.0, 2.0]
    assert as_number_list("1|x") is None
    assert as_number_list(5) is None
    assert as_string_list("sso| audit_log||") == ["sso", "audit_log"]
    assert as_string_list(["a", " "]) == ["a"]
    assert as_string_list(None) is None
    assert as_date("2026-01-20") == date(2026, 1, 20)
    assert as_date("20/01/2026") is None
    assert as_date(None) is None
    assert as_date_list("2026-01-01|2026-01-02") == [date(2026, 1, 1), date(2026, 1, 2)]
    assert as_date_list(["2026-01-01", "nope"]) is None
    assert as_date_list(3) is None


def test_formatting() -> None:
    assert format_number(100_000.0) == "100,000"
    assert format_number(0.5) == "0.5"
    assert format_number(1234.567) == "1,234.57"
    assert format_number(math.inf) == "inf"
    assert format_count(1, "cycle") == "1 cycle"
    assert format_count(2, "cycle") == "2 cycles"
    assert format_count(0, "day") == "0 days"
    assert format_percent(0.923) == "92%"
    assert format_percent(math.inf) == "inf%"
    assert cycles_to_days(0.0) == 0
    assert cycles_to_days(0.001) == 1
    assert cycles_to_days(2.0, 7) == 14
    assert cycles_to_days(1e308) is None


# --- properties ---------------------------------------------------------------------

_numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
_series = st.lists(_numbers, max_size=12)
_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@given(values=_series, threshold=_numbers)
def test_trailing_run_is_bounded_and_exact(values: list[float], threshold: float) -> None:
    count = trailing_run(values, lambda v: v >= threshold)
    assert 0 <= count <= len(values)
    assert all(v >= threshold for v in values[len(values) - count :])
    if count < len(values):
        assert values[-count - 1] < threshold


@given(values=_series, threshold=_numbers)
def test_consecutive_at_or_above_matches_trailing_run(
    values: list[float], threshold: float
) -> None:
    derived = run("consecutive_at_or_above", {"s": values}, series="s", threshold=threshold)
    assert derived == trailing_run(values, lambda v: v >= threshold)


@given(values=_series, rate=st.floats(min_value=-1, max_value=2))
def test_consecutive_growth_matches_growth_rates(values: list[float], rate: float) -> None:
    derived = run("consecutive_growth_at_or_above", {"usage_history": values}, rate=rate)
    if len(values) < 2:
        assert derived is None
    else:
        rates = growth_rates(values)
        assert len(rates) == len(values) - 1
        assert derived == trailing_run(rates, lambda r: r is not None and r >= rate)


@given(dates=st.lists(_dates, max_size=10), as_of=_dates, days=st.integers(0, 400))
def test_count_within_days_is_monotone_in_days(dates: list[date], as_of: date, days: int) -> None:
    signals = {"gated_feature_attempts": dates}
    fewer = run("count_within_days", signals, as_of, days=days)
    more = run("count_within_days", signals, as_of, days=days + 1)
    assert 0 <= fewer <= more <= len(dates)
    assert fewer == sum(1 for d in dates if 0 <= (as_of - d).days <= days)


@given(start=_dates, as_of=_dates)
def test_days_until_and_since_are_opposites(start: date, as_of: date) -> None:
    until = run("days_until", {"d": start}, as_of, date="d")
    since = run("days_since", {"d": start}, as_of, date="d")
    assert until == -since
    assert as_of + timedelta(days=until) == start


@given(
    values=st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=8),
    limit=st.floats(min_value=1, max_value=2e6),
    window=st.integers(2, 6),
)
def test_projection_is_never_negative_and_lands_on_the_limit(
    values: list[float], limit: float, window: int
) -> None:
    cycles = projected_cycles_to_limit(values, limit, window)
    if values[-1] >= limit:
        assert cycles == 0.0
    elif cycles is not None:
        assert cycles > 0
        slope = least_squares_slope(values[-window:])
        assert slope is not None and slope > 0
        assert values[-1] + slope * cycles == pytest.approx(limit, rel=1e-6)


@given(
    values=st.lists(st.one_of(st.none(), _numbers), max_size=5),
)
def test_max_of_ignores_missing_and_takes_the_largest(values: list[float | None]) -> None:
    names = [f"s{index}" for index in range(len(values))] or ["s0"]
    signals = {f"s{index}": value for index, value in enumerate(values)}
    present = [v for v in values if v is not None]
    expected = max(present) if present else None
    assert run("max_of", signals, signals=names) == expected


@given(
    start=_numbers,
    step=st.floats(min_value=-1e4, max_value=1e4),
    count=st.integers(2, 12),
)
def test_slope_of_a_straight_line_is_its_step(start: float, step: float, count: int) -> None:
    line = [start + step * index for index in range(count)]
    slope = least_squares_slope(line)
    assert slope == pytest.approx(step, abs=1e-6 * (1 + abs(start)))
    assert least_squares_slope([start] * count) == 0.0
