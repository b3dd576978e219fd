"""The bundled rulesets declare the ranges of their input signals (issue 13, item 5).

A new user's export with a negative seat count, or headcount growth written 5 (meant 5%),
must not be decided on that value: it is left out of the account with a located warning
that names the range (and, for a fraction, how to declare percentage points), and the
account is decided exactly as if the cell were empty.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "accounts.csv"
AS_OF = "2026-11-02"
RULESETS = ["upsell_timing", "expansion_triggers"]


def _rows() -> list[dict[str, str]]:
    return list(csv.DictReader(SAMPLE.open(encoding="utf-8", newline="")))


def _decide(ruleset: str, rows: list[dict[str, str]], tmp_path: Path) -> tuple[list[dict], str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = tmp_path / "accounts.csv"
    data.write_text(out.getvalue(), encoding="utf-8")
    result = CliRunner().invoke(cli, [
        "dry-run", str(ROOT / "rulesets" / f"{ruleset}.yaml"), "--data", str(data),
        "--as-of", AS_OF, "--format", "json",
    ])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def _comparable(decision: dict) -> dict:
    kept = dict(decision)
    for key in ("account_id", "data_warnings", "ruleset"):
        kept.pop(key, None)
    return kept


@pytest.mark.parametrize("ruleset", RULESETS)
@pytest.mark.parametrize(
    ("field", "written", "reason"),
    [
        ("seats_licensed", "-25", "'-25' is below the minimum 0"),
        ("seats_active_history", "14|-16|19", "has an item -16 that is below the minimum 0"),
        ("health_score", "910", "'910' is above the maximum 100"),
        ("arr", "-18600", "'-18600' is below the minimum 0"),
    ],
)
def test_an_out_of_range_value_is_decided_as_if_the_cell_were_empty(
    tmp_path: Path, ruleset: str, field: str, written: str, reason: str
) -> None:
    base = next(r for r in _rows() if r["account_id"] == "ACC-1001")
    empty = dict(base, account_id="EMPTY", **{field: ""})
    wrong = dict(base, account_id="WRONG", **{field: written})
    decisions, stderr = _decide(ruleset, [empty, wrong], tmp_path)
    by_id = {d["account_id"]: d for d in decisions}
    assert _comparable(by_id["WRONG"]) == _comparable(by_id["EMPTY"])
    assert field in by_id["WRONG"]["missing_signals"]
    [warning] = by_id["WRONG"]["data_warnings"]
    assert warning["field"] == field and reason.split("' ")[-1] in warning["reason"]
    assert f"accounts.csv:3: {field}: " in stderr and "is missing for WRONG" in stderr


def test_negative_seats_never_rank_first(tmp_path: Path) -> None:
    rows = _rows()
    # Both negative: their ratio reads as 460% utilization unless the values are left out.
    rows[-1] = dict(rows[-1], seats_licensed="-5", seats_active_history="-14|-16|-19|-21|-23")
    decisions, _ = _decide("upsell_timing", rows, tmp_path)
    first = max(decisions, key=lambda d: d["score"])
    assert first["account_id"] != rows[-1]["account_id"]
    bad = next(d for d in decisions if d["account_id"] == rows[-1]["account_id"])
    assert not bad["upsell_types"] or "seat" not in bad["upsell_types"]


def test_growth_written_as_percentage_points_does_not_fire_the_business_event(
    tmp_path: Path,
) -> None:
    base = next(r for r in _rows() if r["account_id"] == "ACC-1001")
    assert not base["headcount_growth_90d"]
    meant = dict(base, account_id="MEANT", headcount_growth_90d="0.05")
    points = dict(base, account_id="POINTS", headcount_growth_90d="5")
    decisions, stderr = _decide("upsell_timing", [meant, points], tmp_path)
    by_id = {d["account_id"]: d for d in decisions}
    assert _comparable(by_id["POINTS"]) == _comparable(dict(by_id["MEANT"], missing_signals=(
        by_id["POINTS"]["missing_signals"])))
    assert "'5' is above the maximum 1 (a fraction: 0.05 is 5%; if the export writes " \
        "percentage points, declare formats: {headcount_growth_90d: percent})" in stderr
