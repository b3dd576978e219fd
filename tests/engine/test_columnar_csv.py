"""The columnar path on a CSV file: DuckDB reads, checks and decides a plain CSV file of
clean cells byte for byte as the CSV source, the Python reader and the Python engine
do, and leaves every other file (one odd cell, one odd line) to them."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.engine.test_columnar import AS_OF, DEFAULT, REGISTRY, ROOT, _reader
from tests.engine.test_columnar_lines import assert_in_file_order, line_output
from tests.engine.test_columnar_parquet import auto_takes_duckdb
from upsell_rules.cli.main import cli
from upsell_rules.engine import columnar
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.stream import evaluate_inputs
from upsell_rules.errors import RecordError
from upsell_rules.io.fastjson import dumps_compact
from upsell_rules.io.synthetic import CONTRACT_FIELDS, _csv_cell, generate_accounts, write_csv
from upsell_rules.plugin.types import Summary

SAMPLES = ["accounts.csv", "crm_accounts.csv", "bad_accounts.csv"]
#: The samples every cell of which the Python reader takes as it is.
CLEAN_SAMPLES = {"accounts.csv", "crm_accounts.csv"}


def crm_export(path: Path, accounts: list[dict[str, Any]], bom: bool = True,
               columns: tuple[str, ...] = CONTRACT_FIELDS) -> Path:
    """``accounts`` as a CRM or a spreadsheet exports them: a byte order mark, CRLF line
    ends, a column the contract does not know, cells quoted where they need it."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # excel: \r\n, quotes only where needed
    writer.writerow(["crm_id", *columns])
    for index, account in enumerate(accounts):
        writer.writerow([f"0061{index:06d}", *(_csv_cell(account.get(c)) for c in columns)])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))
    return path


def _decide(path: Path, engine: str, columnar_only: bool = False) -> tuple[list[str], list[str]]:
    """Every record (or error) and warning of ``path``; with ``columnar_only`` the
    columnar path's, or raises :class:`LookupError` when it stepped aside."""
    evaluator = Evaluator(DEFAULT, REGISTRY, engine)
    reader = _reader(DEFAULT, AS_OF)
    warnings: list[str] = []
    reader.on_warning = warnings.append
    if columnar_only:
        plan = columnar.plan_columnar(evaluator, reader, [str(path)], AS_OF)
        rows = None if plan is None else columnar.columnar_rows(evaluator, plan, AS_OF,
                                                                 reader.limits)
        if rows is None:
            raise LookupError(path)
        items: Any = [r for _e, r in rows]
    else:
        items = evaluate_inputs(evaluator, reader, [str(path)], AS_OF, Summary())
    out = [f"error {r}" if isinstance(r, RecordError) else dumps_compact(r) for r in items]
    return out, warnings


def columnar_or_none(path: Path) -> list[str] | None:
    """The columnar path's records for ``path`` (``None``: it left the file to Python);
    when it took the file, the Python reader found nothing to say about it."""
    try:
        got, _ = _decide(path, "duckdb", columnar_only=True)
    except LookupError:
        return None
    expected, warnings = _decide(path, "python")
    assert not warnings and not [e for e in expected if e.startswith("error ")]
    assert got == expected
    return got


# --- generated accounts ---------------------------------------------------------------

