"""A worker process that dies never leaves a run waiting or short of accounts: what it
had not sent back is decided in the parent process, the output is the same as with one
process, and the summary line says what happened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support import AS_OF, ROOT
from upsell_rules.cli import dry_run
from upsell_rules.cli.main import cli
from upsell_rules.engine import parallel

HOSTILE = ROOT / "tests" / "plugin" / "hostile"
PLUGIN = str(HOSTILE / "plugins" / "derivation_kills_worker.py")
RULESET = str(HOSTILE / "derive.yaml")


def _dry_run(data: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["dry-run", RULESET, "--data", str(data), "--as-of",
                                      AS_OF, "--format", "jsonl", "--plugin", PLUGIN,
                                      "--engine", "python", *extra])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def accounts(tmp_path: Path) -> Path:
    """Many accounts, one of which (usage 20) kills the worker that decides it."""
    path = tmp_path / "accounts.csv"
    rows = [f"H-{n},{20 if n == 1500 else n % 50 + 21}" for n in range(3000)]
    path.write_text("account_id,usage\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dry_run, "cpu_cores", lambda: 2)  # --jobs 2 kept on any machine


@pytest.mark.parametrize("path", ["batches", "byte ranges"])
def test_a_killed_worker_costs_no_account(
    path: str, accounts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _dry_run(accounts)
    assert code == 0, err
    assert len(out.splitlines()) == 3000
    if path == "byte ranges":
        monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
        monkeypatch.setattr(parallel, "CHUNK_BYTES", 4_000)
    many = _dry_run(accounts, "--jobs", "2")
    assert many[0] == 0, many[2]
    assert many[1] == out
    assert parallel.WORKER_LOST in many[2]
    assert many[2].replace("; " + parallel.WORKER_LOST, "") == err


def test_the_json_summary_lists_the_note(accounts: Path) -> None:
    code, _, err = _dry_run(accounts, "--jobs", "2", "--summary-format", "json")
    assert code == 0, err
    summary = json.loads(err.splitlines()[-1])
    assert summary["notes"] == [parallel.WORKER_LOST]
    assert summary["engine"] == "python" and summary["decided"] == 3000


def test_without_a_lost_worker_the_summary_says_nothing_more(accounts: Path) -> None:
    rows = accounts.read_text(encoding="utf-8").replace("H-1500,20", "H-1500,25")
    accounts.write_text(rows, encoding="utf-8")
    code, out, err = _dry_run(accounts, "--jobs", "2")
    assert code == 0, err
    assert parallel.WORKER_LOST not in err
    assert json.loads(out.splitlines()[1500])["account_id"] == "H-1500"
