"""Nothing is lost: every account is decided or reported, and output files are all or nothing.

``dry-run --errors include`` puts each failed record into the output as an error row,
so the output has one row per input record; the summary's read / decided / failed
always add up (a property over random CSVs with malformed cells). ``--output`` is
written to a temporary file and renamed: killing the run mid-write (SIGKILL, SIGTERM,
Ctrl-C) leaves the previous file, or none, never a partial one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsell_rules.cli.main import cli
from upsell_rules.io.synthetic import generate_accounts, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")
BAD_CSV = str(ROOT / "samples" / "bad_accounts.csv")
AS_OF = "2026-11-02"
#: A bad value fails the record only for a signal marked required (otherwise it costs
#: that one signal, see test_bad_cells.py); these tests are about failed records.
REQUIRED = ["--set", "signals.health_score.required=true",
            "--set", "signals.renewal_date.required=true"]

#: A small ruleset (fast to load) reading one field of each type.
TYPED_RULESET = """\
name: typed
version: 1
signals:
  health_score: {type: number, required: true}
  seats_licensed: {type: integer, required: true}
  renewal_date: {type: date, required: true}
  competitor_evaluation: {type: boolean, required: true}
  seats_active_history: {type: integer_list, required: true}
scoring:
  categories:
    product:
      weight: 1
      tiers:
        - {id: healthy, score: 10, when: health_score > 50 or competitor_evaluation}
        - id: dated
          score: 5
          when: renewal_date > '2026-01-01' or seats_licensed > 3 or seats_active_history is present
bands:
  - {id: act_now, min: 50, max: 100, play: go, outreach: true}
  - {id: wait, min: 0, max: 50, play: hold}
plays:
  go: {title: Go, window: now}
  hold: {title: Hold, window: later}
"""

#: field -> (values that read, values that do not).
VALUES: dict[str, tuple[list[str], list[str]]] = {
    "health_score": (["", "91", "-3.5", "1e3", " 7 "], ["abc", "1e400", "NaN", "9" * 400, "=1"]),
    "seats_licensed": (["", "12", "0", "4.0"], ["1.5", "ten", "1e999"]),
    "renewal_date": (["", "2026-12-01", "0001-01-01"], ["2026-13-45", "tomorrow", "20261201"]),
    "competitor_evaluation": (["", "yes", "FALSE", "1"], ["maybe", "2"]),
    "seats_active_history": (["", "1|2|3", "5"], ["1|x", "1.5|2"]),
}
FIELDS = list(VALUES)


@st.composite
def messy_csv(draw: st.DrawFn) -> tuple[str, list[str], list[bool]]:
    """A CSV, the account ids in row order, and whether each row should fail."""
    ids: list[str] = []
    failing: list[bool] = []
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        account = draw(st.sampled_from([f"A{i}" for i in range(8)]))
        row = [account]
        bad = account in ids
        for field in FIELDS:
            good, broken = VALUES[field]
            if draw(st.integers(0, 5)) == 0:
                row.append(draw(st.sampled_from(broken)))
                bad = True
            else:
                row.append(draw(st.sampled_from(good)))
        ids.append(account)
        failing.append(bad)
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["account_id", *FIELDS])
    writer.writerows(rows)
    return buffer.getvalue(), ids, failing


def _summary(stderr: str) -> tuple[int, int, int]:
    match = re.search(r"^read (\d+), decided (\d+), failed (\d+)", stderr, re.MULTILINE)
    assert match, stderr
    read, decided, failed = (int(g) for g in match.groups())
    return read, decided, failed


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=messy_csv())
def test_every_record_is_decided_or_an_error_row_and_the_counts_add_up(
    tmp_path: Path, case: tuple[str, list[str], list[bool]]
) -> None:
    text, ids, failing = case
    ruleset = tmp_path / "typed.yaml"
    ruleset.write_text(TYPED_RULESET, encoding="utf-8")
    data = tmp_path / "accounts.csv"
    data.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["dry-run", str(ruleset), "--data", str(data), "--as-of", AS_OF,
              "--format", "jsonl", "--errors", "include"],
    )
    read, decided, failed = _summary(result.stderr)
    assert read == decided + failed == len(ids)
    assert failed == sum(failing)
    assert result.exit_code == (1 if failed else 0)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["account_id"] for row in rows] == ids
    assert ["error" in row for row in rows] == failing
    for row, account in zip(rows, ids, strict=True):
        if "error" in row:
            assert row["error"]["location"].startswith(f"{data}:")
            assert row["errors"][0] == row["error"]
            assert all(e["account_id"] == account for e in row["errors"])


def test_error_rows_in_every_format() -> None:
    base = ["dry-run", RULESET, "--data", BAD_CSV, "--as-of", AS_OF, "--errors", "include",
            *REQUIRED]
    jsonl = CliRunner().invoke(cli, [*base, "--format", "jsonl"])
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["account_id"] for r in rows] == [
        "ACC-2001", "ACC-2002", "ACC-2003", "ACC-2004", "ACC-2005", "ACC-2002",
    ]
    assert rows[2] == {
        "account_id": "ACC-2003",
        "error": {"location": f"{BAD_CSV}:4", "account_id": "ACC-2003", "field": "health_score",
                  "value": "abc", "message": "'abc' is not a number"},
        "errors": [{"location": f"{BAD_CSV}:4", "account_id": "ACC-2003",
                    "field": "health_score", "value": "abc",
                    "message": "'abc' is not a number"}],
    }
    as_json = json.loads(CliRunner().invoke(cli, [*base, "--format", "json"]).stdout)
    assert as_json == rows
    table = CliRunner().invoke(cli, [*base, "--format", "table"]).stdout.splitlines()
    # Failed records close the queue, unranked, in input order.
    row = next(line for line in table if "ACC-2003" in line.split()[:2])
    assert row.split()[:3] == ["-", "ACC-2003", "-"]
    assert f"{BAD_CSV}:4: health_score: 'abc' is not a number" in row
    as_csv = list(csv.DictReader(io.StringIO(
        CliRunner().invoke(cli, [*base, "--format", "csv"]).stdout, newline=""
    )))
    # The CSV is the queue: decided accounts ranked first, failed records after them.
    assert [r["error_field"] for r in as_csv] == ["", "", "", "health_score", "renewal_date",
                                                   "account_id"]
    assert [r["rank"] for r in as_csv] == ["1", "2", "3", "", "", ""]
    assert as_csv[3]["product"] == ""
    assert next(r for r in as_csv if r["account_id"] == "ACC-2001")["product"] == "8"


def test_errors_stay_on_stderr_by_default() -> None:
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", BAD_CSV, "--as-of", AS_OF, "--format", "jsonl",
              *REQUIRED]
    )
    assert len(result.stdout.splitlines()) == 3
    assert result.stderr.count("upsell-rules: error:") == 3
    assert _summary(result.stderr) == (6, 3, 3)


def test_a_record_with_two_problems_is_one_error_row(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_text("account_id,health_score,renewal_date\nA1,abc,soon\nA2,50,\n", "utf-8")
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", str(data), "--as-of", AS_OF, "--format", "jsonl",
              "--errors", "include", *REQUIRED],
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["account_id"] for r in rows] == ["A1", "A2"]
    assert [e["field"] for e in rows[0]["errors"]] == ["health_score", "renewal_date"]
    assert _summary(result.stderr) == (2, 1, 1)


# --- atomic output -----------------------------------------------------------------


@pytest.fixture(scope="module")
def big_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough accounts that writing their decisions takes a while (about 15 MB)."""
    path = tmp_path_factory.mktemp("big") / "accounts.jsonl"
    write_jsonl(path, generate_accounts(10_000, 11, date(2026, 11, 2)))
    return path