@pytest.mark.parametrize("seed", [7, 11])
def test_generated_accounts_as_csv_decide_identically(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "accounts.csv"
    write_csv(path, generate_accounts(400, seed, AS_OF))
    assert columnar_or_none(path) is not None, "clean generated CSV takes the columnar path"
    assert line_output(DEFAULT, path, AS_OF) == _decide(path, "python")[0]


def test_a_large_file_read_on_every_thread_comes_out_in_file_order(tmp_path: Path) -> None:
    """The record lines' view has no row numbers (they would hold DuckDB to one thread):
    read by DuckDB's CSV reader in parallel parts, every record must still come in order."""
    sample = list(generate_accounts(200, 7, AS_OF))
    path = tmp_path / "accounts.csv"
    write_csv(path, ({**sample[row % len(sample)], "account_id": f"R{row}"}
                     for row in range(1, 100_001)))
    assert_in_file_order(DEFAULT, path, 100_000)


def test_a_crm_export_takes_the_columnar_path(tmp_path: Path) -> None:
    accounts = list(generate_accounts(200, 5, AS_OF))
    accounts[3] = {**accounts[3], "account_name": 'Smith, Jones & "Partners"'}
    accounts[4] = {**accounts[4], "account_name": "Café Ünïcode 東京"}
    path = crm_export(tmp_path / "export.csv", accounts)
    assert columnar_or_none(path) is not None
    assert line_output(DEFAULT, path, AS_OF) == _decide(path, "python")[0]


def test_a_tab_separated_file_and_fewer_columns(tmp_path: Path) -> None:
    columns = ("account_id", "account_name", "arr", "seats_licensed", "renewal_date",
               "usage_history", "named_gaps", "competitor_evaluation")
    path = tmp_path / "accounts.tsv"
    write_csv(tmp_path / "a.csv", generate_accounts(100, 3, AS_OF), columns)
    path.write_text((tmp_path / "a.csv").read_text().replace(",", "\t"))
    assert columnar_or_none(path) is not None


def test_rows_are_located_on_their_lines(tmp_path: Path) -> None:
    """An account the Python engine renders (dicts) cites the line its row is on."""
    path = tmp_path / "accounts.csv"
    write_csv(path, generate_accounts(5, 7, AS_OF))
    evaluator = Evaluator(DEFAULT, REGISTRY, "duckdb")
    reader = _reader(DEFAULT, AS_OF)
    plan = columnar.plan_columnar(evaluator, reader, [str(path)], AS_OF)
    assert plan is not None and plan.csv is not None
    con = __import__("duckdb").connect()
    assert columnar._load(con, plan, reader.limits)
    query = columnar.values_query(evaluator, plan, AS_OF, "_accounts")
    rows = con.execute(query.sql).fetchall()
    inputs = list(plan.types)
    accounts = [columnar._account(row, inputs, [], 2 + len(inputs), str(path), 1)
                for row in rows]
    assert [a.location.line for a in accounts] == [2, 3, 4, 5, 6]
    con.close()


# --- one odd cell or line: the file goes to the reader --------------------------------

BASE = list(generate_accounts(3, 7, AS_OF))
#: A cell of the second row, and its text: what the reader converts, warns about or
#: refuses, or reads in a way DuckDB may not.
ODD_CELLS = {
    "exponent": ("arr", "1e5"), "leading space": ("arr", " 12"), "trailing dot": ("arr", "12."),
    "leading dot": ("health_score", ".5"), "plus sign": ("seats_licensed", "+3"),
    "hex": ("arr", "0x10"), "NaN": ("health_score", "NaN"), "inf": ("arr", "inf"),
    "underscore": ("arr", "1_000"), "leading zero": ("arr", "007"), "negative zero": ("arr", "-0"),
    "integer with a fraction": ("seats_licensed", "12.0"), "thousands": ("arr", "6,300"),
    "huge integer": ("arr", "9007199254740993"), "short date": ("renewal_date", "2026-1-2"),
    "impossible date": ("renewal_date", "2026-02-30"), "year zero": ("renewal_date", "0000-01-01"),
    "date and time": ("renewal_date", "2026-01-02T00:00"), "yes with a space": (
        "competitor_evaluation", "yes "), "maybe": ("competitor_evaluation", "maybe"),
    "text with a space": ("plan", "Team "), "only spaces": ("plan", "   "),
    "no-break space": ("plan", "\u00a0Team"), "empty list item": ("named_gaps", "sso||api"),
    "list item with a space": ("usage_history", "100| 200"), "text in a number list": (
        "usage_history", "100|lots"), "out of range": ("health_score", "150"),
    "duplicate id": ("account_id", BASE[0]["account_id"]), "empty id": ("account_id", ""),
    "id with a space": ("account_id", " X-1"),
}


def _odd_file(tmp_path: Path, field: str, text: str) -> Path:
    rows = [{k: _csv_cell(v) for k, v in a.items()} for a in BASE]
    rows[1][field] = text
    path = tmp_path / "odd.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CONTRACT_FIELDS)
        writer.writerows([[r.get(c, "") for c in CONTRACT_FIELDS] for r in rows])
    return path


@pytest.mark.parametrize("change", sorted(ODD_CELLS))
def test_an_odd_cell_leaves_the_file_to_the_reader(tmp_path: Path, change: str) -> None:
    assert columnar_or_none(_odd_file(tmp_path, *ODD_CELLS[change])) is None


def _plain(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "plain.csv"
    write_csv(path, BASE)
    return path, path.read_text(encoding="utf-8")


#: Changes to the whole text of a clean file: the file goes to the reader.
ODD_FILES: dict[str, Callable[[str], str]] = {
    "a blank line": lambda t: t.replace("\n", "\n\n", 2),
    "a blank first line": lambda t: "\n" + t,
    "a renamed id column": lambda t: t.replace("account_id", "Account ID", 1),
    "a column named twice": lambda t: t.replace("account_name", "plan", 1),
    "a space in a name": lambda t: t.replace("plan", " plan", 1),
    "a stray quote": lambda t: t.replace("Team", 'Te"am', 1),
    "a quote after text": lambda t: re.sub(r",([A-Z][a-z]+),", r',"\1"x,', t, count=1),
    "a newline in a quoted cell": lambda t: t.replace(",Team,", ',"Te\nam",', 1),
    "a lone carriage return": lambda t: t.replace("\n", "\r", 2),
    "a trailing empty cell": lambda t: t.replace("\n", ",\n", 2),
    "a short row": lambda t: t.rsplit(",", 1)[0] + "\n",
    "a space before a quote": lambda t: t.replace(",Team,", ', "Team",', 1),
    "a NUL": lambda t: t.replace("Team", "Te\0am", 1),
    "a quoted header": lambda t: '"account_id"' + t[len("account_id"):],
}


@pytest.mark.parametrize("change", sorted(ODD_FILES))
def test_an_odd_line_leaves_the_file_to_the_reader(tmp_path: Path, change: str) -> None:
    path, text = _plain(tmp_path)
    changed = ODD_FILES[change](text)
    assert changed != text
    path.write_bytes(changed.encode("utf-8"))
    assert columnar_or_none(path) is None


def test_quotes_crlf_and_a_byte_order_mark_keep_the_columnar_path(tmp_path: Path) -> None:
    path, text = _plain(tmp_path)
    text = text.replace(",Team,", ',"Team",').replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert columnar_or_none(path) is not None


def test_a_file_above_the_line_limit_leaves_it_to_the_reader(tmp_path: Path) -> None:
    path, _ = _plain(tmp_path)
    evaluator = Evaluator(DEFAULT, REGISTRY, "duckdb")
    reader = _reader(DEFAULT, AS_OF)
    reader.limits = dataclasses.replace(reader.limits, line_bytes=100)
    plan = columnar.plan_columnar(evaluator, reader, [str(path)], AS_OF)
    assert plan is None or columnar.columnar_rows(evaluator, plan, AS_OF, reader.limits) is None


# --- hypothesis: cells of every kind --------------------------------------------------

HOSTILE = ['"', '""', "\n", "\r\n", "\ufeff", "1e5", " 12", "12.", ".5", "+3", "0x10", "NaN",
           "inf", "-inf", "1_000", "2026-1-2", "2026-02-30", "0", "-0", "-0.0", "12", "12.5",
           "-3.25", "007", "TRUE", "Yes", "n", "2027-01-09", "a|b", "a||b", "|", "x,y",
           "\t", "\u00a0", "\u2028", "1.0000000000000002", "9007199254740993", "1e400",
           "0.1", "123456789012345678", "2026-11-02", "Team", "", " "]
#: Fields of every type of the contract.
FIELDS = ["arr", "health_score", "seats_licensed", "nps_score", "competitor_evaluation",
          "plan", "engagement_trend", "renewal_date", "customer_since", "usage_history",
          "seats_active_history", "open_ticket_priorities", "named_gaps",
          "gated_feature_attempts", "account_id"]
cell_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3).map("".join),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**20, 10**20).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.text(max_size=8),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.sampled_from(FIELDS), cell_text),
                min_size=1, max_size=4))
