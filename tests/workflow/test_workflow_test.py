"""``upsell-rules test``: the bundled test files pass, and a changed threshold is caught.

Every test runs the real command on real files; test files and rulesets are copied into
a temporary folder before anything is edited.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.workflow.support import ROOT, case_line, copy_project, edit, run
from upsell_rules.ruleset.yamlload import load_yaml

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) errors?)?$", re.MULTILINE)


def cases_in(path: Path) -> list[dict[str, object]]:
    doc, findings = load_yaml(str(path))
    assert doc is not None and not findings
    cases: list[dict[str, object]] = doc.data["cases"]
    return cases


def test_bundled_test_files_pass() -> None:
    result = run("test")
    assert result.returncode == 0, result.stdout + result.stderr
    timing = len(cases_in(ROOT / "rulesets/upsell_timing.tests.yaml"))
    triggers = len(cases_in(ROOT / "rulesets/expansion_triggers.tests.yaml"))
    assert timing >= 25 and triggers >= 12
    assert f"rulesets/upsell_timing.tests.yaml {'.' * timing}\n" in result.stdout
    assert f"rulesets/expansion_triggers.tests.yaml {'.' * triggers}\n" in result.stdout
    assert result.stdout.rstrip().endswith(f"{timing + triggers} passed, 0 failed")


def test_bundled_tests_cover_every_rule() -> None:
    """Every band, gate, red flag, trigger and owner route appears in an expectation."""
    for ruleset, tests in (("upsell_timing", "upsell_timing.tests"),
                           ("expansion_triggers", "expansion_triggers.tests")):
        doc, _ = load_yaml(str(ROOT / "rulesets" / f"{ruleset}.yaml"))
        assert doc is not None
        rules = doc.data
        text = json.dumps(cases_in(ROOT / "rulesets" / f"{tests}.yaml"))
        mentioned = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
        ids = [b["id"] for b in rules["bands"]] + [g["id"] for g in rules["gates"]]
        ids += [f["id"] for f in rules["red_flags"]] + [t["id"] for t in rules["triggers"]]
        missing = [i for i in ids if i not in mentioned]
        assert not missing, f"{ruleset}: not covered by a test case: {missing}"
        roles = {rule["role"] for rules_ in rules["owners"].values() for rule in rules_}
        owners = set(re.findall(r'"owner": "([^"]+)"', text))
        assert roles <= owners, f"{ruleset}: owner roles never expected: {roles - owners}"
    timing_text = (ROOT / "rulesets/upsell_timing.tests.yaml").read_text("utf-8")
    assert "capped_at: 30" in timing_text and "owner: CSM + AE" in timing_text


def test_changed_threshold_fails_with_the_case_location(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edit(project / "rulesets/upsell_timing.yaml", "  health_ready: 75 ", "  health_ready: 80 ")
    result = run("test", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    name = "steady account with no product signal is monitored"
    line = case_line(project / "rulesets/upsell_timing.tests.yaml", name)
    out = result.stdout
    assert f"FAILED rulesets/upsell_timing.tests.yaml:{line}: {name}\n" in out
    block = out.split(f":{line}: {name}\n", 1)[1].split("\n\n", 1)[0]
    assert "band: expected monitor, got wait" in block
    assert "score: expected 38, got 27.5" in block
    assert "got: score 27.5" in block and "failed gates: health_marginal" in block
    dots = re.search(r"^rulesets/upsell_timing\.tests\.yaml ([.F]+)$", out, re.MULTILINE)
    assert dots is not None and "F" in dots.group(1)
    summary = SUMMARY.search(out)
    assert summary is not None
    passed, failed = int(summary.group(1)), int(summary.group(2))
    assert failed == dots.group(1).count("F") and failed >= 1
    total = len(cases_in(project / "rulesets/upsell_timing.tests.yaml")) + len(
        cases_in(project / "rulesets/expansion_triggers.tests.yaml"))
    assert passed + failed == total


def test_json_and_junit_reports(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edit(project / "rulesets/upsell_timing.yaml", "  health_ready: 75 ", "  health_ready: 80 ")
    junit = tmp_path / "report.xml"
    result = run("test", "rulesets/upsell_timing.tests.yaml", "--format", "json",
                 "--junit-xml", str(junit), cwd=project)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    cases = report["files"][0]["cases"]
    failed = [c for c in cases if c["status"] == "failed"]
    assert report["summary"] == {"passed": len(cases) - len(failed), "failed": len(failed),
                                 "errors": 0}
    steady = next(c for c in failed if c["name"].startswith("steady account"))
    band = next(m for m in steady["mismatches"] if m["key"] == "band")
    assert (band["expected"], band["actual"]) == ("monitor", "wait")
    assert band["message"] == "band: expected monitor, got wait"
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert root.get("tests") == str(len(cases)) and root.get("failures") == str(len(failed))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "rulesets/upsell_timing.tests.yaml"
    failures = [tc for tc in suite.iter("testcase") if tc.find("failure") is not None]
    assert {tc.get("name") for tc in failures} == {c["name"] for c in failed}
    first = failures[0]
    assert first.get("line") == str(
        case_line(project / "rulesets/upsell_timing.tests.yaml", str(first.get("name"))))


def write_tests(folder: Path, body: str) -> Path:
    path = folder / "rulesets" / "mine.tests.yaml"
    path.write_text(body, "utf-8")
    return path


def test_typos_are_located_errors_not_silent_passes(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    body = """\
ruleset: upsell_timing.yaml
data: ../samples/accounts.csv
as_of: 2026-11-02
cases:
  - name: sample typo
    sample: ACC-10001
    expect: {band: act_now}
  - name: id typos
    sample: ACC-1001
    overrides: {helth_score: 50}
    expect:
      triggers: {not_fired: [seat_headrom]}
