"""Conformance of the declared formats: every engine decides a re-formatted export alike.

samples/accounts.csv is rewritten with every coercion the mapping offers (dates in a
declared day/month order, thousands separators and currency, percent, yes/no booleans,
lists with another separator, a list of dates in an order) and read through the ruleset's
``sources:`` declarations, as CSV and as JSON Lines. Every installed engine must decide it
byte for byte like the contract file decided by the reference interpreter: the formats are
read before any engine sees a value, so no engine may depend on how a value was written.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.plugin.build import default_registry

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
SAMPLE = ROOT / "samples" / "accounts.csv"
AS_OF = "2026-11-02"
ENGINES = sorted(
    name for name, engine in default_registry().engines.items() if engine.available() is None
)

#: Per field, the declared format and how the export writes a contract value in it.
_DMY = ("DMY", lambda d: f"{d.day}/{d.month}/{d.year}")
_MDY = ("MDY", lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}")
_YMD = ("YMD", lambda d: f"{d.year}/{d.month}/{d.day}")
DATES: dict[str, tuple[str, Callable[[date], str]]] = {
    "customer_since": _YMD, "success_milestone_on": _DMY, "champion_last_engaged_on": _MDY,
    "champion_changed_on": _DMY, "renewal_date": _DMY, "last_renewal_date": _MDY,
    "funding_announced_on": _YMD, "nps_responded_on": _MDY, "downgrade_requested_on": _DMY,
    "named_gaps_on": _YMD,
}
#: How false is written, row by row; true (one sample account) is written per test case.
FALSE = ["no", "N", "false", "No", "n", "FALSE"]
FORMATS: dict[str, str] = {
    **{field: order for field, (order, _) in DATES.items()},
    "arr": "1,234.56", "usage_limit": "1.234,56", "health_score": "1 234,56",
    "headcount_growth_90d": "percent",
    "seats_active_history": "list:,", "usage_history": "list:;",
    "gated_feature_attempts": "list:;:MDY", "open_ticket_priorities": "list:/",
}


def _thousands(value: float, marks: tuple[str, str]) -> str:
    text = f"{value:,.2f}"
    return text.replace(",", "\0").replace(".", marks[1]).replace("\0", marks[0])


def _write(field: str, value: str, row: int, true: str = "yes") -> str:
    """The contract value of ``field`` as this export writes it."""
    if field in DATES:
        return DATES[field][1](date.fromisoformat(value))
    if field == "arr":
        return "$" + _thousands(float(value), (",", "."))
    if field == "usage_limit":
        return _thousands(float(value), (".", ",")) + " €"
    if field == "health_score":
        return _thousands(float(value), (" ", ","))
    if field == "headcount_growth_90d":
        return f"{float(value) * 100:g}%"
    if field == "competitor_evaluation":
        return true if value == "true" else FALSE[row % len(FALSE)]
    if field == "seats_active_history":
        return ", ".join(value.split("|"))
    if field == "usage_history":
        return ";".join(value.split("|"))
    if field == "gated_feature_attempts":
        return "; ".join(_MDY[1](date.fromisoformat(d)) for d in value.split("|"))
    if field == "open_ticket_priorities":
        return "/".join(value.split("|"))
    return value


def _export(tmp_path: Path, kind: str, true: str = "yes") -> Path:
    rows = list(csv.DictReader(SAMPLE.open(encoding="utf-8", newline="")))
    written = [{f: _write(f, v, n, true) if v else "" for f, v in row.items()}
               for n, row in enumerate(rows)]
    target = tmp_path / f"export.{kind}"
    with target.open("w", encoding="utf-8", newline="") as handle:
        if kind == "csv":
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(written)
        else:
            for row in written:
                handle.write(json.dumps({k: v for k, v in row.items() if v}) + "\n")
    return target


def _ruleset(tmp_path: Path, source: str) -> Path:
    declared = "".join(f"      {field}: {json.dumps(spec)}\n" for field, spec in FORMATS.items())
    text = RULESET.read_text(encoding="utf-8").replace(
        "sources:\n", f"sources:\n  {source}:\n    formats:\n{declared}", 1)
    target = tmp_path / "rules.yaml"
    target.write_text(text, encoding="utf-8")
    return target


def _decisions(ruleset: Path, data: Path, engine: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, [
        "dry-run", str(ruleset), "--data", str(data), "--as-of", AS_OF, "--format", "json",
        "--strict", "--engine", engine,
    ])
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr
    decisions: list[dict[str, Any]] = json.loads(result.stdout)
    for decision in decisions:
        decision.pop("ruleset")
        decision.pop("inputs", None)
    return decisions


@pytest.fixture(scope="module")
def reference() -> list[dict[str, Any]]:
    """The contract file, decided by the reference interpreter."""
    decisions = _decisions(RULESET, SAMPLE, "interpreter")
    assert len(decisions) == 50
    return decisions


def test_the_export_uses_every_coercion(tmp_path: Path) -> None:
    text = _export(tmp_path, "csv").read_text(encoding="utf-8")
    for written in ("19/1/2027", "$236,000.00", " €", "12%", ",yes,", ",no,", ",N,",
                    ",FALSE,", "14, 16, 19", "10/22/2026; ", "P3/P4", "88,00"):
        assert written in text, written
    assert text.count("\n") == 51


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("kind", "true"), [("csv", "yes"), ("csv", "Y"), ("jsonl", "TRUE")])
def test_every_engine_decides_the_declared_formats_like_the_contract_file(
    tmp_path: Path, reference: list[dict[str, Any]], engine: str, kind: str, true: str
) -> None:
    got = _decisions(_ruleset(tmp_path, kind), _export(tmp_path, kind, true), engine)
    assert json.dumps(got, sort_keys=True) == json.dumps(reference, sort_keys=True)


@pytest.mark.parametrize("engine", ENGINES)
def test_without_the_declarations_the_same_export_is_not_read_alike(
    tmp_path: Path, reference: list[dict[str, Any]], engine: str
) -> None:
    """The formats are read because they are declared, never by guessing."""
    result = CliRunner().invoke(cli, [
        "dry-run", str(RULESET), "--data", str(_export(tmp_path, "csv")), "--as-of", AS_OF,
        "--format", "json", "--engine", engine,
    ])
    assert "'19/1/2027' is not a date" in result.stderr
    assert "'$236,000.00' is not a number" in result.stderr
    got = json.loads(result.stdout)
    assert all(d["data_warnings"] for d in got)
    assert [d["band"] for d in got] != [d["band"] for d in reference]