def test_generated_cells_decide_identically_or_go_to_the_reader(
    tmp_path: Path, changes: list[tuple[int, str, str]]
) -> None:
    rows = [{k: _csv_cell(v) for k, v in a.items()} for a in BASE]
    for index, field, text in changes:
        rows[index][field] = text
    path = tmp_path / "generated.csv"
    with path.open("w", encoding="utf-8", newline="", errors="surrogatepass") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CONTRACT_FIELDS)
        writer.writerows([[r.get(c, "") for c in CONTRACT_FIELDS] for r in rows])
    taken = columnar_or_none(path) is not None  # identical when taken: checked inside
    event("columnar" if taken else "reader")


# --- the command, on real files -------------------------------------------------------

def _run(data: Path, engine: str, fmt: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "upsell_rules", "dry-run",
         str(ROOT / "rulesets" / "upsell_timing.yaml"), "--data", str(data), "--as-of",
         AS_OF.isoformat(), "--format", fmt, "--engine", engine, "--no-state"],
        capture_output=True, text=True, check=False, cwd=ROOT,
        env={**os.environ, **(env or {})})


def _same(python: Any, duckdb: Any) -> None:
    assert duckdb.returncode == python.returncode
    assert duckdb.stdout == python.stdout
    assert duckdb.stderr.replace("engine duckdb", "engine python") == python.stderr


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_the_command_gives_the_same_output_on_the_samples(sample: str, fmt: str) -> None:
    data = ROOT / "samples" / sample
    python, duckdb = _run(data, "python", fmt), _run(data, "duckdb", fmt)
    _same(python, duckdb)
    assert "; engine python" in python.stderr
    assert (columnar_or_none(data) is not None) == (sample in CLEAN_SAMPLES)


