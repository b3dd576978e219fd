"""Tab-separated exports are read, other separators are declared, workbooks are refused.

A ``.tsv`` / ``.tab`` file is read by the CSV source with tabs between cells, and decided
exactly like the same accounts written as CSV; a ruleset may declare the separator of its
CSV source (``delimiter:``). The guarantees of the CSV reader hold for tabs too: a stray
quote costs at most its row, and read = decided + failed over arbitrary bytes. A workbook
(``.xlsx``, ``.xls``, ``.numbers``...) is refused with one located message that says to save
it as CSV UTF-8, whatever its name.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsell_rules.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
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


def _rows() -> list[list[str]]:
    return list(csv.reader(SAMPLE.open(encoding="utf-8", newline="")))


def _write(path: Path, delimiter: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerows(_rows())
    return path


def _run(ruleset: Path, data: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [
        "dry-run", str(ruleset), "--data", str(data), "--as-of", AS_OF, "--format", "json",
        *extra,
    ])
    return result.exit_code, result.stdout, result.stderr


def _summary(stderr: str) -> tuple[int, int, int]:
    match = re.search(r"^read (\d+), decided (\d+), failed (\d+)", stderr, re.MULTILINE)
    assert match, stderr
    read, decided, failed = (int(g) for g in match.groups())
    return read, decided, failed


def _decisions(stdout: str) -> list[dict[str, object]]:
    decisions = json.loads(stdout)
    for decision in decisions:
        decision.pop("ruleset")
        decision.pop("inputs", None)
        for warning in decision.get("data_warnings") or []:
            warning.pop("location", None)
    return decisions


@pytest.fixture(scope="module")
def expected() -> list[dict[str, object]]:
    code, out, err = _run(RULESET, SAMPLE)
    assert code == 0, err
    return _decisions(out)


@pytest.mark.parametrize("name", ["accounts.tsv", "accounts.TAB"])
def test_a_tab_separated_export_is_decided_like_the_csv(
    tmp_path: Path, expected: list[dict[str, object]], name: str
) -> None:
    data = _write(tmp_path / name, "\t")
    code, out, err = _run(RULESET, data, "--strict")
    assert code == 0, err
    assert _summary(err) == (50, 50, 0)
    assert _decisions(out) == expected


def test_tabs_in_a_tsv_work_with_a_mapping_and_parallel_jobs(
    tmp_path: Path, expected: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from upsell_rules.engine import parallel
    from upsell_rules.io.records import AccountReader
    from upsell_rules.plugin.build import default_registry

    rows = _rows()
    rows[0] = ["Health Score" if c == "health_score" else c for c in rows[0]]
    data = tmp_path / "accounts.tsv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter="\t", lineterminator="\n").writerows(rows)
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text(RULESET.read_text(encoding="utf-8").replace(
        "sources:\n", "sources:\n  csv:\n    columns: {Health Score: health_score}\n", 1),
        encoding="utf-8")
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 2_000)  # byte ranges cut between rows
    plan = parallel.plan_ranges(AccountReader(default_registry(), {}), [str(data)], 2)
    assert plan is not None and len(plan.chunks) > 3
    for jobs in ("1", "2"):
        code, out, err = _run(ruleset, data, "--strict", "--jobs", jobs)
        assert code == 0, err
        assert _decisions(out) == expected


@pytest.mark.parametrize(("delimiter", "declared"),
                         [(";", '";"'), ("|", '"|"'), ("\t", "tab"), ("\t", '"\\t"')])
def test_a_declared_delimiter_is_read(
    tmp_path: Path, expected: list[dict[str, object]], delimiter: str, declared: str
) -> None:
    rows = _rows()
    if delimiter == "|":  # lists are written a|b|c: give them another separator
        rows = [[c.replace("|", ";") for c in row] for row in rows]
    data = tmp_path / "accounts.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)
    options = f"    delimiter: {declared}\n"
    if delimiter == "|":
        options += '    list_separator: ";"\n'
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text(RULESET.read_text(encoding="utf-8").replace(
        "sources:\n", f"sources:\n  csv:\n{options}", 1), encoding="utf-8")
    code, out, err = _run(ruleset, data, "--strict")
    assert code == 0, err
    assert _decisions(out) == expected


def test_an_undeclared_separator_is_a_located_error_that_says_how_to_declare_it(
    tmp_path: Path,
) -> None:
    data = _write(tmp_path / "accounts.csv", ";")
    code, _out, err = _run(RULESET, data)
    assert code == 2
    assert f"{data}:1: the header has no 'account_id' column (the file looks separated by ';'" \
        in err
    assert "declare it in the ruleset, sources: {csv: {delimiter: ';'}})" in err


def test_a_delimiter_that_is_not_one_is_a_validate_error_at_its_line(tmp_path: Path) -> None:
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text(RULESET.read_text(encoding="utf-8").replace(
        "sources:\n", "sources:\n  csv:\n    delimiter: ';;'\n", 1), encoding="utf-8")
    line = ruleset.read_text(encoding="utf-8").splitlines().index("    delimiter: ';;'") + 1
    result = CliRunner().invoke(cli, ["validate", str(ruleset)])
    assert result.exit_code == 1, result.output
    assert f"{ruleset}:{line}:" in result.output
    assert "E152 sources.csv.delimiter: delimiter ';;' is not one of" in result.output


def test_the_row_11_stray_quote_in_a_tsv_loses_no_account(tmp_path: Path) -> None:
    data = _write(tmp_path / "accounts.tsv", "\t")
    lines = data.read_text(encoding="utf-8").splitlines()
    lines[11] = lines[11].replace("\t", '\t"', 1)  # open a quote before the account name
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _out, err = _run(RULESET, data)
    assert code == 1
    assert _summary(err) == (50, 49, 1)
    assert f"{data}:12: a quote opened in the row is not closed before line 13" in err


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, 49), cell=st.integers(0, 30), data=st.data())
def test_a_stray_quote_in_a_tsv_costs_at_most_its_own_row(
    tmp_path: Path, row: int, cell: int, data: st.DataObject
) -> None:
    lines = _write(tmp_path / "accounts.tsv", "\t").read_text(encoding="utf-8").splitlines()
    body = lines[1:]
    cells = body[row].split("\t")
    cell %= len(cells)
    offset = data.draw(st.integers(0, len(cells[cell])))
    cells[cell] = cells[cell][:offset] + '"' + cells[cell][offset:]
    body[row] = "\t".join(cells)
    path = tmp_path / "accounts.tsv"
    path.write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["dry-run", str(RULESET), "--data", str(path), "--as-of", AS_OF,
              "--format", "jsonl"],
    )
    read, decided, failed = _summary(result.stderr)
    assert read == decided + failed == len(body)
    assert failed <= 1
    assert result.exit_code == (1 if failed else 0)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300))
def test_read_is_decided_plus_failed_over_arbitrary_tsv_bytes(
    tmp_path: Path, body: bytes
) -> None:
    ruleset = tmp_path / "small.yaml"
    ruleset.write_text(SMALL_RULESET, encoding="utf-8")
    data = tmp_path / "x.tsv"
    data.write_bytes(b"account_id\thealth_score\tnote\n" + body)
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


def _xlsx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    return path


@pytest.mark.parametrize("name", ["accounts.xlsx", "accounts.xls", "accounts.numbers"])
def test_a_workbook_is_refused_with_save_as_csv_utf8(tmp_path: Path, name: str) -> None:
    data = _xlsx(tmp_path / name)
    code, out, err = _run(RULESET, data)
    assert code == 2
    assert out == ""
    assert f"{data}: no signal source reads this file" in err
    assert "save it as CSV UTF-8" in err


@pytest.mark.parametrize("name", ["accounts.csv", "accounts.tsv", "csv:accounts.numbers"])
def test_a_workbook_under_a_text_name_is_refused_at_line_1(tmp_path: Path, name: str) -> None:
    path = tmp_path / name.removeprefix("csv:")
    if name.startswith("csv:"):
        path.mkdir()  # a Numbers document is a folder on macOS
        spec = f"csv:{path}"
    else:
        _xlsx(path)
        spec = str(path)
    result = CliRunner().invoke(cli, ["dry-run", str(RULESET), "--data", spec,
                                      "--as-of", AS_OF])
    assert result.exit_code == 2
    assert "save it as CSV UTF-8" in result.stderr
    assert "Traceback" not in result.stderr
    if not name.startswith("csv:"):
        assert f"{path}:1: this is a spreadsheet workbook, not text" in result.stderr


def test_an_old_excel_workbook_is_recognised_by_its_first_bytes(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    code, _out, err = _run(RULESET, path)
    assert code == 2
    assert f"{path}:1: this is a spreadsheet workbook, not text" in err


@pytest.mark.parametrize(("name", "text", "said"), [
    ("commas.tsv", "account_id,health_score\nA,80\n", "separated by ',': declare it in the "
     "ruleset, sources: {csv: {delimiter: ','}}, or name the file .csv)"),
    ("tabs.csv", "account_id\thealth_score\nA\t80\n", "separated by tabs: declare it in the "
     "ruleset, sources: {csv: {delimiter: tab}}, or name the file .tsv)"),
])
def test_a_file_named_for_another_separator_says_which_it_looks_like(
    tmp_path: Path, name: str, text: str, said: str
) -> None:
    data = tmp_path / name
    data.write_text(text, encoding="utf-8")
    code, _out, err = _run(RULESET, data)
    assert code == 2
    assert f"{data}:1: the header has no 'account_id' column (the file looks {said}" in err
