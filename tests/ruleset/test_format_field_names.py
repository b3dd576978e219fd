"""A ``formats:`` entry must name a field: a misspelt one was accepted and did nothing.

``formats: {headcount_growth90d: percent}`` (a letter missing) left the real field read
without its format, so ``12`` meant 12, not 12%, and nothing said so: not ``validate``,
not the run. It is now E152 at the misspelt key, with a did-you-mean.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from upsell_rules.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"


def _validate(tmp_path: Path, section: str) -> tuple[int, str, int]:
    text = RULESET.read_text(encoding="utf-8")
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text(text.replace("sources:\n", f"sources:\n{section}", 1), encoding="utf-8")
    first = text.splitlines().index("sources:") + 2
    result = CliRunner().invoke(cli, ["validate", str(ruleset)])
    return result.exit_code, result.output, first


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
