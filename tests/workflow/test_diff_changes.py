"""diff lists every change per account (not only counts), and compares two exports or two
dates with one ruleset, naming the signals that moved."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from upsell_rules.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")
ACCOUNTS = ROOT / "samples" / "accounts.csv"


def diff(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["diff", RULESET, "--data", str(ACCOUNTS),
                                      "--as-of", "2026-11-02", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_score_changes_in_the_same_band_are_listed_per_account() -> None:
    data = diff("--set", "constants.health_strong=90")
    assert data["changed"] == []
    moved = {m["account_id"]: m for m in data["moved"]}
    assert len(moved) == data["changed_score_only"] == 10
    one = moved["ACC-1002"]
    assert one["before"]["band"] == one["after"]["band"]
    assert one["details"] == ["score 100 -> 93 (-7)"]
    assert any("relationship" in r["text"] for r in one["reasons"])


def test_min_delta_and_all() -> None:
    assert diff("--set", "constants.health_strong=90", "--min-delta", "20")["moved"] == []
    everything = diff("--set", "constants.health_strong=90", "--all")
    assert len(everything["moved"]) == 10


def test_trigger_changes_are_listed_even_without_a_score_change() -> None:
    data = diff("--set", "constants.feature_ceiling_attempts=3", "--min-delta", "100")
    lost = [m for m in [*data["changed"], *data["moved"]]
            if any(d.startswith("lost triggers: gated_feature_cluster") for d in m["details"])]
    assert lost


def test_two_dates_show_the_signals_that_moved() -> None:
    data = diff("--as-of-new", "2026-11-16")
    assert data["as_of_new"] == "2026-11-16"
    tallgrass = next(c for c in data["changed"] if c["account_id"] == "ACC-1003")
    assert tallgrass["before"]["band"] == "act_now" and tallgrass["after"]["band"] == "warming"
    assert "days_since_champion_contact 19 -> 33" in tallgrass["signals_moved"]
    assert "gates now failing: champion_recent" in tallgrass["details"]


def test_two_exports(tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(ACCOUNTS.read_text(encoding="utf-8"))))
    fields = list(rows[0])
    later = [dict(r) for r in rows if r["account_id"] != "ACC-1050"]
    first = next(r for r in later if r["account_id"] == "ACC-1001")
    first["health_score"] = "60"
    later.append({**rows[0], "account_id": "ACC-2999", "account_name": "Newco"})
    path = tmp_path / "later.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(later)
    data = diff("--data-new", str(path))
    assert data["only_in_old"] == ["ACC-1050"] and data["only_in_new"] == ["ACC-2999"]
    harborview = next(c for c in data["changed"] if c["account_id"] == "ACC-1001")
    assert harborview["signals_moved"][0] == "health_score 91 -> 60"
    assert harborview["after"]["blocked"] is True
    text = CliRunner().invoke(cli, ["diff", RULESET, "--data", str(ACCOUNTS), "--data-new",
                                    str(path), "--as-of", "2026-11-02"]).stdout
    assert "signals that moved: health_score 91 -> 60" in text
    assert "Only in" in text and "ACC-2999" in text
