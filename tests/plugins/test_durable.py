"""The durable-rules engine: sessions, rule splitting, hidden errors, availability."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import upsell_rules_durable
from upsell_rules.cli.main import cli
from upsell_rules.expr.check import check
from upsell_rules.expr.interpret import holds
from upsell_rules.expr.parser import parse
from upsell_rules.plugin.build import default_registry
from upsell_rules_durable.translate import encode, translate

ROOT = Path(__file__).resolve().parents[2]
REASON = upsell_rules_durable.available()
needs_durable = pytest.mark.skipif(REASON is not None, reason=f"durable: {REASON}")
TYPES = {"n": "number", "s": "string", "b": "boolean", "d": "date", "tags": "string_list"}


def nodes(*texts: str) -> list[Any]:
    out = []
    for text in texts:
        node, problems = check(parse(text), TYPES, {})
        assert problems == []
        out.append(node)
    return out


# --- translation (no durable needed) -------------------------------------------------------


def test_number_encoding_keeps_numeric_order() -> None:
    values = [-1e300, -2.5, -1, -0.001, 0, 1e-05, 0.5, 1, 2, 2.5, 80, 1e20]
    encoded = [encode(v) for v in values]
    assert encoded == sorted(encoded)
    assert encode(0.0) == encode(-0.0) == encode(0)
    assert encode(2) == encode(2.0)


def test_dates_text_and_lists_are_encoded_for_comparison() -> None:
    assert encode(date(2026, 1, 2)) < encode(date(2026, 1, 10))
    assert encode("STRASSE") == encode("straße")
    assert encode(["P1", 2]) == [encode("p1"), encode(2)]
    assert encode(True) is True and encode(None) is None


def test_translation_uses_durable_operators_and_documents_helpers() -> None:
    t = translate(nodes("n > 5", "not (n > 5)", "'p1' in tags", "n + 1 > 2", "n is missing"),
                  TYPES)
    gt, not_gt, any_item, arith, missing = t.formulas
    assert gt == {"$gt": {"s_0": encode(5)}}
    assert not_gt == {"$lte": {"s_0": encode(5)}}
    assert any_item == {"$iany": {"s_1": {"$i": encode("p1")}}}
    assert [h.kind for h in t.helpers] == ["value", "present"]
    assert arith == {"$gt": {"h_0": encode(2)}}
    assert missing == {"h_1": False}


def test_constant_conditions_fold() -> None:
    t = translate(nodes("1 < 2", "1 > 2", "n in []"), TYPES)
    assert t.formulas == [True, False, False]


# --- running on durable ----------------------------------------------------------------------


@needs_durable
def test_more_accounts_than_durable_has_sessions() -> None:
    from upsell_rules_durable.runner import SESSIONS, DurablePredicate

    predicate = DurablePredicate(nodes("n > 5", "s == 'x'"), TYPES)
    for i in range(SESSIONS + 50):
        assert predicate({"n": i % 10, "s": "X"}) == (i % 10 > 5, True)


@needs_durable
def test_identical_accounts_are_all_matched() -> None:
    from upsell_rules_durable.runner import DurablePredicate

    predicate = DurablePredicate(nodes("n > 5"), TYPES)
    assert [predicate({"n": 6}) for _ in range(5)] == [(True,)] * 5


@needs_durable
def test_no_state_leaks_from_one_account_to_the_next() -> None:
    from upsell_rules_durable.runner import DurablePredicate

    predicate = DurablePredicate(nodes("n > 5", "b", "s is missing"), TYPES)
    assert predicate({"n": 9, "b": True}) == (True, True, True)
    assert predicate({"s": "y"}) == (False, False, False)
    assert predicate({"n": 9, "b": True}) == (True, True, True)


@needs_durable
def test_many_rules_are_split_across_rulesets() -> None:
    from upsell_rules_durable.runner import DurablePredicate

    texts = [f"n >= {i}" for i in range(40)]
    predicate = DurablePredicate(nodes(*texts), TYPES, chunk=16)
    assert len(predicate.rulesets) == 3
    for n in (-1, 0, 17, 39, 100):
        assert predicate({"n": n}) == tuple(holds(x, {"n": n}) for x in nodes(*texts))


@needs_durable
def test_a_fact_matching_hundreds_of_rules() -> None:
    from upsell_rules_durable.runner import RULES_PER_RULESET, DurablePredicate

    # One fact matching 64 rules of one ruleset crashes durable: split well below that.
    texts = [f"n >= {i}" for i in range(300)]
    predicate = DurablePredicate(nodes(*texts), TYPES)
    assert len(predicate.rulesets) == -(-300 // RULES_PER_RULESET)
    assert sum(predicate({"n": 1000})) == 300
    assert sum(predicate({"n": 99})) == 100


@needs_durable
def test_an_exception_in_an_action_is_raised_not_swallowed() -> None:
    from upsell_rules_durable.runner import DurableError, DurablePredicate

    def failing(predicate: Any, index: int, c: Any) -> None:
        raise RuntimeError("recording failed")

    predicate = DurablePredicate(nodes("n > 5"), TYPES, record=failing)
    with pytest.raises(DurableError, match="RuntimeError: recording failed"):
        predicate({"n": 6})


# --- availability ------------------------------------------------------------------------------


def test_available_says_why_in_one_line_when_durable_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "durable", None)
    monkeypatch.setitem(sys.modules, "durable.engine", None)
    reason = upsell_rules_durable.available()
    assert reason is not None and "\n" not in reason
    assert "not installed" in reason


def test_engine_durable_exits_2_with_the_reason_when_it_cannot_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = default_registry()
    broken = dataclasses.replace(
        registry.engines["durable"], available=lambda: "durable-rules is not installed"
    )
    monkeypatch.setitem(registry.engines, "durable", broken)
    args = ["dry-run", str(ROOT / "rulesets" / "upsell_timing.yaml"), "--data",
            str(ROOT / "samples" / "accounts.csv"), "--as-of", "2026-11-02", "--format", "json"]
    result = CliRunner().invoke(cli, [*args, "--engine", "durable"])
    assert result.exit_code == 2
    assert "durable-rules is not installed" in result.output
    ok = CliRunner().invoke(cli, args)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)[0]["account_id"]
