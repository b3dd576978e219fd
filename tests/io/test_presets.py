"""Each preset's export is decided exactly like the same accounts in contract format.

The exports are generated from samples/accounts.csv the way each vendor writes them
(its column labels, date and number formats, list separators, percent fields).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.io.mapping import build_mapping, load_preset, preset_names
from upsell_rules.plugin.build import default_registry

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
SAMPLE = ROOT / "samples" / "accounts.csv"
AS_OF = "2026-11-02"
TYPES = {name: spec.type for name, spec in default_registry().fields.items()}


def _us_date(text: str) -> str:
    day = date.fromisoformat(text)
    return f"{day.month}/{day.day}/{day.year}"


def _us_number(text: str) -> str:
    value = float(text)
    return f"{value:,.2f}" if "." in text else f"{int(value):,}"


def _hubspot(field: str, value: str) -> str:
    kind = TYPES[field]
    if kind.endswith("_list"):
        return value.replace("|", ";")
    if kind == "date" and field in ("renewal_date", "customer_since"):
        return value + " 00:00"  # a date-time property
    if field == "headcount_growth_90d":
        return f"{float(value) * 100:g}"
    return value


def _salesforce(field: str, value: str) -> str:
    kind = TYPES[field]
    base = kind.removesuffix("_list")
    parts = value.split("|")
    if base == "date":
        parts = [_us_date(p) for p in parts]
    elif base in ("number", "integer"):
        parts = [_us_number(p) for p in parts]
    elif base == "boolean":
        parts = ["1" if p == "true" else "0" for p in parts]
    if field == "arr":
        return f"${float(value):,.2f}"
    if field == "headcount_growth_90d":
        return f"{float(value) * 100:g}%"
    return ";".join(parts)


VENDORS: dict[str, Callable[[str, str], str]] = {
    "hubspot_companies": _hubspot,
    "salesforce_accounts": _salesforce,
}


def _export(preset: str, target: Path) -> None:
    columns = {field: column for column, field in load_preset(preset)["columns"].items()}
    rows = list(csv.DictReader(SAMPLE.open(encoding="utf-8", newline="")))
    fields = list(rows[0])
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([columns[f] for f in reversed(fields)])  # another column order
        for row in rows:
            writer.writerow([VENDORS[preset](f, row[f]) if row[f] else "" for f in reversed(fields)])


ENGINES = sorted(
    name for name, engine in default_registry().engines.items() if engine.available() is None
)


def _decisions(ruleset: Path, data: Path, engine: str = "python") -> list[dict[str, object]]:
    result = CliRunner().invoke(
        cli, ["dry-run", str(ruleset), "--data", str(data), "--as-of", AS_OF, "--format",
              "json", "--strict", "--engine", engine]
    )
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr
    decisions = json.loads(result.stdout)
    for decision in decisions:
        decision.pop("ruleset")
    return decisions


def test_every_shipped_preset_has_a_test() -> None:
    # The opportunity presets are tested in test_crm_outcomes.py, the events and tickets
    # presets in tests/plugins/test_source_presets.py.
    outcomes = ["hubspot_deals", "salesforce_opportunities"]
    sources = ["amplitude_events", "intercom_conversations", "posthog_events",
               "zendesk_tickets"]
    assert sorted([*VENDORS, *outcomes, *sources]) == preset_names()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("preset", sorted(VENDORS))
def test_a_preset_export_is_decided_like_the_contract_file(
    tmp_path: Path, preset: str, engine: str
) -> None:
    """In every engine: the declared formats are read before any engine sees a value."""
    export = tmp_path / f"{preset}.csv"
    _export(preset, export)
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text(
        RULESET.read_text(encoding="utf-8").replace(
            "sources:\n", f"sources:\n  csv:\n    preset: {preset}\n", 1),
        encoding="utf-8",
    )
    expected = _decisions(RULESET, SAMPLE)
    assert _decisions(ruleset, export, engine) == expected
    assert len(expected) == 50


@pytest.mark.parametrize(
    ("options", "field", "text", "value"),
    [
        ({"date_order": "DMY"}, "renewal_date", "06/04/2027", "2027-04-06"),
        ({"date_order": "MDY"}, "renewal_date", "06/04/2027", "2027-06-04"),
        ({"date_order": "YMD"}, "renewal_date", "2027/01/19", "2027-01-19"),
        ({"date_order": "YMD"}, "renewal_date", "2027-6-1", "2027-06-01"),
        ({"number_format": "1,234.56"}, "arr", "$41,500", "41500"),
        ({"number_format": "1,234.56"}, "arr", "64,000", "64000"),
        ({"number_format": "1,234.56"}, "arr", "1,5", "1,5"),  # not a thousands group
        ({"number_format": "1.234,56"}, "arr", "41.500,50 €", "41500.50"),
        ({"formats": {"headcount_growth_90d": "percent"}}, "headcount_growth_90d", "84%", 0.84),
        ({"list_separator": ","}, "seats_active_history", "14, 16, 19", "14|16|19"),
        ({}, "renewal_date", "06/04/2027", "06/04/2027"),  # never guessed
    ],
)
def test_declared_formats(options: dict[str, object], field: str, text: str, value: object) -> None:
    mapping = build_mapping(options, TYPES)
    assert mapping.apply({field: text}) == {field: value}


def test_a_preset_export_with_its_own_label_is_named_and_can_be_mapped(tmp_path: Path) -> None:
    """A HubSpot custom property labelled its own way: warned, did-you-mean, then mapped."""
    export = tmp_path / "hubspot.csv"
    _export("hubspot_companies", export)
    export.write_text(export.read_text(encoding="utf-8").replace(
        "Health Score", "Customer Health Score", 1), encoding="utf-8")
    ruleset = tmp_path / "rules.yaml"
    text = RULESET.read_text(encoding="utf-8")
    ruleset.write_text(text.replace(
        "sources:\n", "sources:\n  csv:\n    preset: hubspot_companies\n", 1), encoding="utf-8")
    result = CliRunner().invoke(cli, ["dry-run", str(ruleset), "--data", str(export),
                                      "--as-of", AS_OF, "--strict"])
    assert result.exit_code == 2
    assert "no record carries 'health_score'" in result.stderr
    assert "('Customer Health Score' looks like health_score" in result.stderr
    ruleset.write_text(text.replace(
        "sources:\n", "sources:\n  csv:\n    preset: hubspot_companies\n"
        "    columns: {Customer Health Score: health_score}\n", 1), encoding="utf-8")
    assert _decisions(ruleset, export) == _decisions(RULESET, SAMPLE)