def _start(big_data: Path, target: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "upsell_rules", "dry-run", RULESET, "--data", str(big_data),
         "--as-of", AS_OF, "--format", "jsonl", "--output", str(target)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _wait_until_writing(process: subprocess.Popen[bytes], folder: Path) -> Path:
    """The temporary output file, once it holds a good part of the output."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for temp in folder.glob(".upsell-rules-*.tmp"):
            try:
                if temp.stat().st_size > 1_000_000:
                    return temp
            except FileNotFoundError:
                continue
        assert process.poll() is None, process.stderr.read() if process.stderr else b""
        time.sleep(0.005)
    raise AssertionError("the output never started")


@pytest.mark.parametrize("previous", ["old content\n", None])
def test_sigkill_mid_write_leaves_the_previous_file_or_none(
    tmp_path: Path, big_data: Path, previous: str | None
) -> None:
    target = tmp_path / "out.jsonl"
    if previous is not None:
        target.write_text(previous, encoding="utf-8")
    process = _start(big_data, target)
    temp = _wait_until_writing(process, tmp_path)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    if previous is None:
        assert not target.exists()
    else:
        assert target.read_text(encoding="utf-8") == previous
    # SIGKILL cannot be caught: the temporary file stays, under its own name.
    assert temp.exists()


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, None)]
)
def test_sigterm_and_ctrl_c_mid_write_clean_up(
    tmp_path: Path, big_data: Path, sig: signal.Signals, status: int | None
) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old content\n", encoding="utf-8")
    process = _start(big_data, target)
    _wait_until_writing(process, tmp_path)
    process.send_signal(sig)
    process.wait(timeout=30)
    assert process.returncode != 0
    if status is not None:
        assert process.returncode == status
    assert target.read_text(encoding="utf-8") == "old content\n"
    assert not list(tmp_path.glob(".upsell-rules-*"))


def test_a_finished_write_replaces_the_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")
    os.chmod(target, 0o640)
    args = ["dry-run", RULESET, "--data", BAD_CSV, "--as-of", AS_OF, "--format", "csv"]
    CliRunner().invoke(cli, [*args, "-o", str(target)])
    assert target.read_text(encoding="utf-8").startswith("rank,account_id,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh.csv"
    CliRunner().invoke(cli, [*args, "-o", str(fresh)])
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    assert not list(tmp_path.glob(".upsell-rules-*"))


def test_an_unwritable_folder_is_a_usage_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o500)
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", BAD_CSV, "--as-of", AS_OF, "--format", "csv",
              "-o", str(folder / "out.csv")],
    )
    assert result.exit_code == 2
    assert "cannot write in" in result.output
