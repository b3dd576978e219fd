"""``--engine duckdb``: the same bytes as the python engine, every output format, and the
summary line says which engine ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import AS_OF, run_cli

CASES = [(r, "samples/accounts.csv", f) for r in ("upsell_timing", "expansion_triggers")
         for f in ("table", "json", "jsonl", "csv")]
CASES.append(("upsell_timing", "samples/accounts.jsonl", "jsonl"))


@pytest.mark.parametrize(("ruleset", "data", "fmt"), CASES)
def test_duckdb_engine_output_is_byte_identical(ruleset: str, data: str, fmt: str) -> None:
    outputs = {}
    for engine in ("python", "duckdb"):
        result = run_cli("dry-run", ruleset, "--data", data, "--as-of", AS_OF, "--format",
                         fmt, "--engine", engine)
        assert result.returncode == 0, result.stderr
        outputs[engine] = result.stdout
        summary = result.stderr.strip().splitlines()[-1]
        assert summary.startswith("read 50, decided 50, failed 0 (")
        assert summary.endswith("; engine duckdb") == (engine == "duckdb")
    assert outputs["duckdb"] == outputs["python"]
    assert len(outputs["python"]) > 1000


def test_duckdb_records_written_to_an_output_file_are_the_python_engines_bytes(
        tmp_path: Path) -> None:
    # The file gets DuckDB's bytes straight through writev (io/direct_write.py).
    out = tmp_path / "records.jsonl"
    common = ("dry-run", "upsell_timing", "--data", "samples/accounts.jsonl", "--as-of",
              AS_OF, "--format", "jsonl")
    duck = run_cli(*common, "--engine", "duckdb", "--output", str(out))
    python = run_cli(*common, "--engine", "python")
    assert duck.returncode == 0 and python.returncode == 0, duck.stderr + python.stderr
    assert duck.stderr.strip().splitlines()[-1].endswith("; engine duckdb")
    assert out.read_bytes() == python.stdout.encode("utf-8")
    assert out.read_bytes().count(b"\n") == 50


def test_duckdb_engine_explains_the_same_decision() -> None:
    shown = [run_cli("explain", "upsell_timing", "--data", "samples/accounts.csv", "--as-of",
                     AS_OF, "--account", "ACC-1002", "--engine", engine).stdout
             for engine in ("python", "duckdb")]
    assert shown[0] == shown[1] and "ACC-1002" in shown[0]
