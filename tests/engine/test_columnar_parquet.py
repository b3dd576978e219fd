"""The columnar path on a Parquet file: DuckDB reads, checks, decides and writes records
byte for byte as the Parquet source and the Python engine do, and leaves any file with a
column the reader would convert (or a value it would refuse) to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from tests.engine.test_columnar import AS_OF, CLEAN, DEFAULT, REGISTRY, _reader, python_output
from tests.engine.test_columnar_lines import assert_in_file_order, line_output
from upsell_rules.cli.main import cli
from upsell_rules.engine import columnar
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.io.fastjson import dumps_compact
from upsell_rules.io.synthetic import generate_accounts, write_jsonl
from upsell_rules.sql.ddl import table_columns
from upsell_rules.sql.signals import sql_type

#: The contract's columns typed as a Parquet export holds them.
COLUMNS = {name: sql_type(kind).sql(dialect="duckdb") for name, kind in table_columns(DEFAULT)}


def _parquet(tmp_path: Path, accounts: list[dict[str, Any]], name: str = "accounts",
             cast: dict[str, str] | None = None, row_group_size: int = 122_880) -> Path:
    """``accounts`` as a Parquet file with the contract's types (``cast``: other SQL for
    some columns, e.g. to store them as another type)."""
    jsonl = tmp_path / f"{name}.jsonl"
    write_jsonl(jsonl, accounts)
    target = tmp_path / f"{name}.parquet"
    columns = ", ".join(f"'{n}': '{t}'" for n, t in COLUMNS.items())
    picked = ", ".join((cast or {}).get(n, f'"{n}"') + f' AS "{n}"' for n in COLUMNS)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT {picked} FROM read_json('{jsonl}', format = "
                f"'newline_delimited', columns = {{{columns}}})) TO '{target}' "
                f"(FORMAT PARQUET, ROW_GROUP_SIZE {row_group_size})")
    con.close()
    return target


def test_row_groups_read_on_every_thread_come_out_in_file_order(tmp_path: Path) -> None:
    """The record lines' view has no row numbers (they would hold DuckDB to one thread):
    with 25 row groups read in parallel, every record must still come in file order."""
    sample = list(generate_accounts(200, 7, AS_OF))
    accounts = [{**sample[row % len(sample)], "account_id": f"R{row}"}
                for row in range(1, 50_001)]
    path = _parquet(tmp_path, accounts, row_group_size=2048)
    assert_in_file_order(DEFAULT, path, 50_000)


def _dict_output(path: Path) -> list[str] | None:
    evaluator = Evaluator(DEFAULT, REGISTRY, "duckdb")
    reader = _reader(DEFAULT, AS_OF)
    plan = columnar.plan_columnar(evaluator, reader, [str(path)], AS_OF)
    if plan is None:
        return None
    rows = columnar.columnar_rows(evaluator, plan, AS_OF, reader.limits)
    return None if rows is None else [dumps_compact(r) for _e, r in rows]


def test_a_clean_parquet_file_is_decided_and_written_identically(tmp_path: Path) -> None:
    path = _parquet(tmp_path, list(generate_accounts(300, 7, AS_OF)))
    expected = python_output(DEFAULT, path, AS_OF)
    assert len(expected) == 300
    assert line_output(DEFAULT, path, AS_OF) == expected
    assert _dict_output(path) == expected


def test_integer_columns_for_numbers_are_taken(tmp_path: Path) -> None:
    accounts = [{**CLEAN, "account_id": f"SYN-{i}", "arr": 6300 + i} for i in range(5)]
    path = _parquet(tmp_path, accounts, cast={"arr": "CAST(arr AS BIGINT)"})
    assert _dict_output(path) == python_output(DEFAULT, path, AS_OF)


ODD = {
    "a number stored as text": ({}, {"arr": "CAST(arr AS VARCHAR)"}),
    "an integer stored as a double": ({}, {"seats_licensed": "CAST(seats_licensed AS DOUBLE)"}),
    "a date stored as a timestamp": ({}, {"renewal_date": "CAST(renewal_date AS TIMESTAMP)"}),
    "a decimal": ({}, {"arr": "CAST(arr AS DECIMAL(12, 2))"}),
    "text with a leading space": ({"plan": " Team"}, {}),
    "empty text": ({"plan": ""}, {}),
    "an id with a space at the end": ({"account_id": "SYN-2 "}, {}),
    "a duplicate id": ({"account_id": CLEAN["account_id"]}, {}),
    "out of range": ({"health_score": 150}, {}),
    "empty text in a list": ({"named_gaps": ["sso", ""]}, {}),
    "not a number": ({}, {"health_score": "CASE WHEN account_id = 'SYN-2' THEN 'NaN'::DOUBLE "
                                          "ELSE health_score END"}),
    "a list with a null": ({}, {"usage_history": "CASE WHEN account_id = 'SYN-2' THEN "
                                                 "[1000.0, NULL] ELSE usage_history END"}),
}


@pytest.mark.parametrize("change", sorted(ODD))
def test_a_file_the_reader_would_convert_is_left_to_it(tmp_path: Path, change: str) -> None:
    values, cast = ODD[change]
    odd = {**CLEAN, "account_id": "SYN-2", **values}
    path = _parquet(tmp_path, [CLEAN, odd, {**CLEAN, "account_id": "SYN-3"}], cast=cast)
    assert _dict_output(path) is None


def auto_takes_duckdb(path: Path, monkeypatch: pytest.MonkeyPatch, threshold: str,
                      value: int) -> None:
    """``auto`` leaves the small file ``path`` to Python, and with the ``columnar``
    module's ``threshold`` set to ``value`` takes DuckDB, with the same records."""
    common = ["dry-run", "upsell_timing", "--data", str(path), "--as-of", AS_OF.isoformat(),
              "--format", "jsonl", "--no-state"]
    python = CliRunner().invoke(cli, [*common, "--engine", "python"], catch_exceptions=False)
    small = CliRunner().invoke(cli, common, catch_exceptions=False)
    assert small.stderr.rstrip().endswith("engine python"), "a small file stays in Python"
    monkeypatch.setattr(columnar, threshold, value)
    auto = CliRunner().invoke(cli, common, catch_exceptions=False)
    assert auto.exit_code == python.exit_code == 0
    assert auto.stderr.rstrip().endswith("engine duckdb")
    assert auto.stdout == python.stdout


def test_auto_takes_duckdb_for_a_large_parquet_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _parquet(tmp_path, list(generate_accounts(200, 11, AS_OF)))
    auto_takes_duckdb(path, monkeypatch, "AUTO_MIN_ROWS", 100)
