"""An upsell type ships its plays' behaviour: window, owner rule set and opening line
come from the type when the play names it and leaves them out; the play overrides."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.errors import Location
from upsell_rules.io.records import Account
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import UpsellType
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.workflow.plugin_kit import make_registry, minimal_ruleset

AS_OF = date(2026, 11, 2)

OVERAGE = UpsellType(
    name="usage_overage",
    title="Usage overage",
    frame="fair use",
    description="Metered usage beyond the plan: a bigger allowance.",
    default_window="within {days_left:int} days",
    default_owner="finance_led",
    default_opening="{account_name} used {usage}: time to size the allowance.",
)


def _module(kind: UpsellType) -> ModuleType:
    module = ModuleType("overage_plugin")

    @hookimpl
    def upsell_rules_upsell_types(register: Any) -> None:
        register(kind)

    module.upsell_rules_upsell_types = upsell_rules_upsell_types  # type: ignore[attr-defined]
    return module


def _ruleset(tmp_path: Path, play: dict[str, Any], *, owners: bool = True) -> Path:
    doc = json.loads(minimal_ruleset(
        signals={"usage": {"type": "number"}, "days_left": {"type": "number"}},
        when="usage > 10", upsell_type="usage_overage",
    ))
    doc["plays"]["reach_out"] = play
    if owners:
        doc["owners"] = {"default": [{"role": "CSM"}],
                         "finance_led": [{"role": "Finance", "when": "usage > 100"},
                                         {"role": "AE"}]}
    path = tmp_path / "overage.yaml"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def _decide(path: Path, kind: UpsellType = OVERAGE, usage: float = 150) -> dict[str, Any]:
    registry = make_registry(_module(kind))
    rules, findings = check_ruleset(str(path), registry)
    assert rules is not None and not [f for f in findings if f.is_error], findings
    account = Account("A-1", "Acme", "", {"usage": usage, "days_left": 12},
                      Location("accounts.csv", 2))
    return Evaluator(rules, registry).decide(account, AS_OF)


def test_a_play_naming_the_type_takes_its_window_owner_and_opening(tmp_path: Path) -> None:
    decision = _decide(_ruleset(tmp_path, {"title": "Overage call",
                                           "upsell_type": "usage_overage"}))
    assert decision["action"]["window"] == "within 12 days"
    assert decision["action"]["owner"] == "Finance"
    assert decision["narrative"].endswith("Acme used 150: time to size the allowance.")


def test_the_play_overrides_any_default(tmp_path: Path) -> None:
    decision = _decide(_ruleset(tmp_path, {
        "title": "Overage call", "upsell_type": "usage_overage", "window": "today",
        "owner": "default", "message": "Call them.",
    }))
    assert decision["action"]["window"] == "today"
    assert decision["action"]["owner"] == "CSM"
    assert decision["narrative"].endswith("Call them.")


def _codes(path: Path, kind: UpsellType = OVERAGE) -> list[str]:
    registry = make_registry(_module(kind))
    _rules, findings = check_ruleset(str(path), registry)
    return [f"{f.code} {f.message}" for f in findings if f.is_error]


def test_no_window_and_no_default_is_e010(tmp_path: Path) -> None:
    plain = UpsellType(name="usage_overage", title="Usage overage", frame="fair use")
    found = _codes(_ruleset(tmp_path, {"title": "Overage call", "upsell_type": "usage_overage"}),
                   plain)
    assert found == ["E010 plays.reach_out: missing required key 'window' (upsell type "
                     "'usage_overage' gives no default window)"]
    found = _codes(_ruleset(tmp_path, {"title": "No type"}), plain)
    assert found == ["E010 plays.reach_out: missing required key 'window'"]


def test_a_default_with_an_unknown_placeholder_names_the_plugin(tmp_path: Path) -> None:
    kind = UpsellType(name="usage_overage", title="Usage overage", frame="fair use",
                      default_window="before {renewal_dat}")
    [found] = _codes(_ruleset(tmp_path, {"title": "x", "upsell_type": "usage_overage"}), kind)
    assert found.startswith("E140 plays.reach_out.window (default of upsell type "
                            "'usage_overage', plugin 'overage_plugin'): unknown placeholder "
                            "'{renewal_dat}'")


def test_a_default_owner_the_ruleset_lacks_is_e132(tmp_path: Path) -> None:
    path = _ruleset(tmp_path, {"title": "x", "upsell_type": "usage_overage"}, owners=False)
    [found] = _codes(path)
    assert found.startswith("E132 plays.reach_out: upsell type 'usage_overage' gives the "
                            "owner rule set 'finance_led'")


def test_an_unknown_type_on_a_play_is_e130(tmp_path: Path) -> None:
    found = _codes(_ruleset(tmp_path, {"title": "x", "window": "now",
                                       "upsell_type": "usage_overag"}))
    assert found == ["E130 plays.reach_out.upsell_type: unknown upsell type 'usage_overag' "
                     "(did you mean 'usage_overage'?)"]


@pytest.mark.parametrize("name", ["seat", "plan", "addon", "anniversary"])
def test_the_bundled_types_carry_defaults(name: str) -> None:
    kind = make_registry().upsell_types[name]
    assert kind.title and kind.description and kind.default_window
    assert kind.default_opening and kind.trigger_hint
