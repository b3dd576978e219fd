"""The bundled sample accounts cover every band, gate, red flag and upsell type,
and every engine decides them identically, from CSV and from JSONL alike."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import load_ruleset

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 2)


def decisions(ruleset: str, data: str, engine: str = "python") -> list[dict[str, Any]]:
    registry = default_registry()
    rules = load_ruleset(str(ROOT / "rulesets" / ruleset), registry)
    evaluator = Evaluator(rules, registry, engine)
    reader = AccountReader(registry, rules.input_types())
    out = []
    for item in reader.read(str(ROOT / "samples" / data)):
        assert isinstance(item, Account), item
        out.append(evaluator.decide(item, AS_OF))
    return out


@pytest.fixture(scope="module")
def timing() -> list[dict[str, Any]]:
    return decisions("upsell_timing.yaml", "accounts.csv")


def test_at_least_40_accounts(timing: list[dict[str, Any]]) -> None:
    assert len(timing) >= 40


def test_every_band_appears(timing: list[dict[str, Any]]) -> None:
    assert {d["band"] for d in timing} == {"act_now", "warming", "monitor", "wait"}
    assert any(d["band"] == "act_now" and not d["blocked"] for d in timing)


def test_every_gate_fails_somewhere(timing: list[dict[str, Any]]) -> None:
    rules = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"))
    failed = {g["id"] for d in timing for g in d["gates"] if not g["passed"]}
    assert failed == {g.id for g in rules.gates}


def test_every_red_flag_fires_somewhere(timing: list[dict[str, Any]]) -> None:
    rules = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"))
    fired = {f["id"] for d in timing for f in d["red_flags"]}
    assert fired == {f.id for f in rules.red_flags}
    assert any(d["capped_at"] == 30 and d["raw_score"] > 30 for d in timing)


def test_every_trigger_and_upsell_type_appears(timing: list[dict[str, Any]]) -> None:
    rules = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"))
    fired = {t["id"] for d in timing for t in d["triggers"]}
    assert fired == {t.id for t in rules.triggers}
    assert {u for d in timing for u in d["upsell_types"]} == {"seat", "plan", "addon", "anniversary"}


def test_both_owner_routes_appear(timing: list[dict[str, Any]]) -> None:
    assert {d["action"]["owner"] for d in timing} == {"CSM", "CSM + AE"}


@pytest.mark.parametrize("ruleset", ["upsell_timing.yaml", "expansion_triggers.yaml"])
def test_csv_and_jsonl_give_identical_decisions(ruleset: str) -> None:
    assert decisions(ruleset, "accounts.csv") == decisions(ruleset, "accounts.jsonl")


@pytest.mark.parametrize("ruleset", ["upsell_timing.yaml", "expansion_triggers.yaml"])
def test_engines_agree_byte_for_byte(ruleset: str) -> None:
    python = json.dumps(decisions(ruleset, "accounts.csv", "python"))
    reference = json.dumps(decisions(ruleset, "accounts.csv", "interpreter"))
    assert python == reference


def test_expansion_triggers_route_each_trigger_to_its_play() -> None:
    found = decisions("expansion_triggers.yaml", "accounts.csv")
    plays = {d["action"]["play"] for d in found if d["band"] == "act_now" and not d["blocked"]}
    assert {"seat_capacity_play", "feature_unlock_play", "usage_ceiling_play"} <= plays
    frames = {d["action"].get("frame") for d in found if d["action"]["play"].endswith("_play")}
    assert {"continuity", "capability completion", "growth planning"} <= frames
    assert any(t["id"] == "contract_anniversary" for d in found for t in d["triggers"])
