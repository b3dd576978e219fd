"""A column in another format costs its signal on every row: the terminal says so in a
few located lines and one count per field, not once per row, and nothing is lost (each
decision keeps its own data_warnings; the summary counts them)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.cli.value_warnings import SHOWN_PER_FIELD, ValueWarnings, left_out_suffix
from upsell_rules.io.account import warning_line

SAMPLES = ROOT / "samples" / "accounts.csv"


def _us_dates(tmp_path: Path, copies: int) -> tuple[Path, int]:
    """The samples ``copies`` times over with renewal dates written M/D/YYYY (as a US CRM
    exports them), and how many rows carry one."""
    rows = list(csv.reader(SAMPLES.open(encoding="utf-8")))
    header, body = rows[0], rows[1:]
    at = header.index("renewal_date")
    path = tmp_path / "us.csv"
    dated = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        for copy in range(copies):
            for row in body:
                row = [f"{row[0]}-{copy}", *row[1:]]
                if row[at]:
                    year, month, day = row[at].split("-")
                    row[at] = f"{int(month)}/{int(day)}/{year}"
                    dated += 1
                out.writerow(row)
    return path, dated


def test_dry_run_shows_a_few_lines_per_field_and_counts_the_rest(tmp_path: Path) -> None:
    path, dated = _us_dates(tmp_path, 2)
    done = run_cli("dry-run", "upsell_timing", "--data", str(path), "--as-of", AS_OF,
                   "--no-state", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    located = [line for line in done.stderr.splitlines()
               if "renewal_date: '" in line and "is not a date" in line]
    assert len(located) == SHOWN_PER_FIELD
    assert located[0].startswith(f"upsell-rules: warning: {path}:2: renewal_date: ")
    more = dated - SHOWN_PER_FIELD
    assert (f"upsell-rules: warning: renewal_date: {more} more values left out as above, "
            f"{dated} in all (the first {SHOWN_PER_FIELD} are shown; each decision lists "
            "its own under data_warnings)") in done.stderr.splitlines()
    assert done.stderr.splitlines()[-1].endswith(f"; {dated} values left out (see warnings)")
    # Nothing is lost: every account with a date has it in its own record.
    records = [json.loads(line) for line in done.stdout.splitlines()]
    noted = [r for r in records
             if any(w["field"] == "renewal_date" for w in r.get("data_warnings", []))]
    assert len(noted) == dated
    as_json = run_cli("dry-run", "upsell_timing", "--data", str(path), "--as-of", AS_OF,
                      "--no-state", "--format", "jsonl", "--summary-format", "json")
    summary = json.loads(as_json.stderr.splitlines()[-1])
    assert summary["values_left_out"] == {"renewal_date": dated}


def test_other_commands_count_the_rest_as_they_end(tmp_path: Path) -> None:
    path, dated = _us_dates(tmp_path, 1)
    done = run_cli("run", "upsell_timing", "--data", str(path), "--as-of", AS_OF,
                   "--no-state", "--sink", "stdout")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert sum("renewal_date: '" in line for line in lines) == SHOWN_PER_FIELD
    assert (f"upsell-rules: warning: renewal_date: {dated - SHOWN_PER_FIELD} more values "
            f"left out as above, {dated} in all") in done.stderr


def test_a_few_values_are_all_shown_and_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    printer = ValueWarnings(shown=2)
    for row in range(2, 5):
        printer(warning_line(f"a.csv:{row}", f"A{row}",
                             {"field": "arr", "value": "$1", "reason": "is not a number"}))
    printer(warning_line("a.csv:9", "A9",
                         {"field": "plan", "value": "x", "reason": "is not a plan"}))
    printer.finish()
    printer.finish()
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[3] for line in err[:3]] == ["arr", "arr", "plan"]
    assert err[3] == ("upsell-rules: warning: arr: 1 more value left out as above, 3 in all "
                      "(the first 2 are shown; each decision lists its own under "
                      "data_warnings)")
    assert len(err) == 4
    assert printer.counts == {"arr": 3, "plan": 1}
    assert left_out_suffix(printer) == "; 4 values left out (see warnings)"
    assert left_out_suffix(ValueWarnings()) == ""
