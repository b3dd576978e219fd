"""A CSV never swallows rows: a quote left open fails its own row, not the rest of the file.

Over arbitrary bytes, the records the reader forms cover every line after the header
exactly once, and the run's summary adds up (read = decided + failed). A stray quote
opened at the start of a cell costs at most the row it is in.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsell_rules.cli.main import cli
from upsell_rules_files._text import Lines
from upsell_rules_files.csv_source import MAX_RECORD_LINES, physical_records

ROOT = Path(__file__).resolve().parents[2]
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")
SAMPLE = ROOT / "samples" / "accounts.csv"
AS_OF = "2026-11-02"

SMALL_RULESET = """\
name: small
version: 1
signals:
  health_score: {type: number}
scoring:
  categories:
    product:
      weight: 1
      tiers:
        - {id: healthy, score: 10, when: health_score > 50}
bands:
  - {id: act_now, min: 50, max: 100, play: go, outreach: true}
  - {id: wait, min: 0, max: 50, play: hold}
plays:
  go: {title: Go, window: now}
  hold: {title: Hold, window: later}
"""



def _summary(stderr: str) -> tuple[int, int, int]:
    match = re.search(r"^read (\d+), decided (\d+), failed (\d+)", stderr, re.MULTILINE)
    assert match, stderr
    read, decided, failed = (int(g) for g in match.groups())
    return read, decided, failed


def _line_count(data: bytes) -> int:
    text = data.decode("utf-8")
    return len(text.splitlines())


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.text(alphabet='ab, "\r\n1', max_size=12), max_size=40))
def test_every_line_after_the_header_is_in_exactly_one_record(
    tmp_path: Path, body: list[str]
) -> None:
    data = tmp_path / "x.csv"
    data.write_bytes(("account_id,health_score,note\n" + "".join(body)).encode())
    lines = Lines(str(data), newline="")
    next(lines)  # the header
    covered: list[int] = []
    for first, last, group in physical_records(lines, 3):
        assert first <= last
        assert last - first < MAX_RECORD_LINES
        if not isinstance(group, str):
            assert len(group) == last - first + 1
        covered.extend(range(first, last + 1))
    assert covered == list(range(2, _line_count(data.read_bytes()) + 1))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300))
def test_read_is_decided_plus_failed_over_arbitrary_bytes(tmp_path: Path, body: bytes) -> None:
    ruleset = tmp_path / "small.yaml"
    ruleset.write_text(SMALL_RULESET, encoding="utf-8")
    data = tmp_path / "x.csv"
    data.write_bytes(b"account_id,health_score,note\n" + body)
    result = CliRunner().invoke(
        cli, ["dry-run", str(ruleset), "--data", str(data), "--as-of", AS_OF,
              "--format", "jsonl"],
    )
    if result.exit_code == 2:  # not UTF-8: the whole file is refused, at its line
        assert "not UTF-8" in result.stderr or "NUL" in result.stderr, result.stderr
        return
    read, decided, failed = _summary(result.stderr)
    assert read == decided + failed
    assert len(result.stdout.splitlines()) == decided
    assert result.exit_code == (1 if failed else 0)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, 49), cell=st.integers(0, 30), data=st.data())
def test_a_stray_quote_costs_at_most_its_own_row(
    tmp_path: Path, row: int, cell: int, data: st.DataObject
) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    body = lines[1:]
    cells = body[row].split(",")
    cell %= len(cells)
    offset = data.draw(st.integers(0, len(cells[cell])))
    cells[cell] = cells[cell][:offset] + '"' + cells[cell][offset:]
    body[row] = ",".join(cells)
    path = tmp_path / "accounts.csv"
    path.write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", str(path), "--as-of", AS_OF, "--format", "jsonl"],
    )
    read, decided, failed = _summary(result.stderr)
    assert read == decided + failed == len(body)
    assert failed <= 1
    assert result.exit_code == (1 if failed else 0)


def test_the_row_11_example_loses_no_account(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    lines[11] = lines[11].replace(",", ',"', 1)  # open a quote before the account name
    path = tmp_path / "accounts.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", str(path), "--as-of", AS_OF, "--format", "jsonl"],
    )
    assert result.exit_code == 1
    assert _summary(result.stderr) == (50, 49, 1)
    assert f"{path}:12: a quote opened in the row is not closed before line 13" in result.stderr


def test_a_quoted_cell_may_still_span_lines(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(
        'account_id,note,health_score\nA1,"first line\nsecond, line",80\nA2,plain,70\n',
        encoding="utf-8",
    )
    ruleset = tmp_path / "small.yaml"
    ruleset.write_text(SMALL_RULESET, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["dry-run", str(ruleset), "--data", str(path), "--as-of", AS_OF,
              "--format", "jsonl"],
    )
    assert result.exit_code == 0, result.stderr
    assert _summary(result.stderr) == (2, 2, 0)


def test_a_quote_open_to_the_end_fails_with_its_line_range(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text('account_id,note,health_score\nA1,ok,80\nA2,"open\nmore\n', encoding="utf-8")
    ruleset = tmp_path / "small.yaml"
    ruleset.write_text(SMALL_RULESET, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["dry-run", str(ruleset), "--data", str(path), "--as-of", AS_OF],
    )
    assert result.exit_code == 1
    assert _summary(result.stderr) == (2, 1, 1)
    assert f"{path}:3: a quote opened in the row is never closed" in result.stderr
    assert "(lines 3-4)" in result.stderr
