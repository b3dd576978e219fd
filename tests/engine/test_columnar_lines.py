"""Records written by DuckDB (the columnar path's JSON Lines output) are byte for byte the
Python engine's, and an account DuckDB cannot write exactly is written by Python."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.test_columnar import (
    AS_OF,
    CLEAN,
    DEFAULT,
    REGISTRY,
    ROOT,
    _json_value,
    _reader,
    python_output,
)
from tests.engine.test_conformance import N_CONDITIONS, _ruleset_text, accounts_strategy
from tests.engine.test_conformance import ruleset_condition as condition_strategy
from upsell_rules.engine import columnar
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.io.fastjson import dumps_compact
from upsell_rules.io.formatters import EncodedBatch, EncodedDecision
from upsell_rules.io.synthetic import generate_accounts, write_jsonl
from upsell_rules.ruleset.loader import check_ruleset, load_ruleset
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.ruleset.templates import parse_template


def columnar_results(rules: Ruleset, path: Path, as_of: date) -> Iterator[Any] | None:
    """What the columnar path passes on for ``path`` with JSON Lines output, as it comes
    (None: it stepped aside)."""
    evaluator = Evaluator(rules, REGISTRY, "duckdb")
    reader = _reader(rules, as_of)
    plan = columnar.plan_columnar(evaluator, reader, [str(path)], as_of, encoded=True)
    assert plan is not None, "the columnar path should apply to this file"
    rows = columnar.columnar_rows(evaluator, plan, as_of, reader.limits)
    return None if rows is None else (result for _error, result in rows)


def line_output(rules: Ruleset, path: Path, as_of: date) -> list[str] | None:
    """The JSON Lines the columnar path writes for ``path`` (None: it stepped aside)."""
    rows = columnar_results(rules, path, as_of)
    if rows is None:
        return None
    out = []
    for result in rows:
        if isinstance(result, EncodedBatch):
            assert result.lines and len(result.lines) == len(result.bands)
            assert all(line.endswith(b"\n") for line in result.lines)
            out.extend(line[:-1].decode("utf-8") for line in result.lines)
        elif isinstance(result, EncodedDecision):
            out.append(result.text)
        elif isinstance(result, dict):
            out.append(dumps_compact(result))
        else:
            out.append(f"error: {result}")
    return out


def _python(rules: Ruleset, path: Path, as_of: date) -> list[str]:
    return python_output(rules, path, as_of)


@pytest.fixture()
def redo_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows :func:`columnar._redo` was asked to decide the Python way."""
    seen: list[int] = []
    original = columnar._redo

    def counting(evaluator: Any, plan: Any, as_of: date, con: Any, rows: list[int]) -> Any:
        seen.extend(rows)
        return original(evaluator, plan, as_of, con, rows)

    monkeypatch.setattr(columnar, "_redo", counting)
    return seen


@pytest.mark.parametrize("seed", [7, 11])
@pytest.mark.parametrize("as_of", [AS_OF, date(2026, 2, 27), date(2027, 6, 30)])
def test_generated_accounts_are_written_identically_by_duckdb(
    tmp_path: Path, seed: int, as_of: date, redo_rows: list[int]
) -> None:
    path = tmp_path / "accounts.jsonl"
    write_jsonl(path, generate_accounts(400, seed, as_of))
    got = line_output(DEFAULT, path, as_of)
    assert got is not None
    assert got == _python(DEFAULT, path, as_of)
    assert redo_rows == [], "ordinary accounts are written by DuckDB, not redone"


def test_every_bundled_ruleset_writes_the_sample_identically() -> None:
    path = ROOT / "samples" / "accounts.jsonl"
    for ruleset in sorted((ROOT / "rulesets").glob("*.yaml")):
        if ruleset.name.endswith(".tests.yaml"):
            continue
        rules = load_ruleset(str(ruleset), REGISTRY)
        got = line_output(rules, path, AS_OF)
        assert got is None or got == _python(rules, path, AS_OF), ruleset.name


