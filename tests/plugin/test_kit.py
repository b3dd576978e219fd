"""The plugin author's kit: the pytest fixtures (loaded through the pytest11 entry point
in this very session) and the plain functions behind them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support import ROOT
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.workflow.plugin_kit import (
    PluginLoadError,
    assert_decision,
    decision_for,
    evaluate_records,
    make_registry,
    minimal_ruleset,
)

AS_OF = date(2026, 11, 2)
DECISION: dict[str, Any] = {
    "account_id": "A", "band": "warming", "blocked": True, "score": 55.5, "capped_at": None,
    "action": {"play": "health_recovery"}, "upsell_types": ["seat"],
    "triggers": [{"id": "seat_headroom"}], "red_flags": [{"id": "nps_detractor"}],
    "gates": [{"id": "health_floor", "passed": False}, {"id": "champion", "passed": True}],
    "missing_signals": ["arr"],
}


def test_fixtures_come_from_the_installed_pytest_plugin(
    upsell_registry: Any, upsell_evaluate: Any, upsell_assert_decision: Any
) -> None:
    assert upsell_registry is make_registry
    assert upsell_evaluate is evaluate_records
    assert upsell_assert_decision is assert_decision


def test_make_registry_fails_loudly_naming_the_plugin() -> None:
    module = ModuleType("misspelled")

    @hookimpl
    def upsell_rules_sink(register: Any) -> None:
        pass

    module.upsell_rules_sink = upsell_rules_sink  # type: ignore[attr-defined]
    with pytest.raises(PluginLoadError, match="plugin 'misspelled' implements unknown hook "
                                              "'upsell_rules_sink' \\(did you mean "
                                              "'upsell_rules_sinks'\\?\\)"):
        make_registry(module)
    assert "misspelled" in make_registry(module, strict=False).failed


def test_assert_decision_passes_and_lists_every_mismatch() -> None:
    assert_decision(DECISION, band="warming", blocked=True, score=(50, 60), play="health_recovery",
                    fired=["seat_headroom", "nps_detractor", "health_floor"],
                    not_fired=["champion"], upsell_types=["seat"], missing_signals=["arr"],
                    capped_at=None)
    with pytest.raises(AssertionError) as info:
        assert_decision(DECISION, band="act_now", blocked=False, score=70,
                        fired=["named_gap"], not_fired=["seat_headroom"], capped_at=30)
    assert str(info.value).splitlines() == [
        "decision for A:",
        "  band: expected 'act_now', got 'warming'",
        "  blocked: expected False, got True",
        "  score: expected 70, got 55.5",
        "  expected 'named_gap' to fire; fired: ['health_floor', 'nps_detractor', "
        "'seat_headroom']",
        "  expected 'seat_headroom' not to fire, but it did",
        "  capped_at: expected 30, got None",
    ]


def test_decision_for() -> None:
    assert decision_for([DECISION], "A")["band"] == "warming"
    with pytest.raises(AssertionError, match=r"no decision for account 'B' \(decided: A\)"):
        decision_for([DECISION], "B")


def test_evaluate_records_reports_a_bad_record() -> None:
    ruleset = minimal_ruleset(signals={"health_score": {"type": "number", "required": True}},
                              when="health_score > 50")
    with pytest.raises(AssertionError, match="<records>:2: health_score: 'high' is not a number"):
        evaluate_records(ruleset, [{"account_id": "A", "health_score": 60},
                                   {"account_id": "B", "health_score": "high"}], as_of=AS_OF)
    kept = evaluate_records(ruleset, [{"account_id": "A", "health_score": 60},
                                      {"account_id": "B", "health_score": "high"}],
                            as_of=AS_OF, errors="skip")
    assert [d["account_id"] for d in kept] == ["A"]


def test_evaluate_records_takes_a_ruleset_path() -> None:
    decisions = evaluate_records(str(ROOT / "rulesets" / "upsell_timing.yaml"),
                                 [{"account_id": "X", "health_score": 40}], as_of=AS_OF)
    assert_decision(decisions[0], blocked=True, play="health_recovery")


def test_the_docs_example_runs(tmp_path: Path, example_plugin_site: Path) -> None:
    """The example under "Testing a plugin" in docs/plugins.md passes as written."""
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = text.split("## Testing a plugin", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    (tmp_path / "test_docs_example.py").write_text(code.group(1), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "PYTHONPATH": str(example_plugin_site)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
