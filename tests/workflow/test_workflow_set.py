"""What-if overrides (``--set path=value``): applied before the checks, like a file edit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.workflow.support import AS_OF, ROOT, decisions, run
from upsell_rules.ruleset.overrides import OverrideError, parse_override, parse_value

RULESET = "rulesets/upsell_timing.yaml"


def dry(*extra: str) -> tuple[int, str, str]:
    result = run("dry-run", RULESET, "--data", "samples/accounts.csv", "--as-of", AS_OF,
                 "--format", "json", *extra)
    return result.returncode, result.stdout, result.stderr


def line_of(text: str) -> int:
    for number, line in enumerate((ROOT / RULESET).read_text("utf-8").splitlines(), 1):
        if line.strip() == text:
            return number
    raise AssertionError(text)


def test_override_changes_the_decision_and_the_identity() -> None:
    plain = decisions(RULESET, ROOT)
    lowered = decisions(RULESET, ROOT, "--set", "bands.act_now.min=65")
    assert plain["ACC-1011"]["band"] == "warming" and lowered["ACC-1011"]["band"] == "act_now"
    file_sha = hashlib.sha256((ROOT / RULESET).read_bytes()).hexdigest()
    assert plain["ACC-1011"]["ruleset"]["sha256"] == file_sha
    assert "overrides" not in plain["ACC-1011"]["ruleset"]
    block = lowered["ACC-1011"]["ruleset"]
    assert block["overrides"] == ["bands.act_now.min=65"]
    assert block["sha256"] != file_sha and len(block["sha256"]) == 64


def test_band_boundary_moves_with_a_note() -> None:
    code, _, err = dry("--set", "bands.act_now.min=65")
    assert code == 0
    assert ("--set bands.act_now.min=65 also moved bands.warming.max from 70 to 65 "
            "(bands share their boundaries)") in err


def test_a_band_limit_that_is_not_a_number_is_one_error() -> None:
    # The neighbour's limit is not moved to 'sixty', so the mistake is reported once,
    # at the value the person set, with no note about a boundary that did not move.
    code, out, err = dry("--set", "bands.act_now.min=sixty")
    assert code == 2 and out == ""
    line = line_of("min: 70")
    errors = [e for e in err.splitlines() if ": E" in e]
    assert errors == [f"{RULESET}:{line}:10: E013 bands[0].min: 'sixty' is not a number "
                      "(from --set bands.act_now.min=sixty)"]
    assert "also moved" not in err


def test_list_items_by_id_and_scalar_values() -> None:
    soft = decisions(RULESET, ROOT, "--set", "gates.health_floor.severity=soft")
    assert soft["ACC-1013"]["blocked"] is False
    assert soft["ACC-1013"]["action"]["play"] == "warming_touchpoint"  # its band's play
    floor = decisions(RULESET, ROOT, "--set", "constants.health_floor=70")
    assert floor["ACC-1037"]["blocked"] is True  # health 67


def test_invalid_value_is_reported_like_a_file_error() -> None:
    code, out, err = dry("--set", "gates.health_floor.severity=medium")
    assert code == 2 and out == ""
    line = line_of("severity: hard")
    assert (f"rulesets/upsell_timing.yaml:{line}:15: E014 gates[0].severity: 'medium' is not "
            "one of hard, soft (from --set gates.health_floor.severity=medium)") in err
    assert "with --set gates.health_floor.severity=medium: 1 error(s)" in err


def test_semantic_checks_apply_to_overrides() -> None:
    code, _, err = dry("--set", "scoring.categories.product.weight=0.45")
    assert code == 2
    assert "E120 scoring.categories: weights must sum to 1, they sum to 1.05" in err
    code, _, err = dry("--set", "gates.health_floor.require=health_scor >= 70")
    assert code == 2
    assert "unknown signal 'health_scor' (did you mean 'health_score'?)" in err
    assert "(from --set gates.health_floor.require=health_scor >= 70)" in err


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("bands.act_nwo.min=3", "bands has no item 'act_nwo' (did you mean 'act_now'?)"),
        ("constants.helth_floor=70", "constants has no 'helth_floor' (did you mean 'health_floor'?)"),
        ("gates.health_floor.severty=soft", "gates.health_floor has no 'severty' (did you mean 'severity'?)"),
        ("scoring.categories=1", "scoring.categories is a mapping; name one value inside it"),
        ("novalue", "expected path=value"),
    ],
)
def test_unknown_paths_are_usage_errors(override: str, message: str) -> None:
    code, out, err = dry("--set", override)
    assert code == 2 and out == ""
    assert f"upsell-rules: error: --set {override}" in err and message in err


def test_optional_keys_the_schema_allows_can_be_added() -> None:
    code, _, err = dry("--set", "scoring.scale=10")
    assert code == 0, err


def test_value_parsing() -> None:
    assert parse_value("65") == 65 and parse_value("0.45") == 0.45
    assert parse_value("true") is True and parse_value("soft") == "soft"
    assert parse_value("2026-11-02") == "2026-11-02"
    assert parse_value("") is None and parse_value("null") is None
    assert parse_value("{seats} of {limit}") == "{seats} of {limit}"
    assert parse_value("'65'") == "65"
    assert parse_override("a.b= x = y").value == "x = y"
    with pytest.raises(OverrideError):
        parse_override("a..b=1")


def test_dry_run_help_documents_set(tmp_path: Path) -> None:
    result = run("dry-run", "--help", cwd=tmp_path)
    assert "--set PATH=VALUE" in result.stdout
