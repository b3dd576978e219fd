"""Numbers and text no engine can hold are refused, located, before a ruleset is built.

Before: a constant of 4,000 digits was an ``OverflowError`` traceback in ``validate``,
``dry-run`` and ``compile``; ``1e400`` compiled to ``CAST(inf AS DOUBLE)`` (a column
named ``inf``); a ``.nan`` constant was a ``NameError`` in the Python engine; a ``.nan``
tier score passed and put every account in the lowest band; a NUL in a constant went
into the compiled query, which PostgreSQL cannot take; a lone surrogate (``"\\ud800"``)
in a constant was a ``UnicodeEncodeError`` traceback in ``compile``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.ruleset.loader import check_ruleset

BASE = """\
name: numbers
version: "1"
constants:
  floor: 1
  label: "x"
signals:
  plan: {type: string}
  seats: {type: number}
  big_plan: {type: boolean, when: plan == label}
scoring:
  categories:
    product:
      weight: 1.0
      tiers:
        - {id: t1, score: 10, when: seats >= floor}
bands:
  - {id: act_now, title: "A", min: 50, max: 100, outreach: true, play: p}
  - {id: wait, title: "W", min: 0, max: 50, play: p}
gates: []
red_flags: []
triggers:
  - {id: tr, upsell_type: seat, when: big_plan, play: p, evidence: "e"}
plays:
  p: {title: "t", window: now, message: "m"}
"""

HUGE = "9" * 4000

#: (what replaces what in BASE, the value the finding points at, code, words of the message)
CASES = [
    (("floor: 1", f"floor: {HUGE}"), HUGE, "E015", "4,000 digits"),
    (("floor: 1", "floor: 1e400"), "1e400", "E015", "infinite"),
    (("floor: 1", "floor: -.inf"), "-.inf", "E015", "infinite"),
    (("floor: 1", "floor: .nan"), ".nan", "E015", "not a number"),
    (("score: 10", "score: .nan"), ".nan", "E015", "not a number"),
    (("max: 100", f"max: {HUGE}"), HUGE, "E015", "4,000 digits"),
    (("seats: {type: number}", f"seats: {{type: number, min: -{HUGE}}}"), f"-{HUGE}", "E015",
     "4,000 digits"),
    (('label: "x"', 'label: "a\\0b"'), '"a\\0b"', "E013", "NUL"),
    (('message: "m"', 'message: "m\\0"'), '"m\\0"', "E013", "NUL"),
    (('label: "x"', 'label: "x\\ud800"'), '"x\\ud800"', "E013", "lone surrogate"),
    (('title: "t"', 'title: "\\udfff"'), '"\\udfff"', "E013", "lone surrogate"),
]


def _line_col(text: str, marker: str) -> str:
    start = text.index(marker)
    line = text.count("\n", 0, start) + 1
    return f"{line}:{start - (text.rfind(chr(10), 0, start) + 1) + 1}"


@pytest.mark.parametrize(("edit", "marker", "code", "words"), CASES)
def test_a_value_no_engine_holds_is_a_located_finding(
        tmp_path: Path, edit: tuple[str, str], marker: str, code: str, words: str) -> None:
    path = tmp_path / "numbers.yaml"
    text = BASE.replace(*edit, 1)
    path.write_text(text, encoding="utf-8")
    where = _line_col(text, marker)
    ruleset, findings = check_ruleset(str(path))
    assert ruleset is None
    assert [(f"{f.location.line}:{f.location.col}", f.code) for f in findings] == [(where, code)]
    assert words in findings[0].message


def test_the_base_ruleset_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "numbers.yaml"
    path.write_text(BASE, encoding="utf-8")
    ruleset, findings = check_ruleset(str(path))
    assert ruleset is not None
    assert [f for f in findings if f.is_error] == []


@pytest.mark.parametrize("value", [HUGE, "1e400", ".nan"])
def test_every_command_refuses_it_without_a_traceback(tmp_path: Path, value: str) -> None:
    path = tmp_path / "numbers.yaml"
    path.write_text(BASE.replace("floor: 1", f"floor: {value}"), encoding="utf-8")
    data = str(ROOT / "samples" / "accounts.jsonl")
    commands = [("validate", str(path)),
                ("dry-run", str(path), "--data", data, "--as-of", AS_OF),
                ("dry-run", str(path), "--data", data, "--as-of", AS_OF, "--engine", "duckdb"),
                ("compile", str(path), "--as-of", AS_OF, "--dialect", "postgres")]
    for command in commands:
        result = run_cli(*command)
        assert result.returncode == (1 if command[0] == "validate" else 2), result.stderr
        assert "Traceback" not in result.stderr
        shown = result.stdout if command[0] == "validate" else result.stderr
        assert f"{path}:4:10: E015 constants.floor" in shown
        assert command[0] == "validate" or result.stdout == ""


def test_a_set_override_is_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "numbers.yaml"
    path.write_text(BASE, encoding="utf-8")
    result = run_cli("compile", str(path), "--as-of", AS_OF, "--set", "constants.floor=1e400")
    assert result.returncode == 2
    assert "E015 constants.floor: infinite" in result.stderr
    assert "Traceback" not in result.stderr


TEST_FILE = """\
ruleset: upsell_timing.yaml
data: accounts.csv
as_of: 2026-11-02
cases:
  - name: NAME
    sample: ACC-1001
    overrides: {plan: Team}
    expect: {EXPECT}
"""


@pytest.mark.parametrize(("name", "expect", "where", "words"), [
    ("c", f"score: {HUGE}", "8:21", "E015 cases[0].expect.score: an integer of 4,000"),
    ("c", 'owner: "x\\ud800"', "8:21", "E013 cases[0].expect.owner: the text holds a lone"),
    ('"c\\udfff"', "score: 100", "5:11", "E013 cases[0].name: the text holds a lone"),
])
def test_a_tests_file_expecting_what_no_decision_holds_is_located(
        tmp_path: Path, name: str, expect: str, where: str, words: str) -> None:
    """Before: a 4,000-digit expected score was an ``OverflowError`` traceback in ``test``,
    a lone surrogate in a case's name or expectation a ``UnicodeEncodeError`` one."""
    for name_of in ("rulesets/upsell_timing.yaml", "samples/accounts.csv"):
        (tmp_path / Path(name_of).name).write_bytes((ROOT / name_of).read_bytes())
    tests = tmp_path / "t.tests.yaml"
    tests.write_text(TEST_FILE.replace("NAME", name).replace("EXPECT", expect),
                     encoding="utf-8")
    ran = run_cli("test", str(tests), cwd=tmp_path)
    checked = run_cli("validate", str(tests), cwd=tmp_path)
    assert (ran.returncode, checked.returncode) == (2, 1)
    for result in (ran, checked):
        assert "Traceback" not in result.stderr
        assert f"{tests}:{where}: {words}" in result.stdout