def _lines_ruleset_text(conds: list[str]) -> str:
    """The conformance suite's generated ruleset, with text of every kind to write: each
    trigger has evidence (a plugin's ``describe`` would keep Python rendering), a third
    trigger of the first one's type, and windows and messages reading every signal."""
    text = _ruleset_text(conds[:N_CONDITIONS])
    plan_line = next(line for line in text.splitlines() if "id: t_plan" in line)
    evidence = ', evidence: "{s1:text} [{sl:list}] {b1}; {nl} [({n2:pct})]"}'
    third = (f"  - {{id: t_seat_again, upsell_type: seat, when: {json.dumps(conds[-1])}, "
             'play: go, evidence: "{i1:int} seats [{n2:num} of {n1:money}] {score} {band}"}')
    text = text.replace(plan_line, plan_line[:-1] + evidence + "\n" + third)
    text = text.replace("window: now,", 'window: "now, {days_d1} days [since {d1}]",')
    return text.replace("window: later, owner: team}",
                        'window: later, owner: team, message: "{s1} [{sl:list}] {nl:pct}"}')


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(st.lists(condition_strategy, min_size=N_CONDITIONS + 1, max_size=N_CONDITIONS + 1),
       st.lists(accounts_strategy, min_size=1, max_size=12))
def test_generated_rulesets_and_accounts_are_written_identically(
    tmp_path: Path, conds: list[str], accounts: list[dict[str, Any]]
) -> None:
    rules, findings = check_ruleset("generated.yaml", REGISTRY, text=_lines_ruleset_text(conds))
    assert rules is not None and not [f for f in findings if f.is_error], findings
    path = tmp_path / "generated.jsonl"
    path.write_text("".join(
        json.dumps({"account_id": f"G-{i}", "account_name": f"Generated {i}", "owner": "o",
                    **{k: _json_value(v) for k, v in values.items() if v is not None}}) + "\n"
        for i, values in enumerate(accounts)), encoding="utf-8")
    evaluator = Evaluator(rules, REGISTRY, "duckdb")
    plan = columnar.plan_columnar(evaluator, _reader(rules, AS_OF), [str(path)], AS_OF,
                                  encoded=True)
    assert plan is not None and plan.lines is not None, "DuckDB writes these records"
    got = line_output(rules, path, AS_OF)
    if got is not None:
        assert got == _python(rules, path, AS_OF)


