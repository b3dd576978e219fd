"""Ruleset validation: every finding has a stable code and an exact ``line:col``.

Each test copies ``rulesets/upsell_timing.yaml`` into ``tmp_path``, breaks one thing by
text replacement, and computes the expected position from the modified text, so the
tests stay right when the default ruleset is edited.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from upsell_rules.errors import Diagnostic
from upsell_rules.ruleset.loader import check_ruleset, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
BASE = RULESET.read_text(encoding="utf-8")
FINDING_LINE = re.compile(
    r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<code>[EW]\d{3}) (?P<msg>.+)$"
)


# --- helpers ---------------------------------------------------------------------------


def broken(tmp_path: Path, *edits: tuple[str, str], name: str = "broken.yaml") -> tuple[Path, str]:
    """Copy the default ruleset with each ``(old, new)`` applied once; return path and text."""
    text = BASE
    for old, new in edits:
        assert text.count(old) == 1, f"edit target not unique in the ruleset: {old!r}"
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text


def position(text: str, needle: str, *, start: int = 0, shift: int = 0) -> tuple[int, int]:
    """1-based (line, col) of ``needle`` (searched from ``start``) plus ``shift`` characters."""
    index = text.index(needle, start) + shift
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def findings(path: Path) -> list[Diagnostic]:
    _, found = check_ruleset(str(path))
    return found


def at(diagnostic: Diagnostic) -> tuple[int, int]:
    return diagnostic.location.line, diagnostic.location.col


def only(found: list[Diagnostic], code: str) -> Diagnostic:
    matching = [d for d in found if d.code == code]
    assert len(matching) == 1, [str(d) for d in found]
    return matching[0]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "upsell_rules", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


# --- YAML level ------------------------------------------------------------------------


def test_yaml_syntax_error_is_located_at_the_offending_character(tmp_path: Path) -> None:
    path, text = broken(tmp_path, ("  health_floor: 65 ", "  health_floor: 65: x "))
    ruleset, found = check_ruleset(str(path))
    assert ruleset is None
    assert [d.code for d in found] == ["E001"]
    # the second ':' on the line is where a mapping value is not allowed
    assert at(found[0]) == position(text, "health_floor: 65: x", shift=len("health_floor: 65"))
    assert "YAML syntax error" in found[0].message
    assert found[0].location.path == str(path)


def test_duplicate_key_keeps_both_and_reports_the_second(tmp_path: Path) -> None:
    first_line = "  health_floor: 65 "
    path, text = broken(tmp_path, (first_line, "  health_floor: 66\n" + first_line))
    found = findings(path)
    assert [d.code for d in found] == ["E006"]
    first = position(text, "health_floor: 6")
    second = position(text, "health_floor: 6", start=text.index("health_floor: 6") + 1)
    assert text.count("  health_floor: 6") == 2
    assert at(found[0]) == second
    assert "'health_floor'" in found[0].message
    assert f"first defined at line {first[0]}" in found[0].message


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object:builtins.open {{'file': '{marker}', 'mode': 'w'}}",
        "!!python/object/new:builtins.open ['{marker}', 'w']",
        "!include '{marker}'",
        "!env HEALTH_FLOOR",
    ],
    ids=["python-apply", "python-object", "python-new", "custom-include", "custom-env"],
)
def test_tags_are_refused_and_nothing_is_executed(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "executed.marker"
    value = tag.format(marker=marker)
    path, text = broken(tmp_path, ("  health_floor: 65 ", f"  health_floor: {value} "))
    ruleset, found = check_ruleset(str(path))
    assert ruleset is None
    assert not marker.exists(), "a YAML tag executed code"
    assert [d.code for d in found] == ["E002"]
    assert at(found[0]) == position(text, value)
    assert value.split()[0].lstrip("!") in found[0].message
    with pytest.raises(Exception, match="E002"):
        load_ruleset(str(path))
    assert not marker.exists()


@pytest.mark.parametrize("second", ["---\nname: other\n", "---\n"], ids=["with-content", "empty"])
def test_second_document_is_refused(tmp_path: Path, second: str) -> None:
    last = BASE.rstrip("\n").rsplit("\n", 1)[1] + "\n"
    path, text = broken(tmp_path, (last, last + second))
    found = findings(path)
    assert [d.code for d in found] == ["E003"]
    assert at(found[0]) == (text.count("\n", 0, text.rindex("---\n")) + 1, 1)


# --- schema ----------------------------------------------------------------------------


def test_unknown_top_level_key_with_did_you_mean(tmp_path: Path) -> None:
    path, text = broken(tmp_path, ("\ndescription: >-\n", "\ndescripton: >-\n"))
    found = findings(path)
    assert [d.code for d in found] == ["E011"]
    assert at(found[0]) == position(text, "descripton:")
    assert "unknown key 'descripton'" in found[0].message
    assert "did you mean 'description'" in found[0].message


def test_unknown_key_inside_a_gate_is_located_at_the_key(tmp_path: Path) -> None:
    anchor = "    require: milestone_documented\n"
    path, text = broken(tmp_path, (anchor, anchor + "    descripton: capture it first\n"))
    found = findings(path)
    assert [d.code for d in found] == ["E011"]
    assert at(found[0]) == position(text, "descripton: capture")
    assert found[0].message.startswith("gates[")
    assert "did you mean 'description'" in found[0].message


def test_unknown_key_without_close_match_lists_the_allowed_keys(tmp_path: Path) -> None:
    anchor = "    require: milestone_documented\n"
    path, _ = broken(tmp_path, (anchor, anchor + "    zzz: 1\n"))
    finding = only(findings(path), "E011")
    assert "expected one of:" in finding.message
    assert "severity" in finding.message


def test_missing_required_key_is_reported_at_the_owning_mapping(tmp_path: Path) -> None:
    gate = "  - id: health_floor\n    severity: hard\n"
    path, text = broken(tmp_path, (gate, "  - id: health_floor\n"))
    found = findings(path)
    assert [d.code for d in found] == ["E010"]
    assert at(found[0]) == position(text, "id: health_floor\n")
    assert found[0].message == "gates[0]: missing required key 'severity'"


def test_wrong_type(tmp_path: Path) -> None:
    path, text = broken(tmp_path, ("    outreach: true", "    outreach: maybe"))
    found = findings(path)
    assert [d.code for d in found] == ["E013"]
    assert at(found[0]) == position(text, "maybe")
    assert found[0].message == "bands[0].outreach: 'maybe' is not true or false"


def test_wrong_type_for_a_weight_is_located_at_the_value(tmp_path: Path) -> None:
    path, text = broken(tmp_path, ("      weight: 0.40", "      weight: heavy"))
    finding = only(findings(path), "E013")
    assert at(finding) == position(text, "heavy")
    assert "'heavy' is not a number" in finding.message


def test_bad_enum_with_did_you_mean(tmp_path: Path) -> None:
    old = "    severity: hard\n    require: health_score >= health_floor"
    path, text = broken(tmp_path, (old, old.replace("hard", "hrad")))
    found = findings(path)
    assert [d.code for d in found] == ["E014"]
    assert at(found[0]) == position(text, "hrad")
    assert "'hrad' is not one of hard, soft" in found[0].message
    assert "did you mean 'hard'" in found[0].message


# --- conditions ------------------------------------------------------------------------


def test_unknown_signal_column_points_into_the_condition(tmp_path: Path) -> None:
    old = "0 <= days_since_nps <= nps_window_days"
    path, text = broken(tmp_path, (old, old.replace("days_since_nps", "days_since_npss")))
    found = findings(path)
    assert [d.code for d in found] == ["E101"]
    line, col = at(found[0])
    assert (line, col) == position(text, "days_since_npss")
    # the column is inside the condition, not at its start
    assert col > position(text, "nps_score <= nps_detractor and")[1]
    assert "unknown signal 'days_since_npss'" in found[0].message
    assert "did you mean 'days_since_nps'" in found[0].message


def test_unknown_signal_in_a_quoted_condition(tmp_path: Path) -> None:
    old = '    when: lifecycle_stage == "at_risk"'
    path, text = broken(tmp_path, (old, "    when: 'lifecycel_stage == \"at_risk\"'"))
    finding = only(findings(path), "E101")
    assert at(finding) == position(text, "lifecycel_stage")
    assert "did you mean 'lifecycle_stage'" in finding.message


def test_unknown_signal_in_a_flow_mapping_named_condition(tmp_path: Path) -> None:
    old = "when: gated_attempts_14d >= feature_ceiling_attempts"
    path, text = broken(tmp_path, (old, old.replace("feature_ceiling_attempts", "feature_cieling")))
    finding = only(findings(path), "E101")
    assert at(finding) == position(text, "feature_cieling")


@pytest.mark.parametrize(
    ("old", "new", "needle", "code"),
    [
        (
            "and days_since_champion_contact <= champion_fresh_days",
            "and days_since_champion_contakt <= champion_fresh_days",
            "days_since_champion_contakt",
            "E101",
        ),
        (
            "{gated_attempts_14d} attempts to use",
            "{gated_attempts_14dd} attempts to use",
            "{gated_attempts_14dd}",
            "E140",
        ),
        (
            "    when: competitor_evaluation\n",
            "    when: health_score > 3 and\n      competitor_evaluaton\n",
            "competitor_evaluaton",
            "E101",
        ),
    ],
    ids=["folded-condition", "folded-template", "plain-multiline-condition"],
)
def test_findings_in_multiline_scalars_have_an_exact_column(
    tmp_path: Path, old: str, new: str, needle: str, code: str
) -> None:
    path, text = broken(tmp_path, (old, new))
    finding = only(findings(path), code)
    assert at(finding) == position(text, needle)
    assert FINDING_LINE.match(str(finding)), str(finding)


def test_condition_syntax_error_column(tmp_path: Path) -> None:
    old = "    require: health_score >= health_floor"
    path, text = broken(tmp_path, (old, "    require: health_score >= >= health_floor"))
    found = findings(path)
    assert [d.code for d in found] == ["E103"]
    # the second '>=' is where a value was expected
    assert at(found[0]) == position(text, ">= >=", shift=3)
    assert found[0].message.startswith("gates[0].require: ")


def test_boolean_compared_with_a_number(tmp_path: Path) -> None:
    old = "    when: competitor_evaluation\n"
    path, text = broken(tmp_path, (old, "    when: competitor_evaluation > 3\n"))
    found = findings(path)
    assert [d.code for d in found] == ["E102"]
    assert at(found[0]) == position(text, "competitor_evaluation > 3")
    assert "boolean" in found[0].message and "number" in found[0].message


# --- scoring, bands, tiers -------------------------------------------------------------


def test_weights_must_sum_to_one(tmp_path: Path) -> None:
    path, text = broken(tmp_path, ("      weight: 0.40", "      weight: 0.45"))
    found = findings(path)
    assert [d.code for d in found] == ["E120"]
    assert at(found[0]) == position(text, "categories:")
    assert "sum to 1.05" in found[0].message
    assert "product 0.45" in found[0].message


@pytest.mark.parametrize(
    ("warming_max", "words"),
    [("65", "gap between warming (max 65) and act_now (min 70)"), ("75", "overlaps warming")],
    ids=["gap", "overlap"],
)
def test_band_gap_and_overlap(tmp_path: Path, warming_max: str, words: str) -> None:
    old = "    min: 50\n    max: 70"
    path, text = broken(tmp_path, (old, f"    min: 50\n    max: {warming_max}"))
    found = findings(path)
    assert [d.code for d in found] == ["E121"]
    # reported at the min of the band above the gap / overlap (act_now)
    assert at(found[0]) == position(text, "    min: 70", shift=len("    min: "))
    assert words in found[0].message


@pytest.mark.parametrize(
    ("new", "words"),
    [
        (
            "          score: 5\n          when: max_limit_utilization >= 80%",
            "unreachable: tier 'limit_over_80' (score 8) matches whenever this one does",
        ),
        (
            "          score: 0\n          when: feature_ceiling_hit",
            "score 0 cannot beat the category default 0",
        ),
    ],
    ids=["duplicate-of-higher-tier", "score-zero"],
)
def test_unreachable_tier_is_a_warning(tmp_path: Path, new: str, words: str) -> None:
    old = "          score: 5\n          when: feature_ceiling_hit"
    path, text = broken(tmp_path, (old, new))
    ruleset, found = check_ruleset(str(path))
    assert [d.code for d in found] == ["W122"]
    assert not found[0].is_error
    assert ruleset is not None
    when = new.split("when: ")[1]
    assert at(found[0]) == position(text, new, shift=new.index(when))
    assert "feature_ceiling_only" in found[0].message
    assert words in found[0].message
    load_ruleset(str(path))  # a warning does not stop the ruleset from loading


@pytest.mark.parametrize(
    ("old", "new", "first_needle"),
    [
        (
            "        - id: limit_over_80\n",
            "        - id: limit_over_90_and_ceiling\n",
            "- id: limit_over_90_and_ceiling",
        ),
        ("  - id: named_gap\n", "  - id: health_floor\n", "  - id: health_floor"),
    ],
    ids=["same-category", "trigger-vs-gate"],
)
def test_duplicate_rule_id(tmp_path: Path, old: str, new: str, first_needle: str) -> None:
    path, text = broken(tmp_path, (old, new))
    found = findings(path)
    assert [d.code for d in found] == ["E110"]
    rule_id = new.split("id: ")[1].strip()
    first_line, _ = position(text, first_needle)
    second = BASE.index(old)  # one edit: the text before it is unchanged
    assert at(found[0]) == position(text, rule_id, start=second)
    assert found[0].location.line > first_line
    assert f"duplicate id '{rule_id}' (first used at line {first_line})" in found[0].message


# --- references ------------------------------------------------------------------------


def test_unknown_upsell_type_with_did_you_mean(tmp_path: Path) -> None:
    path, text = broken(tmp_path, ("    upsell_type: addon", "    upsell_type: adon"))
    found = findings(path)
    assert [d.code for d in found] == ["E130"]
    assert at(found[0]) == position(text, "adon")
    assert "unknown upsell type 'adon'" in found[0].message
    assert "did you mean 'addon'" in found[0].message


def test_unknown_play(tmp_path: Path) -> None:
    path, text = broken(tmp_path, ("    play: addon_gap\n", "    play: addon_gapp\n"))
    found = findings(path)
    assert [d.code for d in found] == ["E131"]
    assert at(found[0]) == position(text, "addon_gapp")
    assert "unknown play 'addon_gapp'" in found[0].message
    assert "did you mean 'addon_gap'" in found[0].message


def test_unknown_derivation(tmp_path: Path) -> None:
    path, text = broken(tmp_path, ("derive: growth_rate", "derive: growth_rat"))
    found = findings(path)
    assert [d.code for d in found] == ["E133"]
    assert at(found[0]) == position(text, "growth_rat,")
    assert "unknown derivation 'growth_rat'" in found[0].message
    assert "did you mean 'growth_rate'" in found[0].message


def test_derivation_parameter_of_the_wrong_kind(tmp_path: Path) -> None:
    old = "params: {series: usage_history, rate: 0.20}"
    path, text = broken(tmp_path, (old, old.replace("0.20", "fast")))
    found = findings(path)
    assert [d.code for d in found] == ["E134"]
    assert at(found[0]) == position(text, "fast}")
    assert "parameter 'rate' must be a number" in found[0].message


def test_derivation_parameter_misspelt(tmp_path: Path) -> None:
    old = "params: {series: usage_history, rate: 0.20}"
    path, text = broken(tmp_path, (old, old.replace("rate:", "rat:")))
    found = findings(path)
    assert {d.code for d in found} == {"E134"}
    unknown = [d for d in found if "has no parameter 'rat'" in d.message]
    assert len(unknown) == 1
    assert at(unknown[0]) == position(text, "rat: 0.20")
    assert "did you mean 'rate'" in unknown[0].message
    assert any("needs parameter 'rate'" in d.message for d in found)


def test_unknown_template_placeholder(tmp_path: Path) -> None:
    old = "{health_score:int}. ]Work on"
    path, text = broken(tmp_path, (old, old.replace("health_score", "helth_score")))
    found = findings(path)
    assert [d.code for d in found] == ["E140"]
    assert at(found[0]) == position(text, "{helth_score")
    assert "unknown placeholder '{helth_score}'" in found[0].message
    assert "did you mean 'health_score'" in found[0].message


def test_template_syntax_error(tmp_path: Path) -> None:
    path, text = broken(tmp_path, ("    window: this week\n", "    window: this {week\n"))
    finding = only(findings(path), "E140")
    assert at(finding) == position(text, "{week")


# --- all at once, and the clean default -----------------------------------------------


THREE_BREAKS = (
    (
        "    severity: hard\n    require: health_score >= health_floor",
        "    severity: hrad\n    require: health_score >= health_floor",
    ),
    ("    upsell_type: addon", "    upsell_type: adon"),
    ("derive: growth_rate", "derive: growth_rat"),
)


def test_all_findings_are_reported_at_once_sorted_by_line(tmp_path: Path) -> None:
    path, text = broken(tmp_path, *THREE_BREAKS)
    found = findings(path)
    assert len(found) == 3, [str(d) for d in found]
    lines = [d.location.line for d in found]
    assert lines == sorted(lines)
    expected = sorted(
        [
            (*position(text, "growth_rat,"), "E133"),
            (*position(text, "hrad"), "E014"),
            (*position(text, "adon"), "E130"),
        ]
    )
    assert [(*at(d), d.code) for d in found] == expected


def test_cli_prints_all_findings_in_path_line_col_format(tmp_path: Path) -> None:
    path, text = broken(tmp_path, *THREE_BREAKS)
    result = cli("validate", str(path))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    parsed = [FINDING_LINE.match(line) for line in lines]
    assert all(parsed), lines
    got = [(m["path"], int(m["line"]), int(m["col"]), m["code"]) for m in parsed if m]
    assert got == [
        (str(path), *position(text, "growth_rat,"), "E133"),
        (str(path), *position(text, "hrad"), "E014"),
        (str(path), *position(text, "adon"), "E130"),
    ]
    assert "3 error(s), 0 warning(s) in 1 file(s)" in result.stderr


def test_cli_json_findings_match_the_text_ones(tmp_path: Path) -> None:
    path, text = broken(tmp_path, ("    upsell_type: addon", "    upsell_type: adon"))
    result = cli("validate", "--format", "json", str(path))
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    line, col = position(text, "adon")
    assert payload == [
        {
            "path": str(path),
            "line": line,
            "col": col,
            "code": "E130",
            "severity": "error",
            "message": "triggers[7].upsell_type: unknown upsell type 'adon' "
            "(did you mean 'addon'?)",
            "doc": "authoring.md#diagnostic-codes",
        }
    ]


def test_cli_warnings_only_still_exit_1(tmp_path: Path) -> None:
    old = "          score: 5\n          when: feature_ceiling_hit"
    path, _ = broken(tmp_path, (old, "          score: 0\n          when: feature_ceiling_hit"))
    result = cli("validate", str(path))
    assert result.returncode == 1
    assert " W122 " in result.stdout
    assert "0 error(s), 1 warning(s)" in result.stderr


# Ruleset test files (*.tests.yaml) live beside the rulesets; they are not rulesets.
DEFAULT_RULESETS = sorted(
    p for p in (ROOT / "rulesets").glob("*.yaml") if not p.name.endswith(".tests.yaml")
)


@pytest.mark.parametrize("path", DEFAULT_RULESETS, ids=[p.name for p in DEFAULT_RULESETS])
def test_default_rulesets_are_clean(path: Path) -> None:
    ruleset, found = check_ruleset(str(path))
    assert found == []
    assert ruleset is not None


def test_default_rulesets_validate_clean_with_exit_0() -> None:
    assert DEFAULT_RULESETS
    result = cli("validate", *(str(p) for p in DEFAULT_RULESETS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert f"{len(DEFAULT_RULESETS)} file(s) valid" in result.stderr
