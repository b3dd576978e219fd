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
from upsell_rules.io.columns import silenced
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import load_ruleset

REGISTRY = default_registry()

SAMPLES = ROOT / "samples" / "accounts.csv"


def _us_dates(tmp_path: Path, copies: int, iso_first: int = 0) -> tuple[Path, int]:
    """The samples ``copies`` times over with renewal dates written M/D/YYYY (as a US CRM
    exports them) but on the first ``iso_first`` rows, and how many rows carry one
    written the US way."""
    rows = list(csv.reader(SAMPLES.open(encoding="utf-8")))
    header, body = rows[0], rows[1:]
    at = header.index("renewal_date")
    path = tmp_path / "us.csv"
    dated = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        written = 0
        for copy in range(copies):
            for row in body:
                row = [f"{row[0]}-{copy}", *row[1:]]
                written += 1
                if row[at] and written > iso_first:
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
    # Not one account has a renewal date it could read: said as the header check says a
    # missing column, with what that silences.
    said = [line for line in done.stderr.splitlines()
            if line.startswith("upsell-rules: warning: renewal_date: not one")]
    assert said == [
        f"upsell-rules: warning: renewal_date: not one account's value could be read "
        f"({dated} left out, the first {SHOWN_PER_FIELD} shown above; the other accounts "
        "have none), so every account was decided without it: " + "; ".join(
            silenced(load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml")), REGISTRY,
                     "renewal_date"))]
    assert "trigger contract_anniversary can never fire" in said[0]
    assert "more values left out" not in done.stderr
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
    assert summary["read_for_no_account"] == ["renewal_date"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_column_read_for_some_accounts_is_counted_not_called_unreadable(
        tmp_path: Path, jobs: str) -> None:
    path, dated = _us_dates(tmp_path, 2, iso_first=3)
    done = run_cli("dry-run", "upsell_timing", "--data", str(path), "--as-of", AS_OF,
                   "--no-state", "--format", "jsonl", "--jobs", jobs)
    assert done.returncode == 0, done.stderr
    more = dated - SHOWN_PER_FIELD
    assert (f"upsell-rules: warning: renewal_date: {more} more values left out as above, "
            f"{dated} in all (the first {SHOWN_PER_FIELD} are shown; each decision lists "
            "its own under data_warnings)") in done.stderr.splitlines()
    assert "not one account's value" not in done.stderr
    as_json = run_cli("dry-run", "upsell_timing", "--data", str(path), "--as-of", AS_OF,
                      "--no-state", "--format", "jsonl", "--jobs", jobs,
                      "--summary-format", "json")
    assert json.loads(as_json.stderr.splitlines()[-1])["read_for_no_account"] == []


def test_other_commands_count_the_rest_as_they_end(tmp_path: Path) -> None:
    path, dated = _us_dates(tmp_path, 1, iso_first=3)
    done = run_cli("run", "upsell_timing", "--data", str(path), "--as-of", AS_OF,
                   "--no-state", "--sink", "stdout")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert sum("renewal_date: '" in line for line in lines) == SHOWN_PER_FIELD
    assert (f"upsell-rules: warning: renewal_date: {dated - SHOWN_PER_FIELD} more values "
            f"left out as above, {dated} in all") in done.stderr
    assert "not one account's value" not in done.stderr


def test_run_says_a_field_read_for_no_account(tmp_path: Path) -> None:
    path, dated = _us_dates(tmp_path, 1)
    done = run_cli("run", "upsell_timing", "--data", str(path), "--as-of", AS_OF,
                   "--no-state", "--sink", "stdout")
    assert done.returncode == 0, done.stderr
    assert (f"upsell-rules: warning: renewal_date: not one account's value could be read "
            f"({dated} left out, the first {SHOWN_PER_FIELD} shown above; the other accounts "
            "have none), so every account was decided without it: ") in done.stderr
    assert "more values left out" not in done.stderr


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


def test_a_field_no_decision_had_is_said_with_what_it_silences(
        capsys: pytest.CaptureFixture[str]) -> None:
    printer = ValueWarnings(shown=1, silences=lambda field: [f"trigger t reads {field}"])
    for row in (2, 3):
        printer(warning_line(f"a.csv:{row}", f"A{row}",
                             {"field": "arr", "value": "$1", "reason": "is not a number"}))
        printer.decided(["arr", "nps_score"])
    printer(warning_line("a.csv:4", "A4",
                         {"field": "nps_score", "value": "x", "reason": "is not a number"}))
    printer.decided(["arr"])  # nps_score was read for one account: only counted
    printer.finish()
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == ("upsell-rules: warning: arr: not one account's value could be read "
                       "(2 left out, the first 1 shown above; the other accounts have none), "
                       "so every account was decided without it: trigger t reads arr")
    assert not any("nps_score: not one" in line for line in err)


def test_decisions_counted_without_their_signals_never_make_the_claim(
        capsys: pytest.CaptureFixture[str]) -> None:
    printer = ValueWarnings(shown=1)
    printer(warning_line("a.csv:2", "A2",
                         {"field": "arr", "value": "$1", "reason": "is not a number"}))
    printer.decided(["arr"])
    printer.decided(None)
    printer.finish()
    assert "not one" not in capsys.readouterr().err


def test_decisions_from_worker_processes_count_their_missing_signals() -> None:
    from upsell_rules.cli.dry_run import _warn_values
    from upsell_rules.io.formatters import EncodedDecision

    printer = ValueWarnings()
    text = ('{"account_id":"A1","band":"wait","narrative":"x ] y",'
            '"missing_signals":["arr","nps_score"],"ruleset":{"name":"r"}}')
    _warn_values(EncodedDecision(text, "wait", "A1"), printer)
    _warn_values(EncodedDecision('{"account_id":"A2","band":"wait"}', "wait", "A2"), printer)
    assert printer.decisions == 2
    assert printer.lacking == {"arr": 1, "nps_score": 1}
    assert printer.unseen == 1  # no missing_signals key: not known, never claimed


def test_a_run_of_records_duckdb_wrote_counts_as_unseen_decisions() -> None:
    from upsell_rules.cli.dry_run import _warn_values
    from upsell_rules.io.formatters import EncodedBatch

    printer = ValueWarnings()
    _warn_values(EncodedBatch([b"{}\n"] * 3, ["wait"] * 3), printer)
    printer.decided(["arr"], 2)
    assert (printer.decisions, printer.unseen, printer.lacking) == (5, 3, {"arr": 2})
