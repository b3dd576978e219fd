"""The header check on ``test`` (its data file) and in ``dry-run --summary-format json``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
SAMPLE = ROOT / "samples" / "accounts.csv"
AS_OF = "2026-11-02"


def _without(column: str, target: Path) -> Path:
    rows = list(csv.DictReader(SAMPLE.open(encoding="utf-8", newline="")))
    names = [n for n in rows[0] if n != column]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return target


def _test_file(tmp_path: Path, data: Path) -> Path:
    path = tmp_path / "timing.tests.yaml"
    # A test file reads only files in its repository or the current folder: keep both here.
    ruleset = tmp_path / "upsell_timing.yaml"
    ruleset.write_bytes(RULESET.read_bytes())
    path.write_text(
        f"ruleset: {ruleset}\ndata: {data}\nas_of: {AS_OF}\ncases:\n"
        "  - name: a sample account\n    sample: ACC-1001\n    expect: {blocked: false}\n",
        encoding="utf-8",
    )
    return path


def test_test_warns_about_a_signal_its_data_file_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a test file reads only files under the current folder
    tests = _test_file(tmp_path, _without("power_users", tmp_path / "accounts.csv"))
    result = CliRunner().invoke(cli, ["test", str(tests)])
    assert result.exit_code == 0, result.output
    assert (f"upsell-rules: warning: {tests}: data {tmp_path / 'accounts.csv'}: no record "
            "carries 'power_users': trigger power_users_emerging can never fire") in result.stderr
    assert "1 passed" in result.stdout


def test_test_strict_stops_before_any_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tests = _test_file(tmp_path, _without("power_users", tmp_path / "accounts.csv"))
    result = CliRunner().invoke(cli, ["test", str(tests), "--strict"])
    assert result.exit_code == 2
    assert "upsell-rules: error:" in result.stderr and "'power_users'" in result.stderr
    assert "no case was run" in result.stderr
    assert "passed" not in result.stdout


def test_test_strict_passes_a_complete_data_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "accounts.csv"
    data.write_bytes(SAMPLE.read_bytes())
    result = CliRunner().invoke(cli, ["test", str(_test_file(tmp_path, data)), "--strict"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


def test_dry_run_summary_json_carries_the_header_check(tmp_path: Path) -> None:
    data = _without("health_score", tmp_path / "accounts.csv")
    args = ["dry-run", str(RULESET), "--data", str(data), "--as-of", AS_OF, "--format", "json"]
    plain = CliRunner().invoke(cli, args)
    result = CliRunner().invoke(cli, [*args, "--summary-format", "json"])
    assert result.exit_code == plain.exit_code == 0
    assert result.stdout == plain.stdout  # the decisions stay a plain JSON array
    assert isinstance(json.loads(result.stdout), list)
    summary = json.loads(result.stderr.strip().splitlines()[-1])
    assert summary["read"] == summary["decided"] + summary["failed"] == 50
    assert sum(summary["bands"].values()) == summary["decided"]
    [warning] = summary["header_check"]["warnings"]
    assert warning["signal"] == "health_score"
    assert "gate health_floor fails for every account" in warning["silences"]
    assert "in no record" in plain.stderr.strip().splitlines()[-1]
