"""A cell cannot start a row of its own, and CSV or JSON on a terminal carries no escapes.

A lone carriage return inside a CSV cell used to go out unquoted (the csv module quotes
only the characters of its own ``\\n`` line terminator). Spreadsheets end a row at a bare
``\\r``, so the rest of an account name became a row of its own, starting with whatever
the name held there, formula included. Every cell holding ``\\r`` is now quoted.

CSV and JSON keep the data as it is, but written to a terminal, control characters are
shown as ``\\uXXXX`` escapes, so an account name cannot restyle or retitle the terminal.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.io.test_output_safety import TINY_RULESET
from upsell_rules.cli.main import cli
from upsell_rules.cli.output_file import output_stream
from upsell_rules.io.formatters import FORMULA_START, CsvRowWriter
from upsell_rules.safetext import terminal_safe

NAMES = [
    'Acme\r=HYPERLINK("http://evil.example/","x")',
    "Globex\r\n@SUM(1+1)",
    "\r=1+1",
    "Initech\r\r-2",
    "plain name",
]


def _spreadsheet_rows(text: str) -> list[list[str]]:
    """Rows as a spreadsheet reads them: a bare ``\\r`` outside quotes ends a row."""
    return list(csv.reader(io.StringIO(text, newline=None)))


def _dry_run_csv(tmp_path: Path, names: list[str], *args: str) -> str:
    ruleset = tmp_path / "tiny.yaml"
    ruleset.write_text(TINY_RULESET, encoding="utf-8")
    data = tmp_path / "accounts.jsonl"
    data.write_text(
        "".join(
            json.dumps({"account_id": f"A{i}", "account_name": name, "health_score": 90}) + "\n"
            for i, name in enumerate(names)
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["dry-run", str(ruleset), "--data", str(data), "--as-of", "2026-11-02",
              "--format", "csv", *args],
    )
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")  # .stdout would turn \r\n into \n


@pytest.mark.parametrize("engine", ["python", "interpreter", "duckdb"])
def test_a_carriage_return_in_a_name_stays_inside_its_cell(tmp_path: Path, engine: str) -> None:
    text = _dry_run_csv(tmp_path, NAMES, "--engine", engine)
    rows = _spreadsheet_rows(text)
    assert len(rows) == len(NAMES) + 1
    header = rows[0]
    for row in rows[1:]:
        assert len(row) == len(header)
        for cell in row:
            assert not cell.startswith(FORMULA_START), cell
    # Read exactly as written (no newline translation), every name comes back whole.
    exact = list(csv.DictReader(io.StringIO(text, newline="")))
    assert sorted(r["account_name"] for r in exact) == sorted(
        "'" + n if n.startswith(FORMULA_START) else n for n in NAMES
    )


def test_rows_without_a_carriage_return_are_written_as_before() -> None:
    rows = [{"a": "x\ny", "b": 'say "hi"'}, {"a": "1,2", "b": 3.5}]
    before, after = io.StringIO(), io.StringIO()
    plain = csv.DictWriter(before, fieldnames=["a", "b"], lineterminator="\n")
    plain.writeheader()
    plain.writerows(rows)
    writer = CsvRowWriter(after, ["a", "b"])
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    assert after.getvalue() == before.getvalue()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(alphabet=st.sampled_from('ab,"\r\n\t= '), max_size=8),
                         min_size=2, max_size=2), min_size=1, max_size=5))
def test_any_cells_read_back_as_written_whatever_the_reader(cells: list[list[str]]) -> None:
    out = io.StringIO()
    writer = CsvRowWriter(out, ["a", "b"])
    for a, b in cells:
        writer.writerow({"a": a, "b": b})
    text = out.getvalue()
    assert list(csv.reader(io.StringIO(text, newline=""))) == cells
    # A reader that turns every \r into a line end still sees the same rows.
    assert len(_spreadsheet_rows(text)) == len(cells)


# --- terminals ---------------------------------------------------------------------

TRICKS = "\x1b]0;owned\x07\x1b[2Jx\x9b31my\u202ez\x7f"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _through_stdout(monkeypatch: pytest.MonkeyPatch, text: str, *, tty: bool) -> str:
    fake: Any = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stdout", fake)
    with output_stream(None, data=True) as out:
        out.write(text)
    value: str = fake.getvalue()
    return value


def test_json_on_a_terminal_shows_escapes_and_reads_back_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = json.dumps({"account_name": TRICKS}, ensure_ascii=False) + "\n"
    shown = _through_stdout(monkeypatch, document, tty=True)
    assert not any(ch in shown for ch in "\x1b\x07\x9b\u202e\x7f")
    assert json.loads(shown) == {"account_name": TRICKS}
    assert shown.endswith("\n")


def test_csv_on_a_terminal_shows_escapes_and_piped_output_is_untouched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row = f"A1,{TRICKS}\tz\n"
    shown = _through_stdout(monkeypatch, row, tty=True)
    assert shown == "A1,\\u001b]0;owned\\u0007\\u001b[2Jx\\u009b31my\\u202ez\\u007f\tz\n"
    assert _through_stdout(monkeypatch, row, tty=False) == row
    # Text the tool styles itself (a table's bold headers) is not data: left as it is.
    styled = _Terminal()
    monkeypatch.setattr(sys, "stdout", styled)
    with output_stream(None) as out:
        out.write("\x1b[1mscore\x1b[0m\n")
    assert styled.getvalue() == "\x1b[1mscore\x1b[0m\n"


@given(st.text())
def test_terminal_safe_leaves_no_control_character_but_line_feed_and_tab(text: str) -> None:
    shown = terminal_safe(text)
    assert all(ch in "\n\t" or not (ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f) for ch in shown)
    assert json.loads('"' + terminal_safe(json.dumps(text)[1:-1]) + '"') == text


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_the_stdout_sink_on_a_terminal_shows_escapes(fmt: str) -> None:
    from datetime import date

    from upsell_rules.io.sinks import deliver_stdout
    from upsell_rules.plugin.types import SinkContext

    decision = {"account_id": "A1", "account_name": TRICKS}
    context = SinkContext({"format": fmt}, {}, date(2026, 11, 2), "test", "--sink")
    shown = _Terminal()
    report = deliver_stdout([decision], context, out=shown)
    assert not report.errors
    assert not any(ch in shown.getvalue() for ch in "\x1b\x07\x9b\u202e\x7f")
    assert "\\u001b]0;owned" in shown.getvalue()
    piped = io.StringIO()
    deliver_stdout([decision], context, out=piped)
    assert "\x9b" in piped.getvalue()  # piped, JSON is written as it always was


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_dry_run_on_a_real_terminal_writes_no_escape_from_the_data(
    tmp_path: Path, fmt: str
) -> None:
    from tests.cli.test_progress import run_in_pty

    data = tmp_path / "accounts.jsonl"
    data.write_text(json.dumps({"account_id": "A1", "account_name": TRICKS, "health_score": 90},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    (tmp_path / "tiny.yaml").write_text(TINY_RULESET, encoding="utf-8")
    status, seen = run_in_pty(["dry-run", "tiny.yaml", "--data", str(data), "--as-of",
                               "2026-11-02", "--format", fmt], tmp_path, stdout_too=True)
    assert status == 0, seen
    assert b"owned" in seen
    for raw in (b"\x1b]0;owned", b"\x07", b"\x1b[2J", b"\xc2\x9b", "\u202e".encode()):
        assert raw not in seen, (raw, seen)
