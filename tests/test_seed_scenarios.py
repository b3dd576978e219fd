"""The bundled rulesets against the research they encode, edge by edge.

Each scenario is one account that sits on, just inside or just outside a threshold or
window the research names (health floor, champion recency, renewal windows, red-flag
windows, trigger shares, band edges). All of them are written to one JSON Lines file,
decided by the real CLI with an explicit ``--as-of``, and checked against what a reader
of the research expects: band, blocked, play, window, frame, owner, which gates failed,
which red flags and triggers fired. The same file is decided by every engine and the
outputs must be byte-identical. docs/authoring.md ("Where the numbers come from") says
how each edge is read.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support import AS_OF, run_cli, with_changes

TODAY = date.fromisoformat(AS_OF)


def ago(days: int) -> str:
    """The date ``days`` before the evaluation date."""
    return (TODAY - timedelta(days=days)).isoformat()


def ahead(days: int) -> str:
    """The date ``days`` after the evaluation date."""
    return (TODAY + timedelta(days=days)).isoformat()


# A healthy, mid-life account with no product signal: 60/100, warming. Product signals
# added to it lift it into act_now, so the primary trigger's play shows.
QUIET: dict[str, Any] = {
    "account_name": "Quiet Co", "owner": "Sam Reyes", "arr": 12000, "plan": "Pro",
    "customer_since": ago(700), "seats_licensed": 100, "seats_active_history": [60, 60, 60],
    "usage_limit": 1000, "usage_history": [500, 500, 500], "gated_feature_attempts": [],
    "departments_active": 1, "departments_at_purchase": 1, "power_users": 0,
    "health_score": 90, "success_milestone_on": ago(150), "champion_last_engaged_on": ago(7),
    "renewal_date": ahead(75), "last_renewal_date": ago(290), "open_ticket_priorities": [],
    "competitor_evaluation": False, "engagement_trend": "steady",
}
# The same account with 90 of 100 seats active for three cycles: 92/100, act now.
HOT = {"seats_active_history": [90, 90, 90]}
MID = {"renewal_date": ahead(200)}            # mid-contract: commercial 4
RENEWED_10 = {"last_renewal_date": ago(10), "renewal_date": ahead(355)}
TWO_ATTEMPTS = {"gated_feature_attempts": [ago(1), ago(0)]}
NO_MILESTONE = {"success_milestone_on": None}

# (id, changes to QUIET, expectations). Keys: band, blocked, score, capped_at; play,
# window, frame, owner, prepare (the action's); flags and gates_failed (exact sets);
# triggers (must fire), not_triggers (must not); categories (the ones written).
TIMING: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("quiet baseline", {}, {"score": 60, "band": "warming", "blocked": False,
                            "play": "warming_touchpoint", "gates_failed": set(), "flags": set()}),
    # --- health: hard floor below 65, one intervention first for 65-74.9 ----------------
    ("health 64.9 is under the floor", {**HOT, "health_score": 64.9},
     {"blocked": True, "play": "health_recovery", "categories": {"relationship": 0},
      "gates_failed": {"health_floor", "health_marginal"}}),
    ("health 65 is on the floor", {**HOT, "health_score": 65},
     {"blocked": False, "categories": {"relationship": 5}, "gates_failed": {"health_marginal"},
      "prepare": ["health_intervention"], "play": "seat_expansion"}),
    ("health 74.9 is marginal", {**HOT, "health_score": 74.9},
     {"blocked": False, "categories": {"relationship": 5}, "prepare": ["health_intervention"]}),
    ("health 75 is ready", {**HOT, "health_score": 75},
     {"categories": {"relationship": 8}, "gates_failed": set(), "prepare": []}),
    ("health 85 is not above 85", {"health_score": 85}, {"categories": {"relationship": 8}}),
    ("health 85.1 is above 85", {"health_score": 85.1}, {"categories": {"relationship": 10}}),
    ("missing health blocks", {**HOT, "health_score": None},
     {"blocked": True, "play": "health_recovery"}),
    # --- success milestone ---------------------------------------------------------------
    ("no milestone: capture one first", {**HOT, **NO_MILESTONE},
     {"blocked": True, "play": "milestone_capture", "categories": {"relationship": 0},
      "gates_failed": {"success_milestone"}}),
    # --- champion recency: <=14 top tier, <=30 ready, 31-60 warm up, >60 re-engage -------
    ("champion 14 days", {"champion_last_engaged_on": ago(14)}, {"categories": {"relationship": 10}}),
    ("champion 15 days", {"champion_last_engaged_on": ago(15)}, {"categories": {"relationship": 8}}),
    ("champion 30 days is ready", {**HOT, "champion_last_engaged_on": ago(30)},
     {"categories": {"relationship": 8}, "gates_failed": set(), "prepare": []}),
    ("champion 31 days: warm up first", {**HOT, "champion_last_engaged_on": ago(31)},
     {"blocked": False, "categories": {"relationship": 5}, "gates_failed": {"champion_recent"},
      "prepare": ["warm_up_touchpoint"]}),
    ("champion 60 days: still a warm-up", {**HOT, "champion_last_engaged_on": ago(60)},
     {"blocked": False, "prepare": ["warm_up_touchpoint"]}),
    ("champion 61 days: re-engage", {**HOT, "champion_last_engaged_on": ago(61)},
     {"blocked": True, "play": "re_engagement",
      "gates_failed": {"champion_not_cold", "champion_recent"}}),
    # --- product tiers and seat / plan triggers -----------------------------------------
    ("seats 79% is no signal", {"seats_active_history": [79, 79, 79]},
     {"categories": {"product": 0}, "not_triggers": ["seat_utilization_sustained"]}),
    ("seats 80% for two cycles", {"seats_active_history": [70, 80, 80]},
     {"categories": {"product": 8}, "triggers": ["seat_utilization_sustained"],
      "not_triggers": ["seat_headroom"], "play": "seat_expansion",
      "window": "within 2 weeks, ahead of the seat ceiling", "frame": "growth continuity"}),
    ("seats 80% for one cycle only", {"seats_active_history": [70, 70, 80]},
     {"categories": {"product": 8}, "not_triggers": ["seat_utilization_sustained"]}),
    ("seats 85%: within 15%, act at once", {"seats_active_history": [85, 85, 85]},
     {"triggers": ["seat_headroom"], "play": "seat_expansion",
      "window": "immediately, before users are blocked"}),
    ("seats 84%: not yet within 15%", {"seats_active_history": [84, 84, 84]},
     {"not_triggers": ["seat_headroom"], "window": "within 2 weeks, ahead of the seat ceiling"}),
    ("90% and a feature ceiling is not over 90%", {**HOT, **TWO_ATTEMPTS},
     {"categories": {"product": 8}}),
    ("91% and a feature ceiling", {"seats_active_history": [91, 91, 91], **TWO_ATTEMPTS},
     {"categories": {"product": 10}, "score": 100}),
    ("feature ceiling alone: attempts 14 days apart",
     {"gated_feature_attempts": [ago(14), ago(0)]},
     {"categories": {"product": 5}, "triggers": ["gated_feature_cluster"],
      "play": "plan_upgrade_feature", "window": "within 1-3 business days"}),
    ("one attempt inside 14 days is not repeated",
     {"gated_feature_attempts": [ago(15), ago(0)]},
     {"categories": {"product": 0}, "not_triggers": ["gated_feature_cluster"]}),
    ("a new department is multi-team expansion", {"departments_active": 2},
     {"categories": {"product": 8}, "triggers": ["multi_team_spread"],
      "play": "multi_team_expansion"}),
    ("usage at exactly 70% is not above 70%", {"usage_history": [700, 700, 700]},
     {"not_triggers": ["metered_usage_sustained"]}),
    ("usage just above 70% for two cycles", {"usage_history": [600, 701, 701]},
     {"triggers": ["metered_usage_sustained"]}),
    ("usage at 80%: plan play framed as growth planning", {"usage_history": [800, 800, 800]},
     {"categories": {"product": 8}, "play": "plan_upgrade_usage", "frame": "growth planning",
      "window": "45-60 days before the projected ceiling"}),
    ("exactly 20% growth two months running", {"usage_history": [400, 480, 576]},
     {"triggers": ["usage_velocity"]}),
    ("just under 20% growth", {"usage_history": [400, 479, 575]},
     {"not_triggers": ["usage_velocity"]}),
    ("a named gap is an add-on talk within 72 hours",
     {"usage_history": [500, 500, 800], "named_gaps": ["sso"], "named_gaps_on": ago(2)},
     {"band": "act_now", "play": "addon_gap", "window": "within 48-72 hours of the request",
      "frame": "gap resolution"}),
    ("anniversary alone is a value review", {"usage_history": [500, 500, 800]},
     {"band": "act_now", "play": "value_review",
      "window": "75-90 days before renewal (renewal in 75 days: start now)",
      "frame": "value review", "triggers": ["contract_anniversary"]}),
    # --- commercial windows ---------------------------------------------------------------
    ("29 days to renewal: renewal only", {**HOT, "renewal_date": ahead(29)},
     {"blocked": True, "play": "renewal_only", "flags": {"renewal_close_only"},
      "categories": {"commercial": 0}}),
    ("30 days to renewal", {**HOT, "renewal_date": ahead(30)},
     {"blocked": False, "flags": set(), "categories": {"commercial": 8}}),
    ("59 days to renewal", {"renewal_date": ahead(59)}, {"categories": {"commercial": 8}}),
    ("60 days to renewal", {"renewal_date": ahead(60)},
     {"categories": {"commercial": 10}, "triggers": ["contract_anniversary"]}),
    ("90 days to renewal", {"renewal_date": ahead(90)},
     {"categories": {"commercial": 10}, "triggers": ["contract_anniversary"]}),
    ("91 days to renewal is mid-contract", {"renewal_date": ahead(91)},
     {"categories": {"commercial": 4}, "not_triggers": ["contract_anniversary"]}),
    ("renewed today: dead zone", {**HOT, "last_renewal_date": ago(0), "renewal_date": ahead(365)},
     {"blocked": True, "play": "next_window", "categories": {"commercial": 1}}),
    ("renewed 30 days ago: dead zone", {**HOT, "last_renewal_date": ago(30),
                                        "renewal_date": ahead(335)},
     {"blocked": True, "flags": {"post_renewal_dead_zone"}}),
    ("renewed 31 days ago: mid-contract", {**HOT, "last_renewal_date": ago(31),
                                           "renewal_date": ahead(334)},
     {"blocked": False, "flags": set(), "categories": {"commercial": 4}}),
    ("a renewal dated tomorrow has not happened: mid-contract",
     {**HOT, "last_renewal_date": ahead(1), "renewal_date": ahead(366)},
     {"blocked": False, "flags": set(), "categories": {"commercial": 4}}),
    ("just renewed and at the limit: operational need",
     {**RENEWED_10, "seats_active_history": [100, 100, 100], **TWO_ATTEMPTS},
     {"band": "act_now", "blocked": False, "flags": {"post_renewal_urgent"},
      "prepare": ["operational_framing"]}),
    ("just renewed at 99% of the limit: still the dead zone",
     {**RENEWED_10, "usage_history": [990, 990, 990]},
     {"blocked": True, "flags": {"post_renewal_dead_zone"}}),
    ("just renewed after a funding round", {**RENEWED_10, "funding_announced_on": ago(30)},
     {"blocked": False, "flags": {"post_renewal_urgent"}, "categories": {"commercial": 10}}),
    ("funding 90 days ago is a business event", {**MID, "funding_announced_on": ago(90)},
     {"categories": {"commercial": 10}}),
    ("funding 91 days ago is not", {**MID, "funding_announced_on": ago(91)},
     {"categories": {"commercial": 4}}),
    ("headcount +20% is not above 20%", {**MID, "headcount_growth_90d": 0.20},
     {"categories": {"commercial": 4}}),
    ("headcount +21%", {**MID, "headcount_growth_90d": 0.21}, {"categories": {"commercial": 10}}),
    # --- bands: 70 / 50 / 30 are the lower edges -----------------------------------------
    ("8/8/4 is exactly 70", {**MID, "seats_active_history": [80, 80, 80], "health_score": 80},
     {"score": 70, "band": "act_now"}),
    ("8/10/1 is 69.5", {**RENEWED_10, "usage_history": [940, 940, 940]},
     {"score": 69.5, "band": "warming"}),
    ("10/0/4 is exactly 50", {**MID, **NO_MILESTONE, "seats_active_history": [91, 91, 91],
                              **TWO_ATTEMPTS},
     {"score": 50, "band": "warming", "blocked": True}),
    ("5/0/4 is exactly 30", {**MID, **NO_MILESTONE, **TWO_ATTEMPTS},
     {"score": 30, "band": "monitor"}),
    ("0/0/10 is 25", {"health_score": 60}, {"score": 25, "band": "wait"}),
    # --- red flags ------------------------------------------------------------------------
    ("open P1", {**HOT, "open_ticket_priorities": ["P1"]},
     {"blocked": True, "play": "resolve_ticket", "flags": {"open_p1_p2_ticket"}}),
    ("open P2", {**HOT, "open_ticket_priorities": ["P3", "P2"]},
     {"blocked": True, "play": "resolve_ticket"}),
    ("open P3 only", {**HOT, "open_ticket_priorities": ["P3"]}, {"blocked": False, "flags": set()}),
    ("NPS 6 answered 60 days ago", {**HOT, "nps_score": 6, "nps_responded_on": ago(60)},
     {"blocked": True, "play": "recovery_sequence", "flags": {"nps_detractor"}}),
    ("NPS 6 answered 61 days ago", {**HOT, "nps_score": 6, "nps_responded_on": ago(61)},
     {"blocked": False, "flags": set()}),
    ("NPS 7 is not a detractor", {**HOT, "nps_score": 7, "nps_responded_on": ago(5)},
     {"blocked": False, "flags": set()}),
    ("champion changed 90 days ago", {**HOT, "champion_changed_on": ago(90)},
     {"blocked": True, "play": "new_relationship"}),
    ("champion changed 91 days ago", {**HOT, "champion_changed_on": ago(91)},
     {"blocked": False, "flags": set()}),
    ("competitor evaluation: retention only", {**HOT, "competitor_evaluation": True},
     {"blocked": True, "play": "retention_focus"}),
    ("declining engagement: never upsell", {**HOT, "engagement_trend": "declining"},
     {"blocked": True, "play": "retention_focus", "flags": {"at_risk"}}),
    ("customer for 30 days: onboarding", {**HOT, "customer_since": ago(30)},
     {"blocked": True, "play": "onboarding_focus", "flags": {"onboarding"}}),
    ("customer for 31 days", {**HOT, "customer_since": ago(31)},
     {"blocked": False, "flags": set()}),
    ("downgrade asked 90 days ago: capped at 30", {**HOT, "downgrade_requested_on": ago(90)},
     {"score": 30, "capped_at": 30, "band": "monitor", "play": "monitor_monthly"}),
    ("downgrade 365 days ago: still one contract period", {**HOT,
                                                          "downgrade_requested_on": ago(365)},
     {"score": 30, "capped_at": 30}),
    ("downgrade 366 days ago: cap lifted", {**HOT, "downgrade_requested_on": ago(366)},
     {"score": 92, "capped_at": None, "band": "act_now"}),
    # --- owner by deal size ---------------------------------------------------------------
    ("ARR 25,000 brings in the AE", {**HOT, "arr": 25000}, {"owner": "CSM + AE"}),
    ("ARR 24,999 stays with the CSM", {**HOT, "arr": 24999}, {"owner": "CSM"}),
]

TRIGGERS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("seats 85%: seat capacity now", {"seats_active_history": [85, 85, 85]},
     {"triggers": ["seat_capacity"], "play": "seat_capacity_play", "owner": "CSM",
      "frame": "continuity"}),
    ("seats 84% is not within 15%", {"seats_active_history": [84, 84, 84]},
     {"not_triggers": ["seat_capacity"]}),
    ("large seat deal goes to the AE", {"seats_active_history": [85, 85, 85], "arr": 40000},
     {"owner": "AE (with the CSM)"}),
    ("usage exactly 70%", {"usage_history": [700, 700, 700]},
     {"not_triggers": ["usage_ceiling"]}),
    ("usage above 70% two cycles", {"usage_history": [650, 701, 701]},
     {"triggers": ["usage_ceiling"], "play": "usage_ceiling_play", "frame": "growth planning",
      "owner": "CSM"}),
    ("repeated gated attempts", {"gated_feature_attempts": [ago(14), ago(0)], "arr": 1200},
     {"triggers": ["feature_unlock"], "play": "feature_unlock_play",
      "frame": "capability completion", "owner": "CSM or the in-product upgrade flow"}),
    ("attempts 15 days apart", {"gated_feature_attempts": [ago(15), ago(0)]},
     {"not_triggers": ["feature_unlock"]}),
    ("renewal in 60 days", {"renewal_date": ahead(60)}, {"triggers": ["contract_anniversary"]}),
    ("renewal in 91 days", {"renewal_date": ahead(91)},
     {"not_triggers": ["contract_anniversary"]}),
    ("renewal in 29 days", {"renewal_date": ahead(29)},
     {"blocked": True, "play": "renewal_only"}),
    ("health under 65", {"health_score": 64.9}, {"blocked": True, "play": "health_first"}),
    ("champion silent 61 days", {"champion_last_engaged_on": ago(61)},
     {"blocked": True, "play": "re_engage"}),
    ("declining engagement", {"engagement_trend": "declining"},
     {"blocked": True, "play": "retention_first"}),
    ("open P2", {"open_ticket_priorities": ["P2"]}, {"blocked": True, "play": "resolve_ticket"}),
]

SUITES = {"upsell_timing": TIMING, "expansion_triggers": TRIGGERS}
ENGINES = ("python", "duckdb", "interpreter")


def _account(index: int, changes: dict[str, Any]) -> dict[str, Any]:
    return with_changes({"account_id": f"S{index:03d}", **QUIET}, changes)


def _decide(ruleset: str, data: Path, engine: str | None) -> str:
    engine_args = () if engine is None else ("--engine", engine)
    result = run_cli("dry-run", f"rulesets/{ruleset}.yaml", "--data", str(data), "--as-of",
                     AS_OF, "--format", "jsonl", *engine_args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each suite written to one file and decided by every engine; the raw outputs."""
    folder = tmp_path_factory.mktemp("seeds")
    runs: dict[str, dict[str, Any]] = {}
    for ruleset, scenarios in SUITES.items():
        data = folder / f"{ruleset}.jsonl"
        lines = [json.dumps(_account(i, changes)) for i, (_, changes, _) in enumerate(scenarios)]
        data.write_text("\n".join(lines) + "\n", encoding="utf-8")
        outputs = {engine: _decide(ruleset, data, engine) for engine in ENGINES}
        outputs["default"] = _decide(ruleset, data, None)
        runs[ruleset] = {"data": data, "outputs": outputs,
                         "decisions": [json.loads(line) for line in outputs["python"].splitlines()]}
    return runs


