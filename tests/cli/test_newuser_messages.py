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


def _validate_located(tmp_path: Path, old: str, new: str) -> list[str]:
    """``validate`` on a copy of the default ruleset with one line edited: its findings,
    each as ``LINE:COL: CODE message``."""
    text = (ROOT / RULESET).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "mine.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.returncode == 1, result.stderr
    return [line.split(":", 1)[1] for line in result.stdout.splitlines()]


def _validate_edited(tmp_path: Path, old: str, new: str) -> list[str]:
    """Like :func:`_validate_located`, the messages only."""
    return [f.split(": ", 1)[1] for f in _validate_located(tmp_path, old, new)]


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


@pytest.mark.parametrize(("separator", "declare"), [
    (";", "sources: {csv: {delimiter: ';'}}"),
    ("\t", "sources: {csv: {delimiter: tab}}, or name the file .tsv"),
])
def test_a_csv_with_another_separator_is_told_the_yaml_to_write(
    tmp_path: Path, separator: str, declare: str
) -> None:
    text = (ROOT / DATA).read_text(encoding="utf-8").replace(",", separator)
    (tmp_path / "export.csv").write_text(text, encoding="utf-8")
    result = run_cli("dry-run", str(ROOT / RULESET), "--data", "export.csv", "--as-of", AS_OF,
                     cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.endswith(f"(the file looks separated by "
                                  f"{'tabs' if separator == chr(9) else repr(separator)}: "
                                  f"declare it in the ruleset, {declare})\n")
    # What the message says to write works.
    ruleset = (ROOT / RULESET).read_text(encoding="utf-8")
    assert "\nsources:\n" in ruleset
    written = declare.split(",")[0].removeprefix("sources: {csv: ").removesuffix("}")
    mine = tmp_path / "mine.yaml"
    mine.write_text(ruleset.replace("\nsources:\n", f"\nsources:\n  csv: {written}\n"), "utf-8")
    again = run_cli("dry-run", str(mine), "--data", "export.csv", "--as-of", AS_OF,
                    "--format", "jsonl", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(again.stdout.splitlines()) == 50


@pytest.mark.parametrize(("args", "said"), [
    (["validate", "rulesets/upsel_timing.yaml"],
     "'rulesets/upsel_timing.yaml' does not exist (did you mean 'rulesets/upsell_timing.yaml'?)"),
    (["validate", "rulesets/upsell_timing.yml"],
     "'rulesets/upsell_timing.yml' does not exist (did you mean 'rulesets/upsell_timing.yaml'?)"),
    (["validate", "rulesets/zzz.yaml"],
     "'rulesets/zzz.yaml' does not exist (bundled rulesets, usable by name: "
     "expansion_triggers, upsell_timing)"),
    (["dry-run", RULESET, "--data", "samples/acounts.csv"],
     "File 'samples/acounts.csv' does not exist (did you mean 'samples/accounts.csv'?)"),
    (["dry-run", RULESET, "--data", "samples/Accounts.csv"],
     "File 'samples/Accounts.csv' does not exist (did you mean 'samples/accounts.csv'?)"),
], ids=["ruleset", "extension", "nothing-near", "data", "data-case"])
def test_a_mistyped_file_name_gets_the_nearest_file(args: list[str], said: str) -> None:
    result = run_cli(*args, "--as-of", AS_OF) if args[0] == "dry-run" else run_cli(*args)
    assert result.returncode == 2
    assert said in " ".join(result.stderr.split())



def _line_of(text: str) -> int:
    lines = (ROOT / RULESET).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(text))


@pytest.mark.parametrize(("old", "new", "at", "finding"), [
    # A key left empty: found at the key (not on the next line), in plain words.
    ("    require: health_score >= health_floor\n", "    require:\n",
     "    require: health_score >= health_floor", (5, "E013 gates[0].require: no value after "
     "the ':' (write a condition, such as health_score >= 75)")),
    ("      weight: 0.40\n", "      weight:\n", "      weight: 0.40",
     (7, "E013 scoring.categories.product.weight: no value after the ':' (write a number)")),
    # YAML's words, not Python's (true, not True).
    ("    require: health_score >= health_floor\n", "    require: true\n",
     "    require: health_score >= health_floor",
     (14, "E013 gates[0].require: true is not a condition, such as health_score >= 75")),
    # A constant that cannot be used is reported once, at the constant, not at each use
    # (two conditions and a message template name health_floor).
    ("  health_floor: 65 ", "  health_floor: ", "  health_floor: 65",
     (3, "E013 constants.health_floor: no value after the ':' (write a number, text or "
      "true or false)")),
    ("  health_floor: 65 ", "  health_floor: [65, 70] ", "  health_floor: 65",
     (17, "E013 constants.health_floor: [65, 70] is not a number, text or true or false")),
])
def test_an_empty_or_wrong_kind_value_is_one_finding_in_yaml_words(
    tmp_path: Path, old: str, new: str, at: str, finding: tuple[int, str]
) -> None:
    column, message = finding
    assert _validate_located(tmp_path, old, new) == [f"{_line_of(at)}:{column}: {message}"]
