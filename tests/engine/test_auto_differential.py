"""The default engine (``auto``) decides odd real-world files exactly as ``--engine python``.

Each case of ``fuzz/auto_cases.py`` puts one oddity a CRM export may hold into a file of
otherwise clean accounts. The columnar path's check may take a file only when the
Python reader reads every record of it without a word (no error, no warning); the
cases that once got through are also run through the CLI, both engines, and compared
byte for byte. ``fuzz/auto_diff.py`` runs the same cases on files large enough for
``auto`` without lowering its thresholds.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.engine import columnar
from upsell_rules.engine.columnar_csv import csv_shape, load_csv
from upsell_rules.engine.jsonl_check import start_check
from upsell_rules.errors import RecordError
from upsell_rules.io.records import AccountReader
from upsell_rules.io.synthetic import generate_accounts
from upsell_rules.limits import Limits
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import load_ruleset

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "fuzz") not in sys.path:
    sys.path.insert(0, str(ROOT / "fuzz"))

from auto_cases import CSV_CASES, JSONL_CASES  # noqa: E402

AS_OF = date(2026, 11, 2)
REGISTRY = default_registry()
RULES = {name: load_ruleset(str(ROOT / "rulesets" / f"{name}.yaml"), REGISTRY)
         for name in ("upsell_timing", "expansion_triggers")}
RECORDS = list(generate_accounts(60, 7, AS_OF))
ODD_ROW = 40
_ENGINE = re.compile(r"; engine \w+")


def _write(tmp_path: Path, name: str, fmt: str, make: Callable[..., bytes]) -> Path:
    path = tmp_path / f"{re.sub(r'[^a-z0-9-]', '_', name.lower())}.{fmt}"
    path.write_bytes(make(RECORDS, ODD_ROW))
    return path


def _reader(ruleset: str) -> AccountReader:
    rules = RULES[ruleset]
    return AccountReader(REGISTRY, rules.input_types(), as_of=AS_OF,
                         source_options=rules.sources, signals=rules.signals)


def _check_takes(path: Path, ruleset: str, fmt: str) -> bool:
    """Whether the columnar path's own check takes the whole file."""
    import duckdb

    reader = _reader(ruleset)
    limits = Limits()
    con = duckdb.connect(config=columnar.CONNECTION)
    try:
        if fmt == "jsonl":
            return start_check(con, str(path), reader.types, reader.ranges, limits).finish(None)
        shape = csv_shape(str(path), None, limits.line_bytes)
        return shape is not None and load_csv(con, str(path), shape, reader.types,
                                              reader.ranges, limits, None)
    finally:
        con.close()


def _reader_words(path: Path, ruleset: str) -> list[str]:
    """Every error and warning the Python reader gives for the file."""
    reader = _reader(ruleset)
    words: list[str] = []
    reader.on_warning = words.append
    for item in reader.read_all([str(path)]):
        if isinstance(item, RecordError) or item.warnings:
            words.append(str(item))
    return words


@pytest.mark.parametrize("ruleset", sorted(RULES))
@pytest.mark.parametrize(("name", "fmt", "make"), JSONL_CASES + CSV_CASES,
                         ids=[f"{c[1]}-{c[0]}" for c in JSONL_CASES + CSV_CASES])
def test_the_columnar_check_takes_only_files_the_reader_reads_silently(
        tmp_path: Path, name: str, fmt: str, make: Callable[..., bytes], ruleset: str) -> None:
    path = _write(tmp_path, name, fmt, make)
    if _check_takes(path, ruleset, fmt):
        assert _reader_words(path, ruleset) == []


def _cli(args: list[str], cwd: Path) -> Any:
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(cli, args, catch_exceptions=False)


#: Cases that DuckDB once read while the reader refused the line (found by auto_diff.py).
ONCE_DIVERGED = ("trailing-comma", "trailing-comma-list",
                 "escaped-comma-and-trailing", "form-feed", "vertical-tab",
                 "nan-lower-unknown", "inf-lower-unknown")


@pytest.mark.parametrize("ruleset", sorted(RULES))
@pytest.mark.parametrize("name", ONCE_DIVERGED)
def test_auto_decides_an_odd_line_as_python_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, ruleset: str) -> None:
    fmt, make = next((c[1], c[2]) for c in JSONL_CASES if c[0] == name)
    path = _write(tmp_path, name, fmt, make)
    common = ["dry-run", str(ROOT / "rulesets" / f"{ruleset}.yaml"), "--data", str(path),
              "--as-of", AS_OF.isoformat(), "--format", "jsonl", "--no-state"]
    python = _cli([*common, "--engine", "python"], tmp_path)
    monkeypatch.setattr(columnar, "AUTO_MIN_BYTES", 0)
    auto = _cli(common, tmp_path)
    assert (auto.exit_code, auto.stdout) == (python.exit_code, python.stdout)
    assert _ENGINE.sub("", auto.stderr) == _ENGINE.sub("", python.stderr)
    assert auto.stderr.rstrip().endswith("engine python")
