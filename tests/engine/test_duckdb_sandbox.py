"""Embedded DuckDB reads the data file and nothing else (``sql/sandbox.py``).

Before: every connection had DuckDB's defaults, so any SQL reaching it could read any
file, write one with ``COPY``, attach a database or install an extension; and a data file
named ``a[b].jsonl`` was read by ``--engine duckdb`` as the pattern it looks like, so
the accounts of ``ab.jsonl`` were decided instead, without a word.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.sql.sandbox import names_one_file, sandboxed

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-02"
SAMPLES = ROOT / "samples"


def test_a_sandboxed_connection_reads_only_its_file(tmp_path: Path) -> None:
    data = tmp_path / "accounts.jsonl"
    data.write_text('{"account_id": "A1"}\n', encoding="utf-8")
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nhunter2\n", encoding="utf-8")
    con = sandboxed([str(data)])
    try:
        assert con.execute(f"SELECT * FROM read_json('{data}')").fetchall() == [("A1",)]
        refused = [
            f"SELECT * FROM read_csv('{secret}')",
            f"SELECT * FROM read_text('{secret}')",
            f"SELECT * FROM glob('{tmp_path}/*')",
            f"COPY (SELECT 1) TO '{tmp_path / 'written.csv'}'",
            f"ATTACH '{tmp_path / 'other.db'}'",
            "SELECT * FROM read_csv('https://127.0.0.1:9/x.csv')",
            "INSTALL httpfs",
            "LOAD httpfs",
        ]
        for query in refused:
            with pytest.raises(duckdb.Error):
                con.execute(query)
        # No progress bar of DuckDB's among the records on a terminal's standard output.
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (
            False,)
        for setting in ("enable_external_access = true", "allowed_directories = ['/']",
                        "lock_configuration = false", "autoload_known_extensions = true",
                        "enable_progress_bar = true"):
            with pytest.raises(duckdb.Error, match="locked"):
                con.execute(f"SET {setting}")
    finally:
        con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.jsonl", "secret.csv"]


def test_names_one_file() -> None:
    assert names_one_file("samples/accounts [2026].csv") is False
    assert names_one_file("a*.jsonl") is False
    assert names_one_file("a?.jsonl") is False
    assert names_one_file("https://example.com/a.parquet") is False
    assert names_one_file("/data/accounts-2026.jsonl") is True


@pytest.fixture()
def connections(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The config of every DuckDB connection opened while the test runs."""
    opened: list[dict[str, Any]] = []
    real = duckdb.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        opened.append(dict(kwargs.get("config") or {}))
        return real(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", connect)
    return opened


def _parquet(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.parquet"
    con = duckdb.connect()
    try:
        con.execute(f"COPY (SELECT * FROM read_json('{SAMPLES / 'accounts.jsonl'}')) "
                    f"TO '{path}' (FORMAT parquet)")
    finally:
        con.close()
    return path


@pytest.mark.parametrize(("kind", "fmt"), [("jsonl", "jsonl"), ("jsonl", "csv"),
                                           ("csv", "jsonl"), ("parquet", "jsonl")])
def test_every_connection_of_a_run_is_sandboxed(tmp_path: Path, connections: list[dict[str, Any]],
                                                kind: str, fmt: str) -> None:
    data = _parquet(tmp_path) if kind == "parquet" else SAMPLES / f"accounts.{kind}"
    connections.clear()
    result = CliRunner().invoke(cli, ["dry-run", "upsell_timing", "--data", str(data),
                                      "--as-of", AS_OF, "--engine", "duckdb", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert connections, "the duckdb engine opened no connection"
    assert all(config.get("autoinstall_known_extensions") is False for config in connections)


def test_a_file_named_like_a_pattern_is_read_as_itself(tmp_path: Path) -> None:
    lines = (SAMPLES / "accounts.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "a[b].jsonl").write_text("".join(lines[:3]), encoding="utf-8")
    (tmp_path / "ab.jsonl").write_text("".join(lines[3:6]), encoding="utf-8")
    outputs = []
    for engine in ("python", "duckdb"):
        result = CliRunner().invoke(cli, ["dry-run", "upsell_timing", "--data",
                                          str(tmp_path / "a[b].jsonl"), "--as-of", AS_OF,
                                          "--engine", engine, "--format", "jsonl"])
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert '"ACC-1001"' in outputs[1] and '"ACC-1004"' not in outputs[1]


def test_a_parquet_file_named_like_a_pattern_is_a_clear_error(tmp_path: Path) -> None:
    named = tmp_path / "accounts [2026].parquet"
    shutil.move(_parquet(tmp_path), named)
    result = CliRunner().invoke(cli, ["dry-run", "upsell_timing", "--data", str(named),
                                      "--as-of", AS_OF])
    assert result.exit_code == 2
    assert "would take this name as a pattern" in result.stderr
    assert "Traceback" not in result.stderr