@pytest.mark.parametrize("name", [
    "Tab\there",
    "Escape \x1b[31m red",  # written \u001b by Python, \u001B by DuckDB: Python writes it
    "Quote \" and backslash \\",
    "Ünïcödé — 東京 😀",
    "Line\u2028separator",
])
def test_account_text_of_every_kind_is_written_identically(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / "accounts.jsonl"
    write_jsonl(path, [{**CLEAN, "account_name": name},
                       {**CLEAN, "account_id": "SYN-2", "owner": name, "plan": name}])
    got = line_output(DEFAULT, path, AS_OF)
    assert got is not None
    assert got == _python(DEFAULT, path, AS_OF)


def test_a_line_duckdb_cannot_write_exactly_is_written_by_python(
    tmp_path: Path, redo_rows: list[int]
) -> None:
    # DuckDB bounds a message's length by the bytes of its values (never under the
    # render limit): 30,000 three-byte characters might be too long for it, not for
    # Python, which writes that account's record.
    plays = {play_id: dataclasses.replace(
                 play, window=parse_template("{account_name}: " + play.window.source))
             for play_id, play in DEFAULT.plays.items()}
    rules = dataclasses.replace(DEFAULT, plays=plays)
    path = tmp_path / "accounts.jsonl"
    accounts = list(generate_accounts(30, 7, AS_OF))
    accounts[12] = {**accounts[12], "account_name": "東" * 30_000}
    write_jsonl(path, accounts)
    got = line_output(rules, path, AS_OF)
    assert got == _python(rules, path, AS_OF)
    assert redo_rows == [13], "only the account with the long name is redone"
    assert "東" * 30_000 in got[12]


def test_a_trigger_described_by_a_plugin_keeps_python_rendering(tmp_path: Path) -> None:
    text = (ROOT / "rulesets" / "upsell_timing.yaml").read_text(encoding="utf-8")
    marker = '    evidence: "asked for {named_gap_titles:list}[ ({days_since_gap_named:int} days ago)]"\n'
    assert marker in text
    rules, findings = check_ruleset("no_evidence.yaml", REGISTRY, text=text.replace(marker, ""))
    assert rules is not None and not [f for f in findings if f.is_error]
    path = tmp_path / "accounts.jsonl"
    write_jsonl(path, generate_accounts(60, 7, AS_OF))
    rows = columnar_results(rules, path, AS_OF)
    assert rows is not None
    results = list(rows)
    assert all(isinstance(r, dict) for r in results), "records rendered by Python"
    assert [dumps_compact(r) for r in results] == _python(rules, path, AS_OF)


def _texts(lines: list[bytes]) -> list[str]:
    return [line.decode("utf-8") for line in lines]


def assert_in_file_order(rules: Ruleset, path: Path, count: int,
                         also: Callable[[int, str], bool] = lambda _row, _line: True) -> None:
    """The columnar path's records of ``path`` (accounts ``R1`` to ``R<count>``, in that
    order) come in file order, each passing ``also(row, line)``. The records are looked
    at as they come, not kept (a large file's are 100 MB)."""
    rows = columnar_results(rules, path, AS_OF)
    assert rows is not None
    row = 0
    for result in rows:
        for line in (_texts(result.lines) if isinstance(result, EncodedBatch)
                     else [result.text]):
            row += 1
            assert line.startswith(f'{{"account_id":"R{row}",'), (row, line[:40])
            assert also(row, line), row
    assert row == count


def test_a_large_file_read_on_every_thread_comes_out_in_file_order(
    tmp_path: Path, redo_rows: list[int]
) -> None:
    """The record query has no row numbers (they would hold DuckDB to one thread): its
    rows must still come in file order, and the ones it leaves to Python (counted as
    they come) must be the right ones, far into a file DuckDB reads in several parts."""
    plays = {play_id: dataclasses.replace(
                 play, window=parse_template("{account_name}: " + play.window.source))
             for play_id, play in DEFAULT.plays.items()}
    rules = dataclasses.replace(DEFAULT, plays=plays)
    sample = list(generate_accounts(200, 7, AS_OF))
    long_rows = {23_457, 61_001}
    long_name = "東" * 30_000
    write_jsonl(path := tmp_path / "accounts.jsonl", (  # about 45 MB
        {**sample[row % len(sample)], "account_id": f"R{row}",
         **({"account_name": long_name} if row in long_rows else {})}
        for row in range(1, 70_001)))
    assert_in_file_order(rules, path, 70_000,
                         lambda row, line: (long_name in line) == (row in long_rows))
    assert redo_rows == sorted(long_rows)


def test_every_ruleset_test_case_is_written_identically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.sql.test_duckdb_conformance import cases_by_ruleset

    groups = cases_by_ruleset(tmp_path, monkeypatch)
    written = 0
    for index, ((ruleset_path, as_of), accounts) in enumerate(sorted(groups.items())):
        rules = load_ruleset(ruleset_path, REGISTRY)
        path = tmp_path / f"cases-{index}.jsonl"
        path.write_text("".join(
            json.dumps({"account_id": a.account_id, "account_name": a.account_name,
                        "owner": a.owner, **{k: _json_value(v) for k, v in a.values.items()
                                             if k not in ("account_id", "account_name",
                                                          "owner")}}) + "\n"
            for a in accounts), encoding="utf-8")
        got = line_output(rules, path, as_of)
        if got is not None:
            assert got == _python(rules, path, as_of), (ruleset_path, as_of)
            written += len(got)
    assert written >= 20, "most test cases are clean enough for DuckDB to write"
