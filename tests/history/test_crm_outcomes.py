"""Backtest and calibrate read Salesforce and HubSpot opportunity exports.

Each export is generated from samples/history/outcomes.csv the way the CRM writes it
(its column labels, stage names, dates and currency amounts) and must give the same
backtest as the contract file, in every installed engine. A file whose rows all fail is
exit 2, one message.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.io.mapping import load_preset
from upsell_rules.plugin.build import default_registry

ROOT = Path(__file__).resolve().parents[2]
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")
HISTORY = ROOT / "samples" / "history"
STAGES = {"won": "Closed Won", "lost": "Closed Lost"}
ENGINES = sorted(
    name for name, engine in default_registry().engines.items() if engine.available() is None
)


def _crm_value(preset: str, field: str, value: str) -> str:
    if not value:
        return ""
    if field in ("opened_on", "closed_on", "churned_on"):
        day = date.fromisoformat(value)
        if preset == "salesforce_opportunities":
            return f"{day.month}/{day.day}/{day.year}"
        return f"{value} 09:30"
    if field == "outcome":
        return STAGES.get(value, value)
    if field == "amount":
        return f"${float(value):,.2f}"
    return value


def _export(preset: str, target: Path) -> None:
    columns = {f: c for c, f in load_preset(preset)["columns"].items()}
    rows = list(csv.DictReader((HISTORY / "outcomes.csv").open(encoding="utf-8", newline="")))
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([columns[f] for f in rows[0]])
        for row in rows:
            writer.writerow([_crm_value(preset, f, v) for f, v in row.items()])


def _backtest(outcomes: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["backtest", RULESET, "--snapshots", str(HISTORY / "snapshots.csv"),
              "--outcomes", str(outcomes), "--format", "json", *extra])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("preset", ["salesforce_opportunities", "hubspot_deals"])
def test_a_crm_export_backtests_like_the_contract_file(
    tmp_path: Path, preset: str, engine: str
) -> None:
    export = tmp_path / "opportunities.csv"
    _export(preset, export)
    code, out, err = _backtest(export, "--outcomes-preset", preset, "--engine", engine)
    expected = _backtest(HISTORY / "outcomes.csv")
    assert code == expected[0], err
    assert json.loads(out) == json.loads(expected[1])


def test_a_file_whose_rows_all_fail_is_exit_2(tmp_path: Path) -> None:
    export = tmp_path / "opportunities.csv"
    _export("salesforce_opportunities", export)
    text = export.read_text(encoding="utf-8").replace("Account ID", "account_id", 1)
    export.write_text(text, encoding="utf-8")
    code, _out, err = _backtest(export)  # no preset: Closed Won reads, M/D/YYYY does not
    assert code == 2
    assert "could be read" in err and "--outcomes-preset" in err


def test_a_file_whose_deal_rows_all_fail_is_exit_2_even_with_churn_rows(tmp_path: Path) -> None:
    """Contract columns, CRM stages and currency amounts: every deal fails on its amount.

    The churn-only rows still read, which once made a backtest of zero deals (empty
    tables, exit 1) that looked like a result.
    """
    rows = list(csv.DictReader((HISTORY / "outcomes.csv").open(encoding="utf-8", newline="")))
    export = tmp_path / "outcomes.csv"
    with export.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            amount = f"${float(row['amount']):,.0f}" if row["amount"] else ""
            writer.writerow({**row, "outcome": STAGES.get(row["outcome"], row["outcome"]),
                             "amount": amount})
    churn_only = sum(1 for row in rows if not row["outcome"])
    assert churn_only > 0
    code, out, err = _backtest(export)
    assert code == 2
    assert out == ""
    assert "amount: '$800' is not a number (a CRM export's formats, such as $1,400.00" in err
    assert err.rstrip().splitlines()[-1] == (
        f"upsell-rules: error: {export}: none of its deal rows could be read "
        f"({len(rows) - churn_only} row(s) failed, see the errors above; only {churn_only} "
        "churn row(s) remain; for a CRM export name its --outcomes-preset), so there is "
        "nothing to measure")
