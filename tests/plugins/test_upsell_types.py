"""The seat, plan, add-on and anniversary upsell types and their one-line summaries."""

from __future__ import annotations

from datetime import date
from types import ModuleType
from typing import Any

import pluggy
import pytest
from hypothesis import given
from hypothesis import strategies as st

import upsell_rules_addon
import upsell_rules_anniversary
import upsell_rules_plan
import upsell_rules_seat
from upsell_rules.plugin import hookspecs
from upsell_rules.plugin.types import UpsellType
from upsell_rules_addon import describe_addon
from upsell_rules_anniversary import describe_anniversary
from upsell_rules_plan import describe_plan
from upsell_rules_seat import describe_seat

AS_OF = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("module", "name", "frame", "window"),
    [
        (upsell_rules_seat, "seat", "growth continuity", "immediately, before users are blocked"),
        (
            upsell_rules_plan,
            "plan",
            "workflow validation / capability completion",
            "within 1-3 business days",
        ),
        (upsell_rules_addon, "addon", "gap resolution", "within 48-72 hours of the request"),
        (
            upsell_rules_anniversary,
            "anniversary",
            "value review",
            "75-90 days before renewal",
        ),
    ],
)
def test_each_plugin_registers_its_type(
    module: ModuleType, name: str, frame: str, window: str
) -> None:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(module)
    found: list[UpsellType] = []
    manager.hook.upsell_rules_upsell_types(register=found.append)
    assert len(found) == 1
    upsell = found[0]
    assert (upsell.name, upsell.frame, upsell.default_window) == (name, frame, window)
    assert upsell.title and upsell.description
    assert upsell.describe is not None
    assert upsell.describe({}) is None


# --- seat -----------------------------------------------------------------------------


def test_seat_summary_with_trend_share_and_projection() -> None:
    signals = {"seats_active_history": [10, 14, 18, 23], "seats_licensed": 25}
    # Last three cycles rise 4.5 seats per cycle; 2 seats left is 0.44 cycles, ~13 days.
    assert describe_seat(signals) == (
        "14 -> 23 active seats over the last 3 cycles (92% of 25 licensed); "
        "at this pace the ceiling is ~13 days away"
    )


def test_seat_summary_reads_raw_text_values() -> None:
    signals = {"seats_active_history": "14|18|20", "seats_licensed": "40"}
    assert describe_seat(signals) == (
        "14 -> 20 active seats over the last 3 cycles (50% of 40 licensed); "
        "at this pace the ceiling is ~200 days away"
    )


@pytest.mark.parametrize(
    ("signals", "summary"),
    [
        (
            {"seats_active_history": [23], "seats_licensed": 25},
            "23 active seats (92% of 25 licensed)",
        ),
        (
            {"seats_active_history": [25, 25], "seats_licensed": 25},
            "25 -> 25 active seats over the last 2 cycles (100% of 25 licensed); "
            "the seat ceiling is reached",
        ),
        (
            {"seats_active_history": [20, 27], "seats_licensed": 25},
            "20 -> 27 active seats over the last 2 cycles (108% of 25 licensed); "
            "already 2 over the licensed seats",
        ),
        (
            {"seats_active_history": [22, 21, 20], "seats_licensed": 25},
            "22 -> 20 active seats over the last 3 cycles (80% of 25 licensed)",
        ),
        ({"seats_active_history": [20]}, None),
        ({"seats_licensed": 25}, None),
        ({"seats_active_history": [], "seats_licensed": 25}, None),
        ({"seats_active_history": [20], "seats_licensed": 0}, None),
        ({"seats_active_history": "a|b", "seats_licensed": 25}, None),
    ],
)
def test_seat_summary_edges(signals: dict[str, Any], summary: str | None) -> None:
    assert describe_seat(signals) == summary


# --- plan -----------------------------------------------------------------------------


def test_plan_summary_usage_share_run_and_ceiling() -> None:
    signals = {"usage_history": [62_000, 71_000, 78_000], "usage_limit": 100_000}
    assert describe_plan(signals) == (
        "usage at 78% of the 100,000 limit, above 70% for 2 cycles; ceiling in ~82 days"
    )


def test_plan_summary_mentions_fast_growth_and_recent_attempts() -> None:
    signals = {
        "usage_history": [50_000, 62_000, 78_000],
        "usage_limit": 100_000,
        "gated_feature_attempts": [
            date(2026, 1, 1),
            date(2026, 3, 1),
            date(2026, 3, 10),
            date(2026, 3, 14),
            date(2026, 3, 20),
        ],
        "_as_of": AS_OF,
    }
    assert describe_plan(signals) == (
        "usage at 78% of the 100,000 limit, above 70% for 1 cycle, up 26% on the previous "
        "cycle; ceiling in ~47 days; 3 gated-feature attempts in the last 14 days"
    )


