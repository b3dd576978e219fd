"""Progress bars: counted (done/total) on a terminal's stderr, never in pipes or files."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.cli.progress import count_records

#: An SGR escape (colour, bold, italics): what NO_COLOR must leave out.
SGR = re.compile(rb"\x1b\[[0-9;]*m")


def run_in_pty(args: list[str], cwd: Path, env: dict[str, str] | None = None,
               stdout_too: bool = False) -> tuple[int, bytes]:
    """Run the CLI with stderr (and stdin) on a pseudo-terminal, stdout to /dev/null (or
    the terminal too); return the exit status and everything written to the terminal."""
    main, child = pty.openpty()
    base = {k: v for k, v in os.environ.items()
            if k not in ("UPSELL_RULES_NO_PROGRESS", "NO_COLOR", "UPSELL_RULES_PLUGINS")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "upsell_rules", *args], cwd=cwd, stdin=child,
        stdout=child if stdout_too else subprocess.DEVNULL, stderr=child, env={**base, "COLUMNS": "100", **(env or {})},
        close_fds=True,
    )
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    return proc.wait(timeout=300), seen


def test_sample_history_counts_the_accounts_on_a_terminal(tmp_path: Path) -> None:
    status, seen = run_in_pty(
        ["sample-history", "--accounts", "40", "--months", "3", "--output-dir", "h"], tmp_path)
    assert status == 0, seen
    assert b"generating the history" in seen
    assert b"/40" in seen  # done/total, not a spinner
    # The bar is cleared before the closing line, which stays alone on the terminal.
    assert re.search(rb"\x1b\[2Kwrote \d+ snapshots of 40 accounts and \d+ deals to "
                     rb"h/snapshots.csv, h/outcomes.csv, h/truth.json$", seen.rstrip()), seen


def test_no_bar_when_stderr_is_piped(tmp_path: Path) -> None:
    result = run_cli("sample-history", "--accounts", "40", "--months", "3",
                     "--output-dir", "h", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "generating" not in result.stderr
    assert "\x1b" not in result.stderr + result.stdout


def test_no_color_draws_the_bar_without_colour_or_bold(tmp_path: Path) -> None:
    status, coloured = run_in_pty(
        ["sample-history", "--accounts", "40", "--months", "3", "--output-dir", "a"], tmp_path)
    assert status == 0 and SGR.search(coloured), coloured
    status, plain = run_in_pty(
        ["sample-history", "--accounts", "40", "--months", "3", "--output-dir", "b"], tmp_path,
        env={"NO_COLOR": "1"})
    assert status == 0
    assert b"/40" in plain
    assert not SGR.search(plain), plain


def test_upsell_rules_no_progress_turns_the_bar_off(tmp_path: Path) -> None:
    status, seen = run_in_pty(
        ["sample-history", "--accounts", "40", "--months", "3", "--output-dir", "h"], tmp_path,
        env={"UPSELL_RULES_NO_PROGRESS": "1"})
    assert status == 0
    assert b"generating" not in seen and b"/40" not in seen


def test_backtest_counts_the_snapshots_against_the_rows_of_the_file(tmp_path: Path) -> None:
    made = run_cli("sample-history", "--accounts", "30", "--months", "4",
                   "--output-dir", "h", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    rows = len((tmp_path / "h" / "snapshots.csv").read_text().splitlines()) - 1
    status, seen = run_in_pty(
        ["backtest", str(ROOT / "rulesets" / "upsell_timing.yaml"),
         "--snapshots", "h/snapshots.csv", "--outcomes", "h/outcomes.csv"], tmp_path)
    assert status == 0, seen
    assert b"deciding the snapshots" in seen
    assert f"/{rows}".encode() in seen


def test_dry_run_on_a_large_file_counts_its_rows(tmp_path: Path) -> None:
    made = run_cli("sample", "--accounts", "6000", "--as-of", AS_OF, "-o", "big.csv",
                   cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    status, seen = run_in_pty(
        ["dry-run", "upsell_timing", "--data", "big.csv", "--as-of", AS_OF,
         "--format", "jsonl", "-o", "out.jsonl"], tmp_path)
    assert status == 0, seen
    assert b"deciding the accounts" in seen and b"/6000" in seen
    # The bar is cleared: the summary line is what stays on the terminal.
    assert b"read 6000, decided 6000" in seen


def test_dry_run_on_a_small_file_shows_no_bar(tmp_path: Path) -> None:
    status, seen = run_in_pty(
        ["dry-run", "upsell_timing", "--data", str(ROOT / "samples" / "accounts.csv"),
         "--as-of", AS_OF, "-o", "q.txt"], tmp_path)
    assert status == 0, seen
    assert b"deciding" not in seen


def test_count_records_counts_data_rows_and_gives_up_on_json(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("account_id\nA\nB\nC")  # no newline at the end
    (tmp_path / "b.jsonl").write_text('{"account_id": "D"}\n{"account_id": "E"}\n')
    (tmp_path / "c.json").write_text('[{"account_id": "F"}]')
    assert count_records([str(tmp_path / "a.csv")]) == 3
    assert count_records([str(tmp_path / "a.csv"), str(tmp_path / "b.jsonl")]) == 5
    assert count_records([str(tmp_path / "c.json")]) is None
    assert count_records(["postgresql://db/accounts"]) is None


def test_no_color_leaves_out_bold_and_italics_in_tables_on_a_terminal(tmp_path: Path) -> None:
    made = run_cli("sample-history", "--accounts", "30", "--months", "3",
                   "--output-dir", "h", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    commands = [
        ["dry-run", "upsell_timing", "--data", "samples/accounts.csv", "--as-of", AS_OF],
        ["backtest", "upsell_timing", "--snapshots", "h/snapshots.csv",
         "--outcomes", "h/outcomes.csv"],
    ]
    for args in commands:
        status, styled = run_in_pty(args, tmp_path, stdout_too=True)
        assert status == 0 and b"\x1b[1m" in styled  # bold headers on a terminal
        status, plain = run_in_pty(args, tmp_path, env={"NO_COLOR": "1"}, stdout_too=True)
        assert status == 0 and not SGR.search(plain), args[0]


def test_tables_are_plain_when_piped(tmp_path: Path) -> None:
    made = run_cli("sample-history", "--accounts", "30", "--months", "3",
                   "--output-dir", "h", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    for args in (["dry-run", "upsell_timing", "--data", "samples/accounts.csv", "--as-of", AS_OF],
                 ["backtest", "upsell_timing", "--snapshots", "h/snapshots.csv",
                  "--outcomes", "h/outcomes.csv"]):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout + result.stderr
