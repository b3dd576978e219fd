"""``validate`` reports a source's unknown format or preset at its YAML line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.io.mapping import format_problem

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"


def _validate(tmp_path: Path, section: str) -> tuple[int, str, int]:
    text = RULESET.read_text(encoding="utf-8")
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text(text.replace("sources:\n", f"sources:\n{section}", 1), encoding="utf-8")
    first = text.splitlines().index("sources:") + 2  # the line after "sources:"
    result = CliRunner().invoke(cli, ["validate", str(ruleset)])
    return result.exit_code, result.output, first


@pytest.mark.parametrize(
    ("section", "line", "fragment"),
    [
        ("  csv:\n    date_order: DD/MM/YYYY\n", 1,
         "E152 sources.csv.date_order: date_order 'DD/MM/YYYY' is not one of 'YMD', 'DMY', 'MDY'"),
        ("  csv:\n    number_format: '1.234'\n", 1,
         "E152 sources.csv.number_format: number_format '1.234' is not one of '1234.56', "
         "'1,234.56'"),
        ("  csv:\n    formats:\n      renewal_date: DMY\n      arr: currency\n", 3,
         "E152 sources.csv.formats.arr: 'currency' is not a format (use one of YMD, DMY, MDY"),
        ("  json:\n    preset: zendesk_tickets\n", 1,
         "E152 sources.json.preset: preset 'zendesk_tickets' is not a preset of this source "
         "(presets: hubspot_companies"),
        ("  events:\n    preset: amplitude\n", 1,
         "preset 'amplitude' is not a preset of this source (presets: amplitude_events, "
         "posthog_events"),
    ],
)
def test_an_unknown_format_is_reported_at_its_line_with_the_accepted_values(
    tmp_path: Path, section: str, line: int, fragment: str
) -> None:
    if section.startswith("  events:"):  # the ruleset has an events section: extend it
        section = ""
        text = RULESET.read_text(encoding="utf-8").replace(
            "sources:\n  events:\n", "sources:\n  events:\n    preset: amplitude\n", 1)
        ruleset = tmp_path / "rules.yaml"
        ruleset.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(cli, ["validate", str(ruleset)])
        code, output = result.exit_code, result.output
        first = text.splitlines().index("sources:") + 2
    else:
        code, output, first = _validate(tmp_path, section)
    assert code == 1, output
    assert f"rules.yaml:{first + line}:" in output
    assert fragment in output


def test_declared_formats_that_exist_pass_validate(tmp_path: Path) -> None:
    code, output, _ = _validate(tmp_path, (
        "  csv:\n    preset: salesforce_accounts\n    date_order: DMY\n"
        "    number_format: '1.234,56'\n    formats: {headcount_growth_90d: percent, "
        "seats_active_history: 'list:,', gated_feature_attempts: 'list:;:MDY'}\n"
    ))
    assert code == 0, output


@pytest.mark.parametrize("spec", ["YMD", "1,234.56", "percent", "list:,", "list:;:DMY"])
def test_format_problem_accepts_every_documented_format(spec: str) -> None:
    assert format_problem(spec) is None


@pytest.mark.parametrize("spec", ["ymd", "currency", "list:", "list:,:XYZ", "1234"])
def test_format_problem_names_the_accepted_values(spec: str) -> None:
    problem = format_problem(spec)
    assert problem is not None and "percent" in problem and "list:SEPARATOR" in problem


# A formats: entry must name a field: a misspelt one was accepted and did nothing, so
# `formats: {headcount_growth90d: percent}` left 12 read as 12, not 12%.


def test_a_misspelt_field_under_formats_is_reported_at_its_key(tmp_path: Path) -> None:
    code, output, first = _validate(
        tmp_path, "  csv:\n    formats:\n      renewal_date: DMY\n      headcount_growth90d: "
                  "percent\n")
    assert code == 1, output
    assert (f"rules.yaml:{first + 3}:7: E152 sources.csv.formats.headcount_growth90d: "
            "'headcount_growth90d' is not a field of the data contract or a signal of this "
            "ruleset (did you mean 'headcount_growth_90d'?)") in output
    assert output.count("E152") == 1


def test_fields_and_the_ruleset_s_own_signals_are_accepted(tmp_path: Path) -> None:
    code, output, _ = _validate(
        tmp_path, "  jsonl:\n    formats: {headcount_growth_90d: percent, renewal_date: DMY}\n")
    assert code == 0, output
