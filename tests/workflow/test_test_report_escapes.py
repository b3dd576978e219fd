"""Case names and values with control characters: the text report shows them as escapes,
and the JUnit XML report stays well-formed.

A YAML double-quoted string may hold any character through an escape (``"\\x1b"``,
``"\\0"``). Such a case name reached the terminal raw in ``upsell-rules test``'s text
report, and made the JUnit XML unreadable (XML 1.0 cannot hold most control characters,
not even escaped), so CI showed no results at all.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workflow.support import ROOT, run
from upsell_rules.errors import Location
from upsell_rules.workflow.junit import junit_tree
from upsell_rules.workflow.ruleset_tests import CaseResult, FileResult

TESTS = """\
ruleset: upsell_timing.yaml
data: accounts.csv
as_of: 2026-11-02
cases:
  - name: "evil \\x1b]0;pwned\\x07 \\x1b[2J \\x9b31m name"
    sample: ACC-1001
    expect: {score: 99}
  - name: "nul \\0 and bell \\a"
    sample: ACC-1001
    expect: {band: act_now}
"""


def _project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "rulesets" / "upsell_timing.yaml", tmp_path / "upsell_timing.yaml")
    shutil.copy(ROOT / "samples" / "accounts.csv", tmp_path / "accounts.csv")
    (tmp_path / "evil.tests.yaml").write_text(TESTS, encoding="utf-8")
    return tmp_path


def test_names_with_escapes_are_shown_as_text_and_junit_stays_readable(tmp_path: Path) -> None:
    project = _project(tmp_path)
    junit = tmp_path / "report.xml"
    result = run("test", "evil.tests.yaml", "--junit-xml", str(junit), cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert not any(ch in result.stdout for ch in "\x1b\x07\x9b\x00")
    assert "FAILED evil.tests.yaml:5: evil \\x1b]0;pwned\\x07 \\x1b[2J \\x9b31m name" in (
        result.stdout
    )
    root = ET.parse(junit).getroot()
    names = [case.get("name") for case in root.iter("testcase")]
    assert names == ["evil \\x1b]0;pwned\\x07 \\x1b[2J \x9b31m name", "nul \\x00 and bell \\x07"]
    failure = next(root.iter("failure"))
    assert "\\x1b]0;pwned" in (failure.text or "")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=20))
def test_any_case_name_gives_well_formed_xml(name: str) -> None:
    case = CaseResult(name=name, location=Location("x.tests.yaml", 5, 1), as_of="2026-11-02",
                      account_id="A1")
    tree = junit_tree([FileResult(path="x.tests.yaml", cases=[case])])
    text = ET.tostring(tree.getroot(), encoding="unicode")
    assert ET.fromstring(text).find("testsuite/testcase") is not None
