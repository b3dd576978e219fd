"""The compiled duckdb query decides like the Python engine: samples, ruleset test
files, generated rulesets and accounts (core columns: score, band, blocked, cap,
category scores, triggers, gates, red flags, play, the account's owner and the play's
owner role)."""

from __future__ import annotations

import dataclasses
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.test_conformance import (
    _account,
    _ruleset_text,
    accounts_strategy,
    ruleset_condition,
)
from tests.sql.compare import differences, duckdb_rows, python_rows
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import check_ruleset, load_ruleset
from upsell_rules.ruleset.yamlload import load_yaml
from upsell_rules.workflow import ruleset_tests

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 2)
REGISTRY = default_registry()
RULESETS = ["upsell_timing.yaml", "expansion_triggers.yaml"]


@pytest.mark.parametrize("data", ["accounts.csv", "accounts.jsonl"])
@pytest.mark.parametrize("ruleset", RULESETS)
def test_compiled_query_agrees_on_the_samples(ruleset: str, data: str) -> None:
    rules = load_ruleset(str(ROOT / "rulesets" / ruleset), REGISTRY)
    reader = AccountReader(REGISTRY, rules.input_types(), signals=rules.signals)
    accounts = [a for a in reader.read(str(ROOT / "samples" / data)) if isinstance(a, Account)]
    assert len(accounts) >= 40
    for as_of in (AS_OF, date(2026, 1, 15), date(2027, 6, 30)):
        expected = python_rows(rules, REGISTRY, accounts, as_of)
        got = duckdb_rows(rules, REGISTRY, accounts, as_of)
        assert differences(expected, got) == []
        portable = duckdb_rows(rules, REGISTRY, accounts, as_of, native=False)
        assert differences(expected, portable) == []
    bands = {row["band"] for row in expected.values()}
    assert len(bands) >= 2, "the samples should reach more than one band"


@pytest.mark.parametrize("native", [True, False], ids=["native", "portable"])
def test_a_series_with_a_null_item_is_missing_as_the_reader_leaves_it_out(native: bool) -> None:
    rules = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"), REGISTRY)
    reader = AccountReader(REGISTRY, rules.input_types(), signals=rules.signals)
    accounts = [a for a in reader.read(str(ROOT / "samples" / "accounts.jsonl"))
                if isinstance(a, Account)]
    with_gaps, without = [], []
    for n, account in enumerate(accounts):
        values = dict(account.values)
        field = ("seats_active_history", "usage_history")[n % 2]
        series = values.get(field)
        if series and len(series) > 1 and n % 3:
            values[field] = [*series[:-2], None, series[-1]]  # the cycle before the last
            with_gaps.append(dataclasses.replace(account, values=values))
            del values[field]  # what the reader keeps of such a record
            without.append(dataclasses.replace(account, values=values))
        else:
            with_gaps.append(account)
            without.append(account)
    assert sum(a is not b for a, b in zip(with_gaps, without, strict=True)) >= 20
    expected = python_rows(rules, REGISTRY, without, AS_OF)
    assert expected != python_rows(rules, REGISTRY, accounts, AS_OF)  # the gaps matter
    got = duckdb_rows(rules, REGISTRY, with_gaps, AS_OF, native=native)
    assert differences(expected, got) == []


def test_a_series_with_a_null_item_is_not_present() -> None:
    """The test the samples cannot make: ``is present`` sees the array itself."""
    never = "n1 > 1000000"
    conds = ["nl is present", *[never] * 11]
    rules, _ = check_ruleset("generated.yaml", REGISTRY, text=_ruleset_text(conds))
    assert rules is not None
    gap = _account(0, {"nl": [1.0, None, 2.0], "n1": 5})
    whole = _account(1, {"nl": [1.0, 2.0], "n1": 5})
    read = dataclasses.replace(gap, values={"n1": 5})  # what the reader keeps
    expected = python_rows(rules, REGISTRY, [read, whole], AS_OF)
    assert (expected["G-0"]["score_alpha"], expected["G-1"]["score_alpha"]) == (0.0, 10.0)
    for native in (True, False):
        got = duckdb_rows(rules, REGISTRY, [gap, whole], AS_OF, native=native)
        assert differences(expected, got) == []


def _case_accounts(tmp: Path) -> list[tuple[str, date, Account]]:
    """Every case of every bundled ruleset test file: (ruleset, as_of, account)."""
    runner = ruleset_tests.TestRunner(REGISTRY)
    found = []
    for test_file in sorted((tmp / "rulesets").glob("*.tests.yaml")):
        doc, _ = load_yaml(str(test_file))
        assert doc is not None
        ruleset_path = str(test_file.parent / doc.data["ruleset"])
        rules = load_ruleset(ruleset_path, REGISTRY)
        errors, cases = runner.prepare(doc, rules, str(test_file.parent))
        assert errors == []
        for index, case in enumerate(cases):
            assert case.account is not None and case.as_of is not None, case.errors
            account = dataclasses.replace(case.account, account_id=f"case-{index}")
            found.append((ruleset_path, case.as_of, account))
    return found


def cases_by_ruleset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                     ) -> dict[tuple[str, date], list[Account]]:
    """The bundled ruleset test files' accounts, copied into ``tmp_path`` (the current
    folder from then on), by (ruleset path, as-of date)."""
    shutil.copytree(ROOT / "rulesets", tmp_path / "rulesets")
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    groups: dict[tuple[str, date], list[Account]] = defaultdict(list)
    for ruleset_path, as_of, account in _case_accounts(tmp_path):
        groups[(ruleset_path, as_of)].append(account)
    return groups


def test_compiled_query_agrees_on_every_ruleset_test_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups = cases_by_ruleset(tmp_path, monkeypatch)
    assert sum(len(v) for v in groups.values()) >= 40
    for (ruleset_path, as_of), accounts in groups.items():
        rules = load_ruleset(ruleset_path, REGISTRY)
        expected = python_rows(rules, REGISTRY, accounts, as_of)
        assert differences(expected, duckdb_rows(rules, REGISTRY, accounts, as_of)) == []


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(ruleset_condition, min_size=12, max_size=12),
       st.lists(accounts_strategy, min_size=1, max_size=12))
def test_compiled_query_agrees_on_generated_rulesets(conds: list[str],
                                                     accounts: list[dict[str, Any]]) -> None:
    rules, findings = check_ruleset("generated.yaml", REGISTRY, text=_ruleset_text(conds))
    assert rules is not None and not [f for f in findings if f.is_error]
    items = [_account(i, values) for i, values in enumerate(accounts)]
    expected = python_rows(rules, REGISTRY, items, AS_OF)
    assert differences(expected, duckdb_rows(rules, REGISTRY, items, AS_OF)) == []


def test_upsell_types_are_listed_in_the_order_their_first_trigger_fired() -> None:
    from tests.engine.test_columnar_lines import _lines_ruleset_text

    yes, no = "n1 >= 0", "n1 < 0"
    # Tiers, gates, red flags; then t_seat (no), t_plan (yes), the owner rule, and a
    # second seat trigger (yes): the engine lists plan before seat.
    conds = [yes, no, yes, no, yes, yes, no, no, no, no, yes, yes, yes]
    rules, findings = check_ruleset("kinds.yaml", REGISTRY, text=_lines_ruleset_text(conds))
    assert rules is not None and not [f for f in findings if f.is_error]
    items = [_account(0, {"n1": 5.0})]
    expected = python_rows(rules, REGISTRY, items, AS_OF)
    assert expected["G-0"]["upsell_types"] == "plan|seat"
    assert differences(expected, duckdb_rows(rules, REGISTRY, items, AS_OF)) == []
