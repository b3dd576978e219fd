"""Messages a RevOps person meets on a first day, run as the real command on real files.

Each test is one slip found by following the docs from a fresh clone: the message must
say where, what was written and what to write instead, worded alike by every command.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.support import AS_OF, ROOT, run_cli

RULESET = "rulesets/upsell_timing.yaml"
DATA = "samples/accounts.csv"
UNKNOWN_ENGINE = ("upsell-rules: error: unknown engine 'nope' (available: auto, duckdb, "
                  "durable, interpreter, python)\n")


@pytest.mark.parametrize("command", [
    ["dry-run", RULESET, "--data", DATA, "--as-of", AS_OF],
    ["explain", RULESET, "--data", DATA, "--account", "ACC-1001", "--as-of", AS_OF],
    ["run", RULESET, "--data", DATA, "--sink", "stdout", "--no-state", "--as-of", AS_OF],
    ["diff", RULESET, "--data", DATA, "--set", "constants.health_floor=70", "--as-of", AS_OF],
    ["backtest", RULESET, "--snapshots", "samples/history/snapshots.csv",
     "--outcomes", "samples/history/outcomes.csv"],
    ["test"],
], ids=lambda command: command[0])
def test_an_unknown_engine_is_the_same_usage_error_everywhere(command: list[str]) -> None:
    result = run_cli(*command, "--engine", "nope")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.endswith(UNKNOWN_ENGINE)
    assert result.stderr.count("unknown engine") == 1


def _validate_edited(tmp_path: Path, old: str, new: str) -> list[str]:
    """``validate`` on a copy of the default ruleset with one line edited: its findings."""
    text = (ROOT / RULESET).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "mine.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.returncode == 1, result.stderr
    return [line.split(": ", 1)[1] for line in result.stdout.splitlines()]


@pytest.mark.parametrize(("old", "new", "finding"), [
    # A band limit is on the 0-100 score scale: 70%, not the fraction 0.7.
    ("    min: 70\n", "    min: 70%\n",
     "E013 bands[0].min: '70%' is not a number (write 70: scores run from 0 to 100, "
     "without %)"),
    # A weight is a fraction of 1.
    ("      weight: 0.40\n", "      weight: 45%\n",
     "E013 scoring.categories.product.weight: '45%' is not a number (write a fraction: 0.45)"),
    # A number in quotes is text.
    ("    min: 70\n", '    min: "70"\n',
     "E013 bands[0].min: '70' is not a number (remove the quotes: 70)"),
    # A weight written as a percentage: one finding, not also "weights must sum to 1".
    ("      weight: 0.40\n", "      weight: 40\n",
     "E015 scoring.categories.product.weight: 40 must be at most 1 (a fraction of 1: "
     "write 0.4 for 40%)"),
    # A derivation parameter says the value it got.
    ("threshold: 0.80}", "threshold: high}",
     "E134 signals.seat_cycles_at_80: parameter 'threshold' must be a number or the name "
     "of a numeric constant, not 'high'"),
])
def test_a_number_written_wrong_gets_one_finding_that_says_what_to_write(
    tmp_path: Path, old: str, new: str, finding: str
) -> None:
    found = _validate_edited(tmp_path, old, new)
    assert found == [finding]


TESTS_WITH_FOUR_SLIPS = """\
ruleset: upsell_timing.yaml
data: accounts.csv
as_of: 2026-11-02
cases:
  - name: fine
    sample: ACC-1001
    expect: {band: act_now, blocked: no}
  - name: a misspelt key
    sample: ACC-1001
    expct: {band: act_now}
  - name: an account that is not in the data
    sample: ACC-9999
    expect: {band: act_now}
  - name: a band that does not exist
    sample: ACC-1002
    expect: {band: act_noww}
  - name: a score written as a word
    sample: ACC-1002
    expect: {score: high}
"""


@pytest.mark.parametrize("command", ["validate", "test"])
def test_a_test_file_reports_every_problem_in_file_order(tmp_path: Path, command: str) -> None:
    shutil.copy(ROOT / RULESET, tmp_path / "upsell_timing.yaml")
    shutil.copy(ROOT / DATA, tmp_path / "accounts.csv")
    (tmp_path / "mine.tests.yaml").write_text(TESTS_WITH_FOUR_SLIPS, encoding="utf-8")
    result = run_cli(command, "mine.tests.yaml", cwd=tmp_path)
    found = re.findall(r"^\s*mine\.tests\.yaml:(\d+):\d+: (E\d+)", result.stdout, re.M)
    assert found == [("10", "E011"), ("12", "E302"), ("16", "E303"), ("19", "E013")]


def test_an_owner_that_matches_nobody_is_said_with_the_nearest_name() -> None:
    result = run_cli("dry-run", RULESET, "--data", DATA, "--as-of", AS_OF,
                     "--owner", "Priya Ramen", "--owner", "Nobody", "--owner", "grace whitfield",
                     "--columns", "account,owner")
    assert result.returncode == 0
    rows = result.stdout.splitlines()[1:]
    assert rows and all(row.endswith("Grace Whitfield") for row in rows)
    warnings = [line for line in result.stderr.splitlines() if "--owner" in line]
    assert warnings == [
        "upsell-rules: warning: --owner 'Priya Ramen': no account in the data has this owner "
        "(did you mean 'Priya Raman'?)",
        "upsell-rules: warning: --owner 'Nobody': no account in the data has this owner "
        "(owners: Daniel Okafor, Elena Sokolova, Grace Whitfield, Hannah Lindqvist, "
        "Kenji Watanabe, Marcus Bell, Priya Raman, Tomas Ortega)",
    ]


def test_an_account_id_in_the_wrong_case_is_named_in_the_right_one() -> None:
    result = run_cli("explain", RULESET, "--data", DATA, "--as-of", AS_OF,
                     "--account", "acc-1012")
    assert result.returncode == 2
    assert result.stderr == ("upsell-rules: error: account 'acc-1012' is not in "
                             "samples/accounts.csv (did you mean ACC-1012?)\n")
