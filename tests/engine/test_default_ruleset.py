"""The default ruleset decides the domain's worked cases the way the research says.

Every account here starts from one healthy baseline and changes one thing, so each test
reads as "this fact alone moves the decision like so". The evaluation date is fixed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.errors import Location
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.types import RawRecord
from upsell_rules.ruleset.loader import load_ruleset

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
AS_OF = date(2026, 11, 2)


def days_ago(n: int) -> str:
    return (AS_OF - timedelta(days=n)).isoformat()


def days_ahead(n: int) -> str:
    return (AS_OF + timedelta(days=n)).isoformat()


# P = 8 (88% of seats), R = 10 (milestone, health 90, champion 5 days), C = 10 (74 days to
# renewal): (8 x 0.40 + 10 x 0.35 + 10 x 0.25) x 10 = 92.
BASELINE: dict[str, Any] = {
    "account_id": "BASE",
    "account_name": "Baseline Co",
    "owner": "Dana Kim",
    "plan": "Team",
    "arr": 12000,
    "customer_since": "2024-03-01",
    "seats_licensed": 25,
    "seats_active_history": "20|21|22",
    "health_score": 90,
    "success_milestone_on": "2026-05-01",
    "champion_last_engaged_on": days_ago(5),
    "renewal_date": days_ahead(74),
    "last_renewal_date": days_ago(291),
    "departments_active": 1,
    "departments_at_purchase": 1,
}


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator(load_ruleset(str(RULESET)), default_registry())


def account(evaluator: Evaluator, **changes: Any) -> Account:
    values = {**BASELINE, **changes}
    values = {k: v for k, v in values.items() if v is not None}
    types = evaluator.ruleset.input_types()
    reader = AccountReader(evaluator.registry, types)
    (result,) = list(reader.coerce_record(RawRecord(values, Location("test", 1))))
    assert isinstance(result, Account), result
    return result


def decide(evaluator: Evaluator, **changes: Any) -> dict[str, Any]:
    return evaluator.decide(account(evaluator, **changes), AS_OF)


def failed_gates(decision: dict[str, Any]) -> list[str]:
    return [g["id"] for g in decision["gates"] if not g["passed"]]


def flags(decision: dict[str, Any]) -> list[str]:
    return [f["id"] for f in decision["red_flags"]]


# --- score arithmetic -------------------------------------------------------------------


def test_baseline_scores_92_and_is_ready(evaluator: Evaluator) -> None:
    d = decide(evaluator)
    assert d["category_scores"] == {"product": 8, "relationship": 10, "commercial": 10}
    assert d["score"] == 92
    assert d["band"] == "act_now"
    assert d["blocked"] is False
    assert d["capped_at"] is None
    assert failed_gates(d) == [] and flags(d) == []


@pytest.mark.parametrize(
    ("changes", "product"),
    [
        ({"seats_active_history": "20|22|24", "gated_feature_attempts": f"{days_ago(3)}|{days_ago(9)}"}, 10),
        ({"seats_active_history": "20|22|24"}, 8),  # over 90% without a feature ceiling
        ({"seats_active_history": "18|19|20"}, 8),  # exactly 80%
        ({"seats_active_history": "10|11|12", "departments_active": 3}, 8),  # multi-team
        ({"seats_active_history": "10|11|12", "gated_feature_attempts": f"{days_ago(1)}|{days_ago(2)}"}, 5),
        ({"seats_active_history": "10|11|12", "gated_feature_attempts": f"{days_ago(1)}|{days_ago(20)}"}, 0),
        ({"seats_active_history": "10|11|12"}, 0),
        ({"usage_limit": 1000, "usage_history": "700|820|850", "seats_active_history": "5|5|5"}, 8),
    ],
)
def test_product_tiers(evaluator: Evaluator, changes: dict[str, Any], product: int) -> None:
    assert decide(evaluator, **changes)["category_scores"]["product"] == product


@pytest.mark.parametrize(
    ("changes", "relationship"),
    [
        ({}, 10),
        ({"health_score": 86, "champion_last_engaged_on": days_ago(14)}, 10),
        ({"health_score": 85, "champion_last_engaged_on": days_ago(14)}, 8),  # >85 is strict
        ({"health_score": 90, "champion_last_engaged_on": days_ago(20)}, 8),
        ({"health_score": 75, "champion_last_engaged_on": days_ago(30)}, 8),
        ({"health_score": 74, "champion_last_engaged_on": days_ago(5)}, 5),
        ({"health_score": 65}, 5),
        ({"health_score": 64}, 0),
        ({"success_milestone_on": None}, 0),
    ],
)
def test_relationship_tiers(evaluator: Evaluator, changes: dict[str, Any], relationship: int) -> None:
    assert decide(evaluator, **changes)["category_scores"]["relationship"] == relationship


@pytest.mark.parametrize(
    ("changes", "commercial"),
    [
        ({"renewal_date": days_ahead(90)}, 10),
        ({"renewal_date": days_ahead(60)}, 10),
        ({"renewal_date": days_ahead(59)}, 8),
        ({"renewal_date": days_ahead(30)}, 8),
        ({"renewal_date": days_ahead(91), "last_renewal_date": days_ago(274)}, 4),
        ({"renewal_date": days_ahead(200), "funding_announced_on": days_ago(30)}, 10),
        ({"renewal_date": days_ahead(200), "headcount_growth_90d": 0.21}, 10),
        ({"renewal_date": days_ahead(200), "headcount_growth_90d": 0.20}, 4),  # not above 20%
        ({"renewal_date": days_ahead(355), "last_renewal_date": days_ago(10)}, 1),
        ({"renewal_date": None, "last_renewal_date": None}, 0),
    ],
)
def test_commercial_tiers(evaluator: Evaluator, changes: dict[str, Any], commercial: int) -> None:
    assert decide(evaluator, **changes)["category_scores"]["commercial"] == commercial


def test_score_is_the_whole_weighted_sum_times_ten(evaluator: Evaluator) -> None:
    # P=8, R=5, C=4: (3.2 + 1.75 + 1.0) x 10 = 59.5, not 3.2 + 1.75 + 1.0 x 10.
    d = decide(
        evaluator,
        health_score=70,
        renewal_date=days_ahead(200),
        last_renewal_date=days_ago(165),
    )
    assert d["category_scores"] == {"product": 8, "relationship": 5, "commercial": 4}
    assert d["score"] == 59.5
    assert d["band"] == "warming"


# --- band edges --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "score", "band"),
    [
        # P=8 R=8 C=4 -> 70: the act-now threshold is inclusive
        ({"health_score": 80, "renewal_date": days_ahead(200), "last_renewal_date": days_ago(165)}, 70, "act_now"),
        # P=8 R=10 C=1 -> 69.5
        ({"renewal_date": days_ahead(350), "last_renewal_date": days_ago(15),
          "seats_active_history": "20|21|22"}, 69.5, "warming"),
        # P=10 R=0 C=4 -> 50
        ({"success_milestone_on": None, "seats_active_history": "20|22|24",
          "gated_feature_attempts": days_ago(1) + "|" + days_ago(2),
          "renewal_date": days_ahead(200), "last_renewal_date": days_ago(165)}, 50, "warming"),
        # P=8 R=5 C=0 -> 49.5
        ({"health_score": 70, "renewal_date": None, "last_renewal_date": None}, 49.5, "monitor"),
        # P=5 R=0 C=4 -> 30
        ({"success_milestone_on": None, "seats_active_history": "5|5|5",
          "gated_feature_attempts": days_ago(1) + "|" + days_ago(2),
          "renewal_date": days_ahead(200), "last_renewal_date": days_ago(165)}, 30, "monitor"),
        # P=0 R=5 C=4 -> 27.5
        ({"health_score": 70, "seats_active_history": "5|5|5",
          "renewal_date": days_ahead(200), "last_renewal_date": days_ago(165)}, 27.5, "wait"),
    ],
)
def test_band_edges(evaluator: Evaluator, changes: dict[str, Any], score: float, band: str) -> None:
    d = decide(evaluator, **changes)
    assert (d["score"], d["band"]) == (score, band)


# --- gates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "gate", "blocked", "play"),
    [
        ({"health_score": 64}, "health_floor", True, "health_recovery"),
        ({"health_score": None}, "health_floor", True, "health_recovery"),
        ({"health_score": 70}, "health_marginal", False, "health_intervention"),
        ({"success_milestone_on": None}, "success_milestone", True, "milestone_capture"),
        ({"champion_last_engaged_on": days_ago(45)}, "champion_recent", False, "warm_up_touchpoint"),
        ({"champion_last_engaged_on": days_ago(61)}, "champion_not_cold", True, "re_engagement"),
        ({"champion_last_engaged_on": None}, "champion_not_cold", True, "re_engagement"),
    ],
)
def test_gates(
    evaluator: Evaluator, changes: dict[str, Any], gate: str, blocked: bool, play: str
) -> None:
    d = decide(evaluator, **changes)
    assert gate in failed_gates(d)
    assert d["blocked"] is blocked
    if blocked:
        assert d["action"]["play"] == play
    else:
        assert play in d["action"]["prepare"]
        assert d["action"]["play"] == "seat_expansion"
    # The score and band stay visible beside a blocked action.
    assert d["band"] in ("act_now", "warming", "monitor", "wait")


def test_champion_at_exactly_30_and_60_days(evaluator: Evaluator) -> None:
    assert "prepare" not in decide(evaluator, champion_last_engaged_on=days_ago(30))["action"]
    at_60 = decide(evaluator, champion_last_engaged_on=days_ago(60))
    assert at_60["blocked"] is False
    assert at_60["action"]["prepare"] == ["warm_up_touchpoint"]


# --- red flags ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "flag", "play"),
    [
        ({"open_ticket_priorities": "P3|P1"}, "open_p1_p2_ticket", "resolve_ticket"),
        ({"open_ticket_priorities": "p2"}, "open_p1_p2_ticket", "resolve_ticket"),
        ({"nps_score": 6, "nps_responded_on": days_ago(60)}, "nps_detractor", "recovery_sequence"),
        ({"champion_changed_on": days_ago(30)}, "champion_turnover", "new_relationship"),
        ({"competitor_evaluation": "true"}, "competitor_evaluation", "retention_focus"),
        ({"renewal_date": days_ahead(29)}, "renewal_close_only", "renewal_only"),
        ({"last_renewal_date": days_ago(10), "renewal_date": days_ahead(355)},
         "post_renewal_dead_zone", "next_window"),
        ({"customer_since": days_ago(20)}, "onboarding", "onboarding_focus"),
        ({"engagement_trend": "Declining"}, "at_risk", "retention_focus"),
    ],
)
def test_blocking_red_flags(
    evaluator: Evaluator, changes: dict[str, Any], flag: str, play: str
) -> None:
    d = decide(evaluator, **changes)
    assert flag in flags(d)
    assert d["blocked"] is True
    assert d["action"]["play"] == play
    assert flag in d["narrative"]


@pytest.mark.parametrize(
    "changes",
    [
        {"open_ticket_priorities": "P3|P4"},
        {"nps_score": 6, "nps_responded_on": days_ago(61)},
        {"nps_score": 7, "nps_responded_on": days_ago(5)},
        {"champion_changed_on": days_ago(91)},
        {"competitor_evaluation": "false"},
        {"renewal_date": days_ahead(30)},
        {"last_renewal_date": days_ago(31), "renewal_date": days_ahead(334)},
        {"customer_since": days_ago(31)},
        {"engagement_trend": "stable"},
    ],
)
def test_red_flags_just_outside_their_windows(evaluator: Evaluator, changes: dict[str, Any]) -> None:
    d = decide(evaluator, **changes)
    assert [f for f in flags(d) if f != "post_renewal_urgent"] == []
    assert d["blocked"] is False


@pytest.mark.parametrize(("seats", "urgent"), [("23|24|25", True), ("22|23|24", False)])
def test_dead_zone_exception_needs_the_limit_hit(
    evaluator: Evaluator, seats: str, urgent: bool
) -> None:
    # The exception is for an account that hits its limit: 25 of 25 seats, not 24 of 25.
    d = decide(
        evaluator,
        last_renewal_date=days_ago(10),
        renewal_date=days_ahead(355),
        seats_active_history=seats,
        gated_feature_attempts=days_ago(1) + "|" + days_ago(2),
    )
    assert d["band"] == "act_now"  # P=10 (above 90% + ceiling), R=10, C=1 -> 77.5
    assert ("post_renewal_urgent" in flags(d)) is urgent
    assert ("post_renewal_dead_zone" in flags(d)) is not urgent
    assert d["blocked"] is not urgent
    if urgent:
        assert "operational_framing" in d["action"]["prepare"]


@pytest.mark.parametrize(("ago", "capped"), [(0, True), (90, True), (91, True), (365, True), (366, False)])
def test_downgrade_caps_score_at_30_for_a_contract_period(
    evaluator: Evaluator, ago: int, capped: bool
) -> None:
    d = decide(evaluator, downgrade_requested_on=days_ago(ago))
    if capped:
        assert d["capped_at"] == 30
        assert d["score"] == 30 and d["raw_score"] == 92
        assert d["band"] == "monitor"
        assert d["blocked"] is False
    else:
        assert d["capped_at"] is None and d["score"] == 92


def test_blocking_red_flag_play_wins_over_gate_play(evaluator: Evaluator) -> None:
    d = decide(evaluator, engagement_trend="declining", health_score=50)
    assert d["action"]["play"] == "retention_focus"
    assert "health_floor" in failed_gates(d)


# --- triggers, plays, owners, narrative ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "trigger", "upsell_type", "play"),
    [
        ({"seats_active_history": "20|21|22"}, "seat_headroom", "seat", "seat_expansion"),
        ({"seats_active_history": "20|20|20"}, "seat_utilization_sustained", "seat", "seat_expansion"),
        ({"seats_active_history": "10|10|10", "departments_active": 2}, "multi_team_spread", "seat",
         "multi_team_expansion"),
        ({"seats_active_history": "18|18|18", "power_users": 2}, "power_users_emerging", "seat",
         "seat_expansion"),
        ({"seats_active_history": "5|5|5", "gated_feature_attempts": days_ago(2) + "|" + days_ago(3)},
         "gated_feature_cluster", "plan", "plan_upgrade_feature"),
        ({"seats_active_history": "5|5|5", "usage_limit": 1000, "usage_history": "600|710|720"},
         "metered_usage_sustained", "plan", "plan_upgrade_usage"),
        ({"seats_active_history": "5|5|5", "usage_limit": 10000, "usage_history": "100|130|160"},
         "usage_velocity", "plan", "plan_upgrade_usage"),
        ({"seats_active_history": "5|5|5", "named_gaps": "sso|audit_log", "named_gaps_on": days_ago(2)},
         "named_gap", "addon", "addon_gap"),
        ({"seats_active_history": "5|5|5"}, "contract_anniversary", "anniversary", "value_review"),
    ],
)
def test_triggers_pick_their_upsell_type(
    evaluator: Evaluator, changes: dict[str, Any], trigger: str, upsell_type: str, play: str
) -> None:
    d = decide(evaluator, **changes)
    fired = {t["id"]: t for t in d["triggers"]}
    assert trigger in fired
    assert fired[trigger]["upsell_type"] == upsell_type
    assert upsell_type in d["upsell_types"]
    assert fired[trigger]["evidence"]
    if d["triggers"][0]["id"] == trigger and d["band"] == "act_now" and not d["blocked"]:
        assert d["action"]["play"] == play


def test_owner_follows_deal_size(evaluator: Evaluator) -> None:
    assert decide(evaluator, arr=24999)["action"]["owner"] == "CSM"
    assert decide(evaluator, arr=25000)["action"]["owner"] == "CSM + AE"


def test_narrative_is_grounded_in_the_accounts_numbers(evaluator: Evaluator) -> None:
    d = decide(evaluator, seats_active_history="14|16|19|21|23")
    assert "19 -> 23 active seats" in d["narrative"]
    assert "25-seat ceiling" in d["narrative"]
    assert d["action"]["window"] == "immediately, before users are blocked"
    assert d["action"]["frame"] == "growth continuity"


def test_missing_optional_fields_are_decided_and_listed(evaluator: Evaluator) -> None:
    d = evaluator.decide(account(evaluator, **{k: None for k in BASELINE if k != "account_id"}), AS_OF)
    assert d["score"] == 0 and d["band"] == "wait"
    assert {"health_score", "renewal_date", "seats_active_history"} <= set(d["missing_signals"])
    assert d["missing_signals"] == sorted(d["missing_signals"])


def test_decision_record_has_every_required_key(evaluator: Evaluator) -> None:
    d = decide(evaluator)
    required = {
        "account_id", "account_name", "owner", "score", "band", "blocked", "category_scores",
        "upsell_types", "triggers", "gates", "red_flags", "capped_at", "action", "narrative",
        "missing_signals", "ruleset",
    }
    assert required <= set(d)
    assert set(d["action"]) >= {"play", "owner", "window"}
    assert d["ruleset"] == {
        "name": "upsell_timing",
        "version": "1.0.0",
        "sha256": hashlib.sha256(RULESET.read_bytes()).hexdigest(),
    }
    json.dumps(d)  # JSON-ready


def test_same_input_same_bytes(evaluator: Evaluator) -> None:
    first = json.dumps(decide(evaluator, downgrade_requested_on=days_ago(10)))
    again = Evaluator(load_ruleset(str(RULESET)), default_registry())
    second = json.dumps(again.decide(account(again, downgrade_requested_on=days_ago(10)), AS_OF))
    assert first == second
