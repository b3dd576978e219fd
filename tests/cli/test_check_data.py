"""``check-data``: profile an export against a ruleset; exit 1 when decisions would change."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from upsell_rules.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")
SAMPLE = ROOT / "samples" / "accounts.csv"


def test_a_clean_export_is_exit_0() -> None:
    result = CliRunner().invoke(cli, ["check-data", RULESET, "--data", str(SAMPLE)])
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[0] == "50 records, 0 failed"
    assert "decisions would change silently: no" in result.stdout
    # min, quartiles and max per signal (issue 13, item 7)
    assert result.stdout.splitlines()[1].split()[7:12] == ["min", "q1", "median", "q3", "max"]
    arr = next(line for line in result.stdout.splitlines() if line.startswith("arr "))
    assert arr.split()[4:9] == ["3100", "14850", "28950", "63250", "248000"]


def test_bad_values_and_missing_signals_are_profiled(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    lines[0] = lines[0].replace("power_users", "Power Users")
    for row in (1, 2):
        cells = lines[row].split(",")
        cells[header.index("health_score")] = "n/a" if row == 1 else "-4"
        lines[row] = ",".join(cells)
    data = tmp_path / "export.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # The bundled ruleset declares health_score 0-100: -4 is out of range.
    assert "health_score: {type: number, min: 0, max: 100," in Path(RULESET).read_text(
        encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-data", RULESET, "--data", str(data),
                                      "--format", "json"])
    assert result.exit_code == 1, result.stdout
    report = json.loads(result.stdout)
    by_name = {s["signal"]: s for s in report["signals"]}
    health = by_name["health_score"]
    with_health = sum(1 for line in lines[1:] if line.split(",")[header.index("health_score")])
    assert (health["records_with_value"], health["unparsed"], health["out_of_range"]) == (
        with_health - 2, 1, 1)
    assert health["examples"] == ["n/a", "-4"]
    assert health["stats"]["min"] >= 0 and health["stats"]["max"] <= 100
    assert by_name["power_users"]["records_with_value"] == 0
    (warning,) = report["header_check"]["warnings"]
    assert warning["signal"] == "power_users"
    assert warning["looks_like"] == "Power Users"
    assert "trigger power_users_emerging can never fire" in warning["silences"]
    assert report["silent_changes"] is True
    assert report["read_for_no_record"] == []  # health_score is read for other records


def test_a_column_no_record_can_read_is_said_with_what_it_silences(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    at = lines[0].split(",").index("renewal_date")
    dated = 0
    for row in range(1, len(lines)):
        cells = lines[row].split(",")
        if cells[at]:
            dated += 1
            year, month, day = cells[at].split("-")
            cells[at] = f"{int(month)}/{int(day)}/{year}"  # as a US CRM exports it
        lines[row] = ",".join(cells)
    data = tmp_path / "us.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-data", RULESET, "--data", str(data)])
    assert result.exit_code == 1, result.stdout
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("read for no record:")]
    assert line.startswith("read for no record: not one value of 'renewal_date' could be "
                           f"read ({dated} left out): ")
    assert "trigger contract_anniversary can never fire" in line
    as_json = CliRunner().invoke(cli, ["check-data", RULESET, "--data", str(data),
                                       "--format", "json"])
    (unread,) = json.loads(as_json.stdout)["read_for_no_record"]
    assert unread["signal"] == "renewal_date"
    assert "trigger contract_anniversary can never fire" in unread["silences"]