def test_plan_summary_attempts_only() -> None:
    attempts = {"gated_feature_attempts": [date(2026, 3, 9), date(2026, 3, 12)]}
    assert describe_plan({**attempts, "_as_of": AS_OF}) == (
        "2 gated-feature attempts in the last 14 days"
    )
    assert describe_plan({**attempts, "_as_of": "2026-03-15"}) == (
        "2 gated-feature attempts in the last 14 days"
    )
    # Without the evaluation date the window cannot be placed: count what is on record.
    assert describe_plan(attempts) == "2 gated-feature attempts on record"
    assert describe_plan({"gated_feature_attempts": "2026-03-12"}) == (
        "1 gated-feature attempt on record"
    )
    # Only old attempts, nothing else: nothing to say.
    assert describe_plan({"gated_feature_attempts": [date(2025, 1, 1)], "_as_of": AS_OF}) is None


@pytest.mark.parametrize(
    ("signals", "summary"),
    [
        (
            {"usage_history": [40, 50], "usage_limit": 100},
            "usage at 50% of the 100 limit, up 25% on the previous cycle; ceiling in ~150 days",
        ),
        (
            {"usage_history": [100, 110], "usage_limit": 100},
            "usage at 110% of the 100 limit, above 70% for 2 cycles; the limit is reached",
        ),
        (
            {"usage_history": [90, 80], "usage_limit": 100},
            "usage at 80% of the 100 limit, above 70% for 2 cycles",
        ),
        ({"usage_history": [90, 80]}, None),
        ({"usage_limit": 100}, None),
        ({"usage_history": [90, 80], "usage_limit": 0}, None),
    ],
)
def test_plan_summary_edges(signals: dict[str, Any], summary: str | None) -> None:
    assert describe_plan(signals) == summary


# --- add-on ---------------------------------------------------------------------------


def test_addon_summary() -> None:
    assert describe_addon({"named_gaps": ["sso", "audit_log"]}) == "asked for: sso, audit_log"
    assert describe_addon({"named_gaps": "sso| audit_log"}) == "asked for: sso, audit_log"
    named = {"named_gaps": ["sso"], "named_gaps_on": date(2026, 3, 13)}
    assert describe_addon(named) == "asked for: sso (named on 2026-03-13)"
    assert describe_addon({**named, "_as_of": AS_OF}) == (
        "asked for: sso (named on 2026-03-13, 2 days ago)"
    )
    assert describe_addon({**named, "_as_of": date(2026, 3, 13)}) == (
        "asked for: sso (named on 2026-03-13, today)"
    )
    assert describe_addon({**named, "_as_of": date(2026, 3, 14)}) == (
        "asked for: sso (named on 2026-03-13, 1 day ago)"
    )
    assert describe_addon({**named, "_as_of": date(2026, 3, 1)}) == (
        "asked for: sso (named on 2026-03-13)"
    )
    assert describe_addon({"named_gaps": []}) is None
    assert describe_addon({"named_gaps": ["  "]}) is None


# --- anniversary ----------------------------------------------------------------------


def test_anniversary_summary() -> None:
    renewal = {"renewal_date": date(2027, 1, 20)}
    assert describe_anniversary(renewal) == "renewal on 2027-01-20"
    assert describe_anniversary({"renewal_date": "2027-01-20"}) == "renewal on 2027-01-20"
    assert describe_anniversary({**renewal, "_as_of": date(2026, 11, 1)}) == (
        "renewal on 2027-01-20, in 80 days"
    )
    assert describe_anniversary({**renewal, "_as_of": date(2027, 1, 19)}) == (
        "renewal on 2027-01-20, in 1 day"
    )
    assert describe_anniversary({**renewal, "_as_of": date(2027, 1, 20)}) == (
        "renewal on 2027-01-20, today"
    )
    assert describe_anniversary({**renewal, "_as_of": date(2027, 1, 25)}) == (
        "renewal on 2027-01-20, 5 days ago"
    )
    assert describe_anniversary({"renewal_date": "soon"}) is None


# --- property: summaries never crash on odd input -------------------------------------

_odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.dates(),
    st.lists(st.one_of(st.integers(-5, 500), st.floats(0, 1e6), st.text(max_size=4)), max_size=5),
)


@given(
    values=st.dictionaries(
        st.sampled_from(
            [
                "seats_active_history",
                "seats_licensed",
                "usage_history",
                "usage_limit",
                "gated_feature_attempts",
                "named_gaps",
                "named_gaps_on",
                "renewal_date",
                "_as_of",
            ]
        ),
        _odd,
    )
)
def test_summaries_are_a_line_or_none_whatever_the_input(values: dict[str, Any]) -> None:
    for describe in (describe_seat, describe_plan, describe_addon, describe_anniversary):
        summary = describe(values)
        assert summary is None or (summary and "\n" not in summary)
