"""Errors a RevOps person understands: plain words, at the line to fix, one per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
BASE = (ROOT / "rulesets" / "upsell_timing.yaml").read_text(encoding="utf-8")


def validate(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    return [line for line in result.stdout.splitlines() if line.startswith(str(path))]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def test_a_missing_colon_is_reported_on_its_own_line(tmp_path: Path) -> None:
    text = edit("  health_ready: 75", "  health_ready 75")
    [error] = validate(tmp_path, text)
    assert f":{line_of(text, 'health_ready 75')}:3: E001" in error
    assert "this line has no ':' after its key ('health_ready 75'); write 'key: value'" in error


def test_a_missing_colon_before_the_next_key_is_reported_on_its_own_line(
    tmp_path: Path,
) -> None:
    # Without its colon, the key runs into the next line's key: the parser stops there,
    # but the mistake is on the line above.
    text = edit("    title: Start the expansion conversation\n    window: this week",
                "    title Start the expansion conversation\n    window: this week")
    [error] = validate(tmp_path, text)
    assert f":{line_of(text, 'title Start the expansion')}:5: E001" in error
    assert ("this line has no ':' after its key ('title Start the expansion conversation'); "
            "write 'key: value'") in error


def test_bad_indentation_says_to_check_it_against_the_line_above(tmp_path: Path) -> None:
    text = edit("  health_ready: 75", "   health_ready: 75")
    [error] = validate(tmp_path, text)
    assert f":{line_of(text, '   health_ready')}:" in error
    assert "check this line's indentation against the line above" in error


def test_a_condition_starting_with_a_quote_must_be_quoted_whole(tmp_path: Path) -> None:
    text = edit('when: lifecycle_stage == "at_risk"', 'when: "at_risk" == lifecycle_stage')
    [error] = validate(tmp_path, text)
    assert "a value that starts with a quote must be quoted as a whole" in error
    assert "write '\"at_risk\" == lifecycle_stage'" in error


def test_a_misspelt_key_is_one_error(tmp_path: Path) -> None:
    errors = validate(tmp_path, edit("    effect: cap\n    cap: downgrade_cap",
                                     "    efect: block\n    cap: downgrade_cap"))
    assert len(errors) == 1
    assert "unknown key 'efect' (did you mean 'effect'?)" in errors[0]


def test_an_unknown_type_is_one_error_without_numeric_advice(tmp_path: Path) -> None:
    errors = validate(tmp_path, edit("competitor_evaluation: {type: boolean",
                                     "competitor_evaluation: {type: bool"))
    assert len(errors) == 1, errors
    assert "did you mean 'boolean'?" in errors[0]
    assert ">= 10" not in "".join(errors)


def test_a_bad_constant_is_reported_at_the_constant(tmp_path: Path) -> None:
    text = edit("  health_floor: 65 ", "  health_floor: sixty-five ")
    errors = validate(tmp_path, text)
    assert len(errors) == 1, errors
    assert f":{line_of(text, 'health_floor: sixty')}:" in errors[0]
    assert "constants.health_floor: 'sixty-five' is text" in errors[0]


@pytest.mark.parametrize(("written", "fraction"), [("45%", "0.45"), ("40 %", "0.4")])
def test_a_percent_weight_suggests_the_fraction(tmp_path: Path, written: str,
                                                fraction: str) -> None:
    [error] = validate(tmp_path, edit("weight: 0.40", f"weight: {written}"))
    assert f"is not a number (write a fraction: {fraction})" in error


def test_a_play_appended_under_sources_is_recognised(tmp_path: Path) -> None:
    text = BASE.rstrip() + (
        "\n  my_new_play:\n    title: New play\n    window: this week\n    owner: deal_size\n"
    )
    [error] = validate(tmp_path, text)
    assert "sources.my_new_play: this looks like a play" in error
    assert "move it under plays:" in error


@pytest.mark.parametrize("name", ["accounts.xlsx", "accounts.ods"])
def test_spreadsheets_get_a_save_as_csv_hint(tmp_path: Path, name: str) -> None:
    # (A .tsv is read: tests/io/test_tsv_and_spreadsheets.py.)
    data = tmp_path / name
    data.write_bytes(b"account_id\thealth_score\nA\t90\n")
    result = CliRunner().invoke(cli, ["dry-run", str(ROOT / "rulesets" / "upsell_timing.yaml"),
                                      "--data", str(data), "--as-of", "2026-11-02"])
    assert result.exit_code == 2
    assert "CSV UTF-8" in result.stderr


def test_a_test_file_reports_every_problem_and_takes_yes_no(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a test file reads only files under the current folder
    (tmp_path / "rules.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "accounts.csv").write_bytes((ROOT / "samples" / "accounts.csv").read_bytes())
    tests = tmp_path / "rules.tests.yaml"
    tests.write_text(
        "ruleset: rules.yaml\ndata: accounts.csv\nas_of: 2026-11-02\ncases:\n"
        "  - name: one\n    sample: ACC-1001\n    expect: {blocked: no, band: act_now}\n"
        "  - name: two\n    sample: ACC-1002\n    expect: {bnad: act_now}\n"
        "  - name: three\n    sample: ACC-9999\n    expect: {blocked: yes}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["test", str(tests)])
    assert result.exit_code in (1, 2)  # a file that cannot be loaded is an error
    assert "unknown key 'bnad'" in result.stdout
    assert "no account 'ACC-9999'" in result.stdout
    tests.write_text(tests.read_text().replace("bnad", "band").replace("ACC-9999", "ACC-1029"))
    result = CliRunner().invoke(cli, ["test", str(tests)])
    assert result.exit_code == 0, result.stdout


@pytest.mark.parametrize("operator", [">=", ">"])
def test_a_quoted_start_before_a_greater_than_gets_the_same_advice(
    tmp_path: Path, operator: str
) -> None:
    # YAML reads ">" after the closing quote as the start of a folded block.
    text = edit("when: seat_utilization >= 85%", f'when: "seat_utilization" {operator} 85%')
    [error] = validate(tmp_path, text)
    line = line_of(text, 'when: "seat_utilization"')
    assert f":{line}:11: E001" in error
    assert "a value that starts with a quote must be quoted as a whole" in error


def test_a_tab_is_named_and_the_fix_given(tmp_path: Path) -> None:
    # Editors often show a tab as spaces, so the parser's "'\t' that cannot start any
    # token" leaves a person looking at a line that seems right.
    text = edit("    severity: hard\n    require: health_score >= health_floor",
                "\tseverity: hard\n    require: health_score >= health_floor")
    [error] = validate(tmp_path, text)
    assert f":{line_of(text, chr(9) + 'severity')}:1: E001" in error
    assert "a tab character here: YAML needs spaces, never tabs" in error
    assert "replace it with spaces" in error


@pytest.mark.parametrize("opening, closing", [("\u201c", "\u201d"), ("\u2018", "\u2019")])
def test_curly_quotes_from_a_word_processor_are_named(
    tmp_path: Path, opening: str, closing: str
) -> None:
    text = edit('when: lifecycle_stage == "at_risk"',
                f"when: lifecycle_stage == {opening}at_risk{closing}")
    [error] = validate(tmp_path, text)
    line = line_of(text, opening)
    column = text.splitlines()[line - 1].index(opening) + 1
    assert f":{line}:{column}: E103" in error
    assert (f"unexpected character '{opening}' (a curly quote, as a word processor types "
            "it: use a straight quote, \" or ')") in error


TIER_SCORE = "          score: 10\n          # seeds: \">90%"
CAP = "    effect: cap\n    cap: downgrade_cap"


@pytest.mark.parametrize("old, new, message", [
    (TIER_SCORE, TIER_SCORE.replace("10", "20%", 1),
     "E013 scoring.categories.product.tiers[0].score: '20%' is not a number or the name of "
     "a constant"),
    (TIER_SCORE, TIER_SCORE.replace("10", "-5", 1),
     "E015 scoring.categories.product.tiers[0].score: -5 must be at least 0"),
    (CAP, CAP.replace("cap: downgrade_cap", "cap: 130"),
     "E015 red_flags[9].cap: 130 must be at most 100"),
])
def test_a_value_that_fits_no_form_is_one_plain_error(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    # Was "is not valid under any of the given schemas" (the schema checker's words),
    # and for 20% a second error reading it as a constant's name.
    errors = [e for e in validate(tmp_path, edit(old, new)) if ": E" in e]
    assert len(errors) == 1, errors
    assert errors[0].endswith(message)


def test_a_band_limit_that_is_not_a_number_is_not_also_a_gap(tmp_path: Path) -> None:
    text = edit("    min: 70\n    max: 100", "    min: 7O\n    max: 100")
    [error] = validate(tmp_path, text)
    assert error.endswith("E013 bands[0].min: '7O' is not a number")


def test_a_score_in_points_compared_with_a_percentage_is_w261(tmp_path: Path) -> None:
    # 75% is 0.75: the gate would pass for every account with any health score at all.
    old = "    require: health_score >= health_ready"
    text = edit(old, "    require: health_score >= 75%")
    [warning] = validate(tmp_path, text)
    assert warning.endswith(
        f":{line_of(text, 'health_score >= 75%')}:14: W261 gates.health_marginal: health_score "
        "is counted in points, compared with 75%, which is 0.75; write 75 if you mean 75 "
        "points")
    # Fractions compared with percentages, and the bundled rulesets, stay quiet.
    for ruleset in ("upsell_timing", "expansion_triggers"):
        clean = CliRunner().invoke(cli, ["validate", str(ROOT / "rulesets" / f"{ruleset}.yaml")])
        assert clean.exit_code == 0 and "W261" not in clean.output


@pytest.mark.parametrize("indent", ["\u00a0   ", "  \u00a0 "])
def test_a_non_breaking_space_in_the_indentation_is_named(tmp_path: Path, indent: str) -> None:
    # Pasted from a web page, it looks like a space and YAML does not read it as one.
    old = "    severity: soft\n    require: health_score >= health_ready"
    text = edit(old, old.replace("\n    require", f"\n{indent}require"))
    [error] = validate(tmp_path, text)
    line = line_of(text, f"{indent}require")
    assert f":{line}:{indent.index(chr(0xa0)) + 1}: E001" in error
    assert "this line is indented with a non-breaking space" in error
    assert "retype the indentation with ordinary spaces" in error


def test_yes_where_a_ruleset_wants_true_says_to_write_true(tmp_path: Path) -> None:
    text = edit("    outreach: true", "    outreach: yes")
    [error] = validate(tmp_path, text)
    assert error.endswith("E013 bands[0].outreach: 'yes' is not true or false (write true: "
                          "a ruleset reads 'yes' as text)")