"""
    path = write_tests(project, body)
    result = run("test", "rulesets/mine.tests.yaml", cwd=project)
    assert result.returncode == 2
    out = result.stdout
    assert ("rulesets/mine.tests.yaml:6:13: E302 cases[0].sample: no account 'ACC-10001' "
            "in ../samples/accounts.csv (did you mean 'ACC-1001'?)") in out
    assert ("rulesets/mine.tests.yaml:10:17: E304 cases[1].overrides.helth_score: unknown "
            "field 'helth_score' (did you mean 'health_score'?)") in out
    assert "rulesets/mine.tests.yaml:12:30: E303" in out and "'seat_headroom'" in out
    assert out.rstrip().endswith("0 passed, 0 failed, 2 errors")
    validate = run("validate", str(path.relative_to(project)), cwd=project)
    assert validate.returncode == 1
    assert validate.stdout.count(": E30") == 3


def test_schema_errors_and_missing_date(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    write_tests(project, "ruleset: upsell_timing.yaml\ncases:\n  - name: x\n"
                         "    account: {health_score: 80}\n    expect: {bandd: wait}\n")
    result = run("test", "rulesets/mine.tests.yaml", cwd=project)
    assert result.returncode == 2
    assert ("rulesets/mine.tests.yaml:5:14: E011 cases[0].expect: unknown key 'bandd' "
            "(did you mean 'band'?)") in result.stdout
    write_tests(project, "ruleset: upsell_timing.yaml\ncases:\n  - name: x\n"
                         "    account: {health_score: 80}\n    expect: {band: wait}\n")
    result = run("test", "rulesets/mine.tests.yaml", cwd=project)
    assert result.returncode == 2
    assert "rulesets/mine.tests.yaml:3:5: E306 cases[0]: no as_of" in result.stdout


def test_inline_account_and_score_range(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    write_tests(project, """\
ruleset: upsell_timing.yaml
as_of: 2026-11-02
cases:
  - name: nothing to see
    account: {arr: 1000, health_score: 90, seats_licensed: 10, seats_active_history: [2, 2, 3]}
    expect:
      score: {min: 0, max: 29.99}
      band: wait
      blocked: true
      gates: {failed: [success_milestone, champion_not_cold]}
      upsell_types: []
      owner: CSM
  - name: wrong on purpose
    account: {arr: 1000}
    expect: {score: {min: 50}, blocked: false}
""")
    result = run("test", "rulesets/mine.tests.yaml", cwd=project)
    assert result.returncode == 1
    assert "rulesets/mine.tests.yaml .F\n" in result.stdout
    assert "score: expected at least 50, got 0" in result.stdout
    assert "blocked: expected not blocked, got blocked" in result.stdout


def test_paths_folders_and_rulesets(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    by_ruleset = run("test", "rulesets/expansion_triggers.yaml", cwd=project)
    assert by_ruleset.returncode == 0
    assert by_ruleset.stdout.startswith("rulesets/expansion_triggers.tests.yaml .")
    assert "upsell_timing" not in by_ruleset.stdout
    (project / "rulesets/lonely.yaml").write_text("name: x\n", "utf-8")
    lonely = run("test", "rulesets/lonely.yaml", cwd=project)
    assert lonely.returncode == 0 and "no test file names this ruleset" in lonely.stderr
    missing = run("test", "nowhere", cwd=project)
    assert missing.returncode == 2 and "nowhere: no such file or folder" in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run("test", cwd=empty)
    assert nothing.returncode == 2 and "no rulesets/ folder" in nothing.stderr


@pytest.mark.parametrize("engine", ["python", "interpreter"])
def test_engines_agree_on_the_bundled_tests(engine: str) -> None:
    result = run("test", "--engine", engine)
    assert result.returncode == 0, result.stdout
