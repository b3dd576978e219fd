"""The header check: a signal the rules read that no record carries is said, once, loudly.

A renamed column (``Health Score``) makes every account fail the health gate; the check
names the signal, what it silences and the look-alike column, ``--strict`` stops before
deciding, and the warnings reach the JSON report and the summary line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.io.columns import check_columns, looks_like, normalise
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import load_ruleset

ROOT = Path(__file__).resolve().parents[2]
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")
SAMPLE = ROOT / "samples" / "accounts.csv"
AS_OF = "2026-11-02"


def _renamed(tmp_path: Path, old: str, new: str) -> str:
    rows = list(csv.reader(SAMPLE.open(encoding="utf-8", newline="")))
    rows[0] = [new if c == old else c for c in rows[0]]
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return str(path)


def test_a_renamed_column_names_both_the_column_and_the_signal(tmp_path: Path) -> None:
    data = _renamed(tmp_path, "health_score", "Health Score")
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", data, "--as-of", AS_OF, "--format", "json"]
    )
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 2  # one for the signal, one listing unmatched columns
    assert "no record carries 'health_score'" in warnings[0]
    assert "gate health_floor fails for every account" in warnings[0]
    assert "'Health Score' looks like health_score" in warnings[0]
    assert warnings[1] == "upsell-rules: warning: columns no signal reads: 'Health Score'"
    assert "1 signal in no record" in result.stderr.splitlines()[-1]


def test_strict_stops_before_deciding(tmp_path: Path) -> None:
    data = _renamed(tmp_path, "health_score", "Health Score")
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", data, "--as-of", AS_OF, "--format", "json",
              "--strict"]
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "nothing was decided" in result.stderr


def test_the_shipped_sample_has_no_warning() -> None:
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", str(SAMPLE), "--as-of", AS_OF, "--strict",
              "--format", "json"]
    )
    assert result.exit_code == 0
    assert "warning" not in result.stderr


def test_a_red_flag_on_an_absent_column_can_never_fire(tmp_path: Path) -> None:
    text = Path(RULESET).read_text(encoding="utf-8")
    text = text.replace(
        "signals:\n",
        "signals:\n  billing_dispute_open: {type: boolean, description: open dispute}\n", 1,
    ).replace(
        "red_flags:\n",
        "red_flags:\n  - id: billing_dispute\n    when: billing_dispute_open\n"
        "    effect: block\n    play: retention_focus\n", 1,
    )
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["run", "--no-state", str(ruleset), "--data", str(SAMPLE), "--as-of", AS_OF,
              "--sink", f"file:{tmp_path / 'out.jsonl'}", "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    assert "red flag billing_dispute can never fire" in result.stderr
    report = json.loads(result.stdout)
    (warning,) = report["header_check"]["warnings"]
    assert warning["signal"] == "billing_dispute_open"
    assert warning["silences"] == ["red flag billing_dispute can never fire"]


@pytest.mark.parametrize("command", ["explain", "diff", "report"])
def test_every_reading_command_runs_the_check(tmp_path: Path, command: str) -> None:
    data = _renamed(tmp_path, "health_score", "Health Score")
    args = {
        "explain": ["explain", RULESET, "--data", data, "--account", "ACC-1001"],
        "diff": ["diff", RULESET, "--data", data, "--set", "bands.act_now.min=65"],
        "report": ["report", RULESET, "--data", data, "-o", str(tmp_path / "r.html")],
    }[command]
    result = CliRunner().invoke(cli, [*args, "--as-of", AS_OF, "--strict"])
    assert result.exit_code == 2, result.stderr
    assert "'Health Score' looks like health_score" in result.stderr


def test_backtest_checks_the_snapshots(tmp_path: Path) -> None:
    history = ROOT / "samples" / "history"
    rows = list(csv.reader((history / "snapshots.csv").open(encoding="utf-8", newline="")))
    rows[0] = ["Health Score" if c == "health_score" else c for c in rows[0]]
    snapshots = tmp_path / "snapshots.csv"
    with snapshots.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    result = CliRunner().invoke(
        cli, ["backtest", RULESET, "--snapshots", str(snapshots), "--outcomes",
              str(history / "outcomes.csv"), "--strict"]
    )
    assert result.exit_code == 2
    assert "no record carries 'health_score'" in result.stderr


def test_look_alikes() -> None:
    assert normalise(" Health Score ") == "health_score"
    assert looks_like("health_score", ["Plan", "Health Score"]) == "Health Score"
    assert looks_like("renewal_date", ["renewal_dat"]) == "renewal_dat"
    assert looks_like("renewal_date", ["Owner"]) == ""
    # A CRM label around the signal's words (a HubSpot custom property named its own way).
    assert looks_like("health_score", ["Customer Health Score", "Plan"]) == \
        "Customer Health Score"
    assert looks_like("health_score", ["Health Score (0-100)"]) == "Health Score (0-100)"
    assert looks_like("health_score", ["Health", "Score"]) == ""
    # The same words in another order, as a CRM labels its fields.
    assert looks_like("seats_licensed", ["Plan", "Licensed Seats"]) == "Licensed Seats"
    assert looks_like("seats_licensed", ["Licensed Users"]) == ""


def test_the_check_reads_through_named_conditions() -> None:
    registry = default_registry()
    rules = load_ruleset(RULESET, registry)
    report = check_columns(rules, registry, ["account_id"])
    by_signal = {w.signal: w for w in report.warnings}
    assert "health_score" in by_signal
    assert report.unmatched == []


def test_backtest_and_calibrate_never_list_the_snapshot_date_as_unmatched(
    tmp_path: Path,
) -> None:
    history = ROOT / "samples" / "history"
    rows = list(csv.reader((history / "snapshots.csv").open(encoding="utf-8", newline="")))
    rows[0] = ["Health Score" if c == "health_score" else c for c in rows[0]]
    snapshots = tmp_path / "snapshots.csv"
    with snapshots.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    for command in ("backtest", "calibrate"):
        result = CliRunner().invoke(
            cli, [command, RULESET, "--snapshots", str(snapshots), "--outcomes",
                  str(history / "outcomes.csv"), "--strict"]
        )
        assert result.exit_code == 2, (command, result.stderr)
        assert "columns no signal reads: 'Health Score'\n" in result.stderr, result.stderr


def test_diff_checks_both_rulesets_and_the_later_export(tmp_path: Path) -> None:
    data = _renamed(tmp_path, "health_score", "Health Score")
    other = str(ROOT / "rulesets" / "expansion_triggers.yaml")
    # OLD and NEW: each ruleset's own rules are named, the unmatched column once.
    result = CliRunner().invoke(cli, ["diff", RULESET, other, "--data", data, "--as-of", AS_OF])
    assert "gate health_floor fails for every account" in result.stderr
    assert "tier relationship/milestone_marginal_health can never match" in result.stderr
    assert "tier relationship/healthy_enough can never match" in result.stderr
    assert result.stderr.count("columns no signal reads: 'Health Score'") == 1
    # The later export of --data-new is checked too; --strict stops before any diff.
    result = CliRunner().invoke(cli, ["diff", RULESET, "--data", str(SAMPLE), "--data-new",
                                      data, "--as-of", AS_OF, "--strict"])
    assert result.exit_code == 2, result.stderr
    assert "'Health Score' looks like health_score" in result.stderr
    assert result.stdout == ""
