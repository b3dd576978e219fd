"""Ruleset test files: a value a case writes is checked like the file itself, and a
problem at the top of the file is reported once, not once per case.

Every test runs the real command on copies of the bundled rulesets and samples.
"""

from __future__ import annotations

from pathlib import Path

from tests.workflow.support import copy_project, edit, run

CASES = """\
ruleset: upsell_timing.yaml
data: ../samples/accounts.csv
as_of: 2026-11-02
cases:
  - name: overrides a reader would leave out
    sample: ACC-1001
    overrides: {renewal_date: 03/04/2026, health_score: abc, competitor_evaluation: maybe}
    expect:
      band: act_now
  - name: an account written out with a percent and a day that does not exist
    account: {account_id: X1, health_score: 20%, customer_since: 2026-02-30}
    expect:
      band: wait
  - name: a sound case still runs
    sample: ACC-1001
    expect:
      band: act_now
"""


def test_a_malformed_value_in_a_case_is_a_located_error(tmp_path: Path) -> None:
    # Before, each of these values was dropped without a word: the case ran with the
    # signal missing and failed (or passed) for a reason nobody wrote.
    project = copy_project(tmp_path)
    (project / "rulesets/mine.tests.yaml").write_text(CASES, "utf-8")
    name = "rulesets/mine.tests.yaml"
    expected = [
        f"{name}:7:31: E305 cases[0].overrides.renewal_date: '03/04/2026' is not a date "
        "(expected YYYY-MM-DD: write 2026-03-04 or 2026-04-03)",
        f"{name}:7:57: E305 cases[0].overrides.health_score: 'abc' is not a number",
        f"{name}:7:85: E305 cases[0].overrides.competitor_evaluation: 'maybe' is not true "
        "or false",
        f"{name}:11:45: E305 cases[1].account.health_score: '20%' is not a number",
        f"{name}:11:66: E305 cases[1].account.customer_since: '2026-02-30' is not a date "
        "(expected YYYY-MM-DD)",
    ]
    checked = run("validate", name, cwd=project)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert checked.stdout.splitlines() == expected
    tested = run("test", name, cwd=project)
    assert tested.returncode == 2, tested.stdout + tested.stderr
    assert f"{name} EE.\n" in tested.stdout
    for line in expected:
        assert f"  {line}\n" in tested.stdout
    assert tested.stdout.rstrip().endswith("1 passed, 0 failed, 2 errors")


def test_a_value_out_of_its_range_in_a_case_is_an_error(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    text = CASES.replace("health_score: abc", "health_score: 140")
    (project / "rulesets/mine.tests.yaml").write_text(text, "utf-8")
    checked = run("validate", "rulesets/mine.tests.yaml", cwd=project)
    assert ("rulesets/mine.tests.yaml:7:57: E305 cases[0].overrides.health_score: '140' is "
            "above the maximum 100\n") in checked.stdout


def test_a_bad_date_at_the_top_is_reported_once(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    tests = project / "rulesets/upsell_timing.tests.yaml"
    edit(tests, "\nas_of: 2026-11-02\n", "\nas_of: 03/04/2026\n")
    cases = tests.read_text("utf-8").count("\n  - name: ")
    result = run("test", "rulesets/upsell_timing.tests.yaml", cwd=project)
    assert result.returncode == 2, result.stdout + result.stderr
    error = ("rulesets/upsell_timing.tests.yaml:11:8: E306 as_of: '03/04/2026' is not a date "
             "(expected YYYY-MM-DD: write 2026-03-04 or 2026-04-03)")
    assert result.stdout.count(error) == 1
    assert (f"ERROR rulesets/upsell_timing.tests.yaml: has problems\n  {error}\n"
            f"  {cases} case(s) cannot run until the problems above are fixed\n"
            ) in result.stdout
    assert "\nERROR rulesets/upsell_timing.tests.yaml:1" not in result.stdout
    assert result.stdout.rstrip().endswith(f"0 passed, 0 failed, {cases} errors")


def test_an_expectation_of_the_wrong_form_is_said_in_plain_words(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (project / "rulesets/mine.tests.yaml").write_text(
        "ruleset: upsell_timing.yaml\ndata: ../samples/accounts.csv\nas_of: 2026-11-02\n"
        "cases:\n"
        "  - name: one\n    sample: ACC-1001\n    expect:\n"
        "      score: 20%\n      blocked: maybe\n"
        "  - name: two\n    sample: ACC-1001\n    expect:\n"
        "      score: {min: 1, mx: 3}\n      blocked: yes\n", "utf-8")
    result = run("validate", "rulesets/mine.tests.yaml", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "rulesets/mine.tests.yaml:8:14: E013 cases[0].expect.score: '20%' is not a number or "
        "a range such as {min: 60, max: 80}",
        "rulesets/mine.tests.yaml:9:16: E013 cases[0].expect.blocked: 'maybe' is not true or "
        "false (yes / no)",
        "rulesets/mine.tests.yaml:13:23: E011 cases[1].expect.score: unknown key 'mx' (did you "
        "mean 'max'?)",
    ]


def test_a_spreadsheet_date_on_the_command_line_gets_both_readings(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    for typed, advice in (("03/04/2026", "write 2026-03-04 or 2026-04-03"),
                          ("13.04.2026", "write 2026-04-13")):
        result = run("dry-run", "rulesets/upsell_timing.yaml", "--data", "samples/accounts.csv",
                     "--as-of", typed, cwd=project)
        assert result.returncode == 2 and result.stdout == ""
        assert (f"Error: Invalid value for '--as-of': '{typed}' is not a date (expected "
                f"YYYY-MM-DD: {advice})") in result.stderr
