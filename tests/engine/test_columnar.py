"""The duckdb engine's columnar path (DuckDB reads, types and decides a whole JSON Lines
file) gives byte for byte the Python engine's records, and steps aside for any file whose
reading could differ from the Python reader's."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.test_conformance import N_CONDITIONS, _ruleset_text, accounts_strategy
from tests.engine.test_conformance import ruleset_condition as condition_strategy
from upsell_rules.cli.main import cli
from upsell_rules.engine import columnar
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.stream import evaluate_inputs
from upsell_rules.io.fastjson import dumps_compact
from upsell_rules.io.records import AccountReader
from upsell_rules.io.synthetic import generate_accounts, write_jsonl
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.types import Summary
from upsell_rules.ruleset.loader import check_ruleset, load_ruleset
from upsell_rules.ruleset.model import Ruleset

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 2)
REGISTRY = default_registry()
DEFAULT = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"), REGISTRY)


def _reader(rules: Ruleset, as_of: date) -> AccountReader:
    return AccountReader(REGISTRY, rules.input_types(), as_of=as_of,
                         source_options=rules.sources, signals=rules.signals)


def columnar_output(rules: Ruleset, path: Path, as_of: date) -> list[str] | None:
    """The records the columnar path gives for ``path`` (None: it stepped aside)."""
    evaluator = Evaluator(rules, REGISTRY, "duckdb")
    reader = _reader(rules, as_of)
    plan = columnar.plan_columnar(evaluator, reader, [str(path)], as_of)
    assert plan is not None, "the columnar path should apply to this file"
    rows = columnar.columnar_rows(evaluator, plan, as_of, reader.limits)
    if rows is None:
        return None
    return [dumps_compact(result) for _error, result in rows]


def python_output(rules: Ruleset, path: Path, as_of: date) -> list[str]:
    evaluator = Evaluator(rules, REGISTRY, "python")
    return [dumps_compact(r) for r in evaluate_inputs(evaluator, _reader(rules, as_of),
                                                      [str(path)], as_of, Summary())]


@pytest.mark.parametrize("seed", [7, 11])
@pytest.mark.parametrize("as_of", [AS_OF, date(2026, 2, 27), date(2027, 6, 30)])
def test_generated_accounts_decide_identically(tmp_path: Path, seed: int, as_of: date) -> None:
    path = tmp_path / "accounts.jsonl"
    write_jsonl(path, generate_accounts(400, seed, as_of))
    got = columnar_output(DEFAULT, path, as_of)
    assert got is not None, "clean generated data must take the columnar path"
    assert got == python_output(DEFAULT, path, as_of)


def test_the_bundled_jsonl_sample_decides_identically_on_every_bundled_ruleset() -> None:
    path = ROOT / "samples" / "accounts.jsonl"
    for ruleset in sorted((ROOT / "rulesets").glob("*.yaml")):
        if ruleset.name.endswith(".tests.yaml"):
            continue
        rules = load_ruleset(str(ruleset), REGISTRY)
        got = columnar_output(rules, path, AS_OF)
        assert got is None or got == python_output(rules, path, AS_OF), ruleset.name


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(st.lists(condition_strategy, min_size=N_CONDITIONS, max_size=N_CONDITIONS),
       st.lists(accounts_strategy, min_size=1, max_size=12))
def test_generated_rulesets_and_accounts_decide_identically(
    tmp_path: Path, conds: list[str], accounts: list[dict[str, Any]]
) -> None:
    rules, findings = check_ruleset("generated.yaml", REGISTRY, text=_ruleset_text(conds))
    assert rules is not None and not [f for f in findings if f.is_error]
    path = tmp_path / "generated.jsonl"
    path.write_text("".join(
        json.dumps({"account_id": f"G-{i}", "account_name": f"Generated {i}", "owner": "o",
                    **{k: _json_value(v) for k, v in values.items() if v is not None}}) + "\n"
        for i, values in enumerate(accounts)), encoding="utf-8")
    got = columnar_output(rules, path, AS_OF)
    if got is not None:
        assert got == python_output(rules, path, AS_OF)


CLEAN = next(generate_accounts(1, 7, AS_OF))

#: One record changed so that the Python reader would convert, warn or fail: the
#: columnar path must leave the whole file to it.
ODD_RECORDS = {
    "number as text": {"arr": "6,300"},
    "number as digits": {"arr": "6300"},
    "integer with a fraction": {"seats_licensed": 10.0},
    "boolean for a number": {"health_score": True},
    "out of range": {"health_score": 150},
    "list item out of range": {"seats_active_history": [5, -1]},
    "list with a null": {"usage_history": [1000, None]},
    "list of text numbers": {"usage_history": ["1000"]},
    "short date": {"renewal_date": "2027-1-9"},
    "impossible date": {"renewal_date": "2027-02-30"},
    "year zero": {"renewal_date": "0000-01-01"},
    "date with time": {"renewal_date": "2027-01-09T00:00:00"},
    "text with a leading space": {"plan": " Team"},
    "empty text": {"plan": ""},
    "text number for a string": {"plan": 5},
    "id with spaces": {"account_id": " SYN-0000002"},
    "numeric id": {"account_id": 1002},
    "missing id": {"account_id": None},
    "yes for a boolean": {"competitor_evaluation": "yes"},
    "a huge integer": {"arr": 10**30},
    "empty text in a list": {"named_gaps": ["sso", ""]},
}


@pytest.mark.parametrize("change", sorted(ODD_RECORDS))
def test_a_record_the_reader_would_convert_leaves_the_file_to_it(
    tmp_path: Path, change: str
) -> None:
    odd = {**CLEAN, "account_id": "SYN-0000002", **ODD_RECORDS[change]}
    odd = {k: v for k, v in odd.items() if v is not None}
    path = tmp_path / "accounts.jsonl"
    write_jsonl(path, [CLEAN, odd, {**CLEAN, "account_id": "SYN-0000003"}])
    assert columnar_output(DEFAULT, path, AS_OF) is None


@pytest.mark.parametrize("text", [
    "{broken\n",  # not JSON
    "[1, 2]\n",  # not an object
    "\n",  # a blank line: line numbers would shift
    "DUPLICATE",  # the same id twice
    '{"account_id": "SYN-7", "arr": 1, "arr": 2}\n',  # a key written twice
    '{"account_id": "SYN-7", "extra": {"k": 1, "k": 2}}\n',  # ... in a nested object
    '{"account_id": "SYN-7", "extra": NaN}\n',  # a constant JSON does not have
    '{"account_id": "SYN-7", "plan": "\\ud800"}\n',  # a lone surrogate
    '{"account_id": "SYN-7"}\r{"account_id": "SYN-8"}\n',  # a lone carriage return
    '{"account_id": "SYN-7", "extra": 1, "extra": 2}\n',  # a key outside the contract twice
    '{"account_id": "SYN-7", "arr": -Infinity}\n',
    # NaN and Infinity anywhere else DuckDB could read them (count_lines leaves them to
    # DuckDB's side of the check): a field's value, an item, another key, after the object.
    '{"account_id": "SYN-7", "health_score": NaN}\n',
    '{"account_id": "SYN-7", "plan": NaN}\n',
    '{"account_id": "SYN-7", "seats_active_history": [4, NaN]}\n',
    '{"account_id": "SYN-7", "usage_history": [Infinity]}\n',
    '{"account_id": "SYN-7", "extra": [1, -Infinity]}\n',
    '{"account_id": "SYN-7", "renewal_date": "2027-01-01"} NaN\n',
    '{"account_id": "SYN-7", "arr": nan}\n',
    "   \n",  # a line of spaces
    "\t\r\n",
    # Two objects on one line and a blank line: were DuckDB ever to read the first as two
    # rows, the blank line it skips would make its rows as many as the lines again.
    '{"account_id": "SYN-7"}\r{"account_id": "SYN-8"}\n\n',
    # A colon in a text value: the reader re-reads such a line to look for a key written
    # twice, so the columnar path leaves the file to it (kept on purpose: cheap to test).
    '{"account_id": "SYN-7", "plan": "Team: gold"}\n',
    '{"account_id": "SYN-7", "arr": [[], null, [null, "\u00a8\u0016x"]]}\n',  # a list
])
def test_odd_lines_leave_the_file_to_the_reader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "accounts.jsonl"
    write_jsonl(path, [CLEAN])
    extra = json.dumps(CLEAN) + "\n" if text == "DUPLICATE" else text
    with path.open("a", encoding="utf-8") as handle:
        handle.write(extra)
        handle.write(json.dumps({**CLEAN, "account_id": "SYN-9"}) + "\n")
    assert columnar_output(DEFAULT, path, AS_OF) is None


def test_other_keys_and_nulls_keep_the_columnar_path(tmp_path: Path) -> None:
    """Keys outside the contract and fields written as null cost a second look at the
    colons of each line (see sql/input_checks.colons_sql), not the columnar path."""
    path = tmp_path / "accounts.jsonl"
    write_jsonl(path, [{**CLEAN, "crm_id": "X-1", "tags": ["a", "b"]},
                       {**CLEAN, "account_id": "SYN-2", "champion_changed_on": None,
                        "named_gaps": None, "health_score": None}])
    got = columnar_output(DEFAULT, path, AS_OF)
    assert got is not None and got == python_output(DEFAULT, path, AS_OF)


def test_a_byte_order_mark_leaves_the_file_to_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "accounts.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (json.dumps(CLEAN) + "\n").encode())
    assert columnar_output(DEFAULT, path, AS_OF) is None


def test_integers_stay_integers_and_fractions_stay_fractions(tmp_path: Path) -> None:
    path = tmp_path / "accounts.jsonl"
    write_jsonl(path, [{**CLEAN, "arr": 6300, "health_score": 71.5},
                       {**CLEAN, "account_id": "SYN-2", "arr": 6300.0, "health_score": 71}])
    got = columnar_output(DEFAULT, path, AS_OF)
    assert got is not None and got == python_output(DEFAULT, path, AS_OF)


def _cli(args: list[str], folder: Path) -> Any:
    return CliRunner().invoke(cli, [*args, "--as-of", "2026-11-02", "--no-state"],
                              catch_exceptions=False)


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "rulesets", tmp_path / "rulesets")
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "big.jsonl", generate_accounts(300, 7, AS_OF))
    return tmp_path


def test_auto_takes_the_columnar_path_for_a_large_clean_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = ["dry-run", "rulesets/upsell_timing.yaml", "--data", "big.jsonl",
              "--format", "jsonl"]
    python = _cli([*common, "--engine", "python", "-o", "python.jsonl"], folder)
    assert python.exit_code == 0
    assert python.stderr.rstrip().endswith("engine python")
    small = _cli([*common, "-o", "auto-small.jsonl"], folder)
    assert small.stderr.rstrip().endswith("engine python"), "small files stay in Python"
    monkeypatch.setattr(columnar, "AUTO_MIN_BYTES", 1000)
    auto = _cli([*common, "-o", "auto.jsonl"], folder)
    assert auto.exit_code == 0, auto.output
    assert auto.stderr.rstrip().endswith("engine duckdb")
    assert (folder / "auto.jsonl").read_bytes() == (folder / "python.jsonl").read_bytes()
    assert (folder / "auto-small.jsonl").read_bytes() == (folder / "python.jsonl").read_bytes()


def test_auto_leaves_an_odd_file_to_python_with_the_same_messages(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = list(generate_accounts(50, 7, AS_OF))
    records[10] = {**records[10], "health_score": "high"}
    write_jsonl(folder / "odd.jsonl", records)
    common = ["dry-run", "rulesets/upsell_timing.yaml", "--data", "odd.jsonl"]
    python = _cli([*common, "--engine", "python"], folder)
    monkeypatch.setattr(columnar, "AUTO_MIN_BYTES", 0)
    auto = _cli(common, folder)
    assert auto.exit_code == python.exit_code
    assert auto.output == python.output
    assert auto.stderr == python.stderr
    assert "health_score" in auto.stderr


def test_a_derivation_without_sql_keeps_the_python_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = default_registry()  # shared: the change is undone after the test
    used = next(s.derive for s in DEFAULT.signals.values() if s.derive is not None)
    monkeypatch.setitem(registry.derivations, used,
                        dataclasses.replace(registry.derivations[used], sql=None))
    rules = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"), registry)
    evaluator = Evaluator(rules, registry, "duckdb")
    path = tmp_path / "a.jsonl"
    write_jsonl(path, [CLEAN])
    reader = AccountReader(registry, rules.input_types(), as_of=AS_OF,
                           source_options=rules.sources, signals=rules.signals)
    assert columnar.plan_columnar(evaluator, reader, [str(path)], AS_OF) is None
    # The file's check, started before the query was compiled, was stopped with it.
    assert not [t for t in threading.enumerate() if t.name.startswith("upsell-rules-check")]


def test_dates_before_the_as_of_are_held_as_dates(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    write_jsonl(path, [{**CLEAN, "renewal_date": (AS_OF + timedelta(days=40)).isoformat()}])
    got = columnar_output(DEFAULT, path, AS_OF)
    assert got is not None and got == python_output(DEFAULT, path, AS_OF)


def test_an_interrupt_while_the_check_finishes_leaves_nothing_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upsell_rules.engine import jsonl_check

    path = tmp_path / "a.jsonl"
    write_jsonl(path, [CLEAN, {**CLEAN, "account_id": "A-2"}])
    evaluator = Evaluator(DEFAULT, REGISTRY, "duckdb")
    reader = _reader(DEFAULT, AS_OF)
    plan = columnar.plan_columnar(evaluator, reader, [str(path)], AS_OF, encoded=True)
    assert plan is not None and plan.checking is not None and plan.lines is not None
    check = plan.checking

    def interrupted(self: jsonl_check.JsonlCheck) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(jsonl_check.JsonlCheck, "passed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        columnar.columnar_rows(evaluator, plan, AS_OF, reader.limits)
    assert check.closed
    assert not [t for t in threading.enumerate() if t.name.startswith("upsell-rules-check")]


def test_records_already_under_way_are_dropped_when_the_check_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record query starts before the check's verdict; a failed check passes none
    of its records on (the file is clean here: only the verdict is changed)."""
    from upsell_rules.engine import jsonl_check

    path = tmp_path / "a.jsonl"
    write_jsonl(path, [CLEAN, {**CLEAN, "account_id": "A-2"}])
    evaluator = Evaluator(DEFAULT, REGISTRY, "duckdb")
    reader = _reader(DEFAULT, AS_OF)
    plan = columnar.plan_columnar(evaluator, reader, [str(path)], AS_OF, encoded=True)
    assert plan is not None and plan.lines is not None
    asked: list[jsonl_check.JsonlCheck] = []

    def failed(self: jsonl_check.JsonlCheck) -> bool:
        asked.append(self)
        self.cancel()
        return False

    monkeypatch.setattr(jsonl_check.JsonlCheck, "passed", failed)
    assert columnar.columnar_rows(evaluator, plan, AS_OF, reader.limits) is None
    assert asked and asked[0].closed
