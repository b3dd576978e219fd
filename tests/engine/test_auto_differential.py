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
from upsell_rules.engine.jsonl_check import make_views, start_check
from upsell_rules.errors import RecordError
from upsell_rules.io.account import Account
from upsell_rules.io.records import AccountReader
from upsell_rules.io.synthetic import generate_accounts
from upsell_rules.limits import Limits
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import load_ruleset
from upsell_rules.sql.input_checks import integer_bits

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


def _columnar_accounts(path: Path, ruleset: str, fmt: str) -> list[Account] | None:
    """The accounts the columnar path would decide, as it builds them from its view
    ``_accounts``, or ``None`` when its check does not take the whole file."""
    import duckdb

    reader = _reader(ruleset)
    limits = Limits()
    con = duckdb.connect(config=columnar.CONNECTION)
    try:
        if fmt == "jsonl":
            taken = start_check(str(path), reader.types, reader.ranges, limits).passed()
            if taken:
                make_views(con, str(path), reader.types, None)
        else:
            shape = csv_shape(str(path), None, limits.line_bytes)
            taken = shape is not None and load_csv(con, str(path), shape, reader.types,
                                                   reader.ranges, limits, None)
        if not taken:
            return None
        inputs = list(reader.types)
        rows = con.execute("SELECT * FROM _accounts ORDER BY _row").fetchall()
        return [columnar._account(row, inputs, integer_bits(reader.types), 2 + len(inputs),
                                  str(path), int(fmt == "csv")) for row in rows]
    finally:
        con.close()


def _typed(value: Any) -> str:
    """A value, typed exactly (an ``int`` is not a ``float``, ``-0.0`` is not ``0.0``) but
    for the numbers of a list, which the columnar path holds as doubles throughout."""
    if isinstance(value, list):
        return repr([float(v) if type(v) is int else v for v in value])
    return repr(value)


def _seen(account: Account) -> tuple[str, ...]:
    """What the engines decide from: the account's identity and values."""
    return (account.account_id, account.account_name, account.owner,
            repr(sorted((name, _typed(value)) for name, value in account.values.items())))


def _reader_accounts(path: Path, ruleset: str) -> tuple[list[Account], list[str]]:
    """The Python reader's accounts, and every error and warning it gives."""
    reader = _reader(ruleset)
    words: list[str] = []
    reader.on_warning = words.append
    accounts = []
    for item in reader.read_all([str(path)]):
        if isinstance(item, RecordError) or item.warnings:
            words.append(str(item))
        else:
            accounts.append(item)
    return accounts, words


@pytest.mark.parametrize(("name", "fmt", "make"), JSONL_CASES + CSV_CASES,
                         ids=[f"{c[1]}-{c[0]}" for c in JSONL_CASES + CSV_CASES])
def test_the_columnar_check_takes_a_file_only_as_the_reader_reads_it(
        tmp_path: Path, name: str, fmt: str, make: Callable[..., bytes]) -> None:
    """A file the check takes: the reader reads it without a word, and the accounts
    decided are the reader's, value for value and type for type."""
    path = _write(tmp_path, name, fmt, make)
    for ruleset in sorted(RULES):
        columnar_accounts = _columnar_accounts(path, ruleset, fmt)
        if columnar_accounts is not None:
            accounts, words = _reader_accounts(path, ruleset)
            assert words == []
            assert [_seen(a) for a in columnar_accounts] == [_seen(a) for a in accounts]


def _cli(args: list[str]) -> Any:
    return CliRunner().invoke(cli, args, catch_exceptions=False)


#: Cases the columnar path once decided otherwise than the reader (found by auto_diff.py).
ONCE_DIVERGED = ("trailing-comma", "trailing-comma-list",
                 "escaped-comma-and-trailing", "form-feed", "vertical-tab",
                 "nan-lower-unknown", "inf-lower-unknown", "tab-id", "fs-id")


@pytest.mark.parametrize("ruleset", sorted(RULES))
@pytest.mark.parametrize("name", ONCE_DIVERGED)
def test_auto_decides_an_odd_line_as_python_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, ruleset: str) -> None:
    fmt, make = next((c[1], c[2]) for c in JSONL_CASES if c[0] == name)
    path = _write(tmp_path, name, fmt, make)
    common = ["dry-run", str(ROOT / "rulesets" / f"{ruleset}.yaml"), "--data", str(path),
              "--as-of", AS_OF.isoformat(), "--format", "jsonl", "--no-state"]
    python = _cli([*common, "--engine", "python"])
    monkeypatch.setattr(columnar, "AUTO_MIN_BYTES", 0)
    auto = _cli(common)
    assert (auto.exit_code, auto.stdout) == (python.exit_code, python.stdout)
    assert _ENGINE.sub("", auto.stderr) == _ENGINE.sub("", python.stderr)
    assert auto.stderr.rstrip().endswith("engine python")