def _check(decision: dict[str, Any], expect: dict[str, Any]) -> list[str]:
    action = decision["action"]
    actual: dict[str, Any] = {
        "band": decision["band"], "blocked": decision["blocked"], "score": decision["score"],
        "capped_at": decision["capped_at"], "play": action["play"],
        "window": action["window"], "frame": action.get("frame"), "owner": action["owner"],
        "prepare": action.get("prepare", []),
        "flags": {flag["id"] for flag in decision["red_flags"]},
        "gates_failed": {gate["id"] for gate in decision["gates"] if not gate["passed"]},
    }
    fired = {trigger["id"] for trigger in decision["triggers"]}
    problems = []
    for key, wanted in expect.items():
        if key == "triggers":
            problems += [f"trigger {t} did not fire" for t in wanted if t not in fired]
        elif key == "not_triggers":
            problems += [f"trigger {t} fired" for t in wanted if t in fired]
        elif key == "categories":
            problems += [f"{name}: {decision['category_scores'][name]} != {score}"
                         for name, score in wanted.items()
                         if decision["category_scores"][name] != score]
        elif actual[key] != wanted:
            problems.append(f"{key}: {actual[key]!r} != {wanted!r}")
    return problems


@pytest.mark.parametrize(
    ("ruleset", "index"),
    [(ruleset, i) for ruleset, scenarios in SUITES.items() for i in range(len(scenarios))],
    ids=[f"{ruleset}: {s[0]}" for ruleset, scenarios in SUITES.items() for s in scenarios],
)
def test_seed_scenario(seed_runs: dict[str, dict[str, Any]], ruleset: str, index: int) -> None:
    name, _, expect = SUITES[ruleset][index]
    decision = seed_runs[ruleset]["decisions"][index]
    assert decision["account_id"] == f"S{index:03d}"
    assert _check(decision, expect) == [], f"{name}: {decision['narrative']}"


