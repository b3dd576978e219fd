"""Parquet input (read by DuckDB): the same accounts decide as from JSON Lines, and every
odd value is reported by the reader at its row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.errors import InputError
from upsell_rules.plugin.types import RawRecord
from upsell_rules_files.parquet_source import plain, read_parquet


def _parquet(path: Path, select: str) -> Path:
    con = duckdb.connect()
    try:
        con.execute(f"COPY ({select}) TO '{path}' (FORMAT PARQUET)")
    finally:
        con.close()
    return path


def test_the_samples_as_parquet_decide_as_from_json_lines(tmp_path: Path) -> None:
    sample = ROOT / "samples" / "accounts.jsonl"
    data = _parquet(tmp_path / "accounts.parquet", f"SELECT * FROM read_json('{sample}')")
    outputs = []
    for name, source in (("parquet", data), ("jsonl", sample)):
        out = tmp_path / f"{name}.jsonl"
        result = run_cli("dry-run", "upsell_timing", "--data", str(source), "--as-of", AS_OF,
                         "--format", "jsonl", "-o", str(out), "--no-state", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "read 50, decided 50, failed 0" in result.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_an_odd_cell_is_reported_at_its_row_and_costs_only_that_value(tmp_path: Path) -> None:
    data = _parquet(tmp_path / "a.parquet", """
        SELECT * FROM (VALUES
            ('A-1', 'One', 80, DATE '2027-01-10'),
            ('A-2', 'Two', 120, DATE '2027-01-10'),
            ('A-3', 'Three', 60, DATE '2027-01-10')
        ) AS t(account_id, account_name, health_score, renewal_date)""")
    result = run_cli("dry-run", "upsell_timing", "--data", str(data), "--as-of", AS_OF,
                     "--no-state", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{data}:2: health_score: '120' is above the maximum 100" in result.stderr
    assert "read 3, decided 3, failed 0" in result.stderr


def test_timestamps_at_midnight_are_dates_others_are_reported(tmp_path: Path) -> None:
    data = _parquet(tmp_path / "t.parquet", """
        SELECT * FROM (VALUES
            ('A-1', TIMESTAMP '2027-01-10 00:00:00'),
            ('A-2', TIMESTAMP '2027-01-10 13:30:00')
        ) AS t(account_id, renewal_date)""")
    records = [r for r in read_parquet(str(data)) if isinstance(r, RawRecord)]
    assert records[0].values["renewal_date"] == "2027-01-10"
    assert records[1].values["renewal_date"] == "2027-01-10T13:30:00"
    result = run_cli("dry-run", "upsell_timing", "--data", str(data), "--as-of", AS_OF,
                     "--no-state", cwd=tmp_path)
    assert f"{data}:2: renewal_date: '2027-01-10T13:30:00' is not a date" in result.stderr


def test_decimals_lists_and_nulls(tmp_path: Path) -> None:
    from decimal import Decimal

    assert plain(Decimal("12.50")) == 12.5
    assert plain(Decimal("12")) == 12 and isinstance(plain(Decimal("12")), int)
    data = _parquet(tmp_path / "l.parquet", """
        SELECT 'A-1' AS account_id, [1, 2, NULL] AS seats_active_history,
               NULL::VARCHAR AS plan, 12.5::DECIMAL(6, 2) AS arr""")
    (record,) = list(read_parquet(str(data)))
    assert isinstance(record, RawRecord)
    assert record.values == {"account_id": "A-1", "seats_active_history": [1, 2, None],
                             "arr": 12.5}
    assert str(record.location) == f"{data}:1"


def test_a_file_that_is_not_parquet_is_refused_by_name(tmp_path: Path) -> None:
    fake = tmp_path / "accounts.parquet"
    fake.write_text("account_id\nA-1\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a Parquet file"):
        list(read_parquet(str(fake)))
    result = run_cli("dry-run", "upsell_timing", "--data", str(fake), "--as-of", AS_OF,
                     "--no-state", cwd=tmp_path)
    assert result.returncode == 2
    assert "not a Parquet file" in result.stderr