def test_the_command_on_a_generated_crm_export(tmp_path: Path) -> None:
    path = crm_export(tmp_path / "export.csv", list(generate_accounts(500, 13, AS_OF)))
    for fmt in ("jsonl", "csv", "json"):
        _same(_run(path, "python", fmt), _run(path, "duckdb", fmt))


def test_auto_takes_duckdb_for_a_large_clean_csv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "accounts.csv"
    write_csv(path, generate_accounts(300, 11, AS_OF))
    auto_takes_duckdb(path, monkeypatch, "AUTO_MIN_CSV_BYTES", 1000)


def test_auto_leaves_an_odd_csv_file_to_python_with_the_same_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _odd_file(tmp_path, "health_score", "high")
    common = ["dry-run", str(ROOT / "rulesets" / "upsell_timing.yaml"), "--data", str(path),
              "--as-of", AS_OF.isoformat(), "--no-state"]
    python = CliRunner().invoke(cli, [*common, "--engine", "python"], catch_exceptions=False)
    monkeypatch.setattr(columnar, "AUTO_MIN_CSV_BYTES", 0)
    auto = CliRunner().invoke(cli, common, catch_exceptions=False)
    assert (auto.exit_code, auto.stdout, auto.stderr) == (
        python.exit_code, python.stdout, python.stderr)
    assert "health_score" in auto.stderr