@pytest.mark.parametrize("ruleset", sorted(SUITES))
def test_every_engine_decides_the_seed_scenarios_alike(
    seed_runs: dict[str, dict[str, Any]], ruleset: str
) -> None:
    outputs = seed_runs[ruleset]["outputs"]
    for engine, output in outputs.items():
        assert output == outputs["python"], f"{ruleset}: {engine} differs from python"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("29 days to renewal: renewal only",
         ["[yes] renewal_close_only (block)", "[days_to_renewal = 29]"]),
        ("champion 61 days: re-engage",
         ["[ no] champion_not_cold (hard, else re_engagement)",
          "days_since_champion_contact = 61, champion_cold_days = 60"]),
        ("just renewed at 99% of the limit: still the dead zone",
         ["[yes] post_renewal_dead_zone (block)", "[max_limit_utilization = 99%]"]),
        ("downgrade asked 90 days ago: capped at 30",
         ["[yes] downgrade_recent (cap 30)", "[days_since_downgrade_request = 90",
          f"clears on {ahead(276)}"]),  # 366 days after the request: a year has passed
        ("exactly 20% growth two months running",
         ["[yes] usage_velocity", "usage_growth_cycles_at_20 = 2"]),
    ],
)
def test_explain_names_the_edge(
    seed_runs: dict[str, dict[str, Any]], name: str, expected: list[str]
) -> None:
    index = next(i for i, scenario in enumerate(TIMING) if scenario[0] == name)
    result = run_cli("explain", "rulesets/upsell_timing.yaml", "--data",
                     str(seed_runs["upsell_timing"]["data"]), "--account", f"S{index:03d}",
                     "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout, f"{name}: {text!r} not in explain"
