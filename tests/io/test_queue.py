"""The queue people work from: widths, columns, filters, views, CSV by extension."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.io.formatters import queue_order
from upsell_rules.io.queue import (
    DEFAULT_COLUMNS,
    QueueFilter,
    prep_steps,
    queue_lines,
    status_of,
)

ROOT = Path(__file__).resolve().parents[2]
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")
ACCOUNTS = str(ROOT / "samples" / "accounts.csv")
AS_OF = "2026-11-02"


def dry(*args: str) -> Any:
    return CliRunner().invoke(cli, ["dry-run", RULESET, "--data", ACCOUNTS, "--as-of", AS_OF,
                                    *args])


@pytest.fixture(scope="module")
def decisions() -> list[dict[str, Any]]:
    result = dry("--format", "json")
    assert result.exit_code == 0, result.output
    return queue_order(json.loads(result.stdout))


@pytest.mark.parametrize("width", [80, 100, 140, 200])
def test_the_table_fits_each_width_and_never_breaks_an_id(
    decisions: list[dict[str, Any]], width: int
) -> None:
    lines = queue_lines(decisions, width)
    assert all(len(line) <= width for line in lines), max(map(len, lines))
    header = lines[0].split()
    assert {"account", "score", "band", "status", "why", "play"} <= set(header)
    ids = [d["account_id"] for d in decisions]
    start = lines[0].index("account")
    for line, account_id in zip(lines[1:], ids, strict=True):
        assert line[start:].split()[0] == account_id
    # Long text is shortened with an ellipsis, not wrapped onto another line.
    assert len(lines) == len(decisions) + 1
    if width < 140:
        assert any("\u2026" in line for line in lines)


def _cells(lines: list[str], column: str) -> list[str]:
    """The text under ``column`` on each row (columns are padded, two spaces apart)."""
    header = lines[0]
    start = header.index(column)
    rest = header[start + len(column):]
    end = start + len(column) + (len(rest) - len(rest.lstrip())) if rest.strip() else None
    return [line[start:end].strip() for line in lines[1:]]


def test_at_140_columns_the_person_and_the_window_stay_readable(
    decisions: list[dict[str, Any]],
) -> None:
    lines = queue_lines(decisions, 140)
    header = lines[0].split()
    assert {"owner", "window"} <= set(header), header
    # Every owner is shown whole; every window keeps at least its first words.
    assert _cells(lines, "owner") == [d["owner"] for d in decisions]
    for shown, decision in zip(_cells(lines, "window"), decisions, strict=True):
        window = decision["action"]["window"]
        assert shown == window or (
            shown.endswith("\u2026") and len(shown) >= 16 and window.startswith(shown[:-1])
        ), (shown, window)
    # The steps to prepare give way first; the status column still says "prep".
    assert "prepare" not in header
    assert any(" prep " in line for line in lines[1:])


def test_a_wide_screen_shows_the_prep_steps_too(decisions: list[dict[str, Any]]) -> None:
    header = queue_lines(decisions, 200)[0].split()
    assert {"prepare", "owner", "role", "window"} <= set(header)


def test_wider_screens_show_more_columns(decisions: list[dict[str, Any]]) -> None:
    shown = [len(queue_lines(decisions, w)[0].split()) for w in (80, 100, 140, 200)]
    assert shown == sorted(shown) and shown[0] < shown[-1]
    assert "name" in queue_lines(decisions, 80)[0].split()
    unlimited = queue_lines(decisions, None)
    assert "\u2026" not in "".join(unlimited)


def test_columns_pick_and_order_the_table() -> None:
    result = dry("--columns", "score,account,owner,prepare", "--width", "60")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["score", "account", "owner", "prepare"]
    bad = dry("--columns", "acount,score")
    assert bad.exit_code == 2
    assert "unknown column 'acount' (did you mean 'account'?)" in bad.stderr


def test_prep_says_what_to_prepare_and_which_rule_asked(
    decisions: list[dict[str, Any]],
) -> None:
    prepping = [d for d in decisions if status_of(d) == "prep"]
    assert prepping
    for d in prepping:
        steps = prep_steps(d)
        assert len(steps) == len(d["action"]["prepare"])
        assert all("(gate " in s or "(red flag " in s for s in steps)
    table = dry("--status", "prep", "--columns", "account,status,prepare").stdout
    assert all(" prep " in line for line in table.splitlines()[1:])
    assert "warm_up_touchpoint (gate champion_recent)" in table


def test_filters(decisions: list[dict[str, Any]]) -> None:
    owner = decisions[0]["owner"]
    table = dry("--owner", owner.upper(), "--columns", "account,owner").stdout.splitlines()
    expected = [d["account_id"] for d in decisions if d["owner"] == owner]
    assert [line.split()[0] for line in table[1:]] == expected
    assert all(owner in line for line in table[1:])
    top = dry("--band", "act_now", "--status", "ready", "--top", "3", "--format", "jsonl")
    rows = [json.loads(line) for line in top.stdout.splitlines()]
    ready = [d for d in decisions if d["band"] == "act_now" and status_of(d) == "ready"]
    assert [r["account_id"] for r in rows] == [d["account_id"] for d in ready[:3]]
    blocked = dry("--status", "blocked", "--format", "json")
    assert {d["account_id"] for d in json.loads(blocked.stdout)} == {
        d["account_id"] for d in decisions if d["blocked"]
    }


def test_a_misspelt_band_gets_a_did_you_mean() -> None:
    result = dry("--band", "act_noww")
    assert result.exit_code == 2
    assert "--band act_noww: not a band of upsell_timing (did you mean 'act_now'?)" in result.stderr


def test_the_format_follows_the_output_extension(tmp_path: Path,
                                                 decisions: list[dict[str, Any]]) -> None:
    target = tmp_path / "queue.csv"
    assert dry("-o", str(target)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["account_id"] for r in rows] == [d["account_id"] for d in decisions]
    assert [r["status"] for r in rows] == [status_of(d) for d in decisions]
    assert rows[0]["rank"] == "1"
    prep = next(r for r in rows if r["status"] == "prep")
    assert "(gate " in prep["prepare_steps"] or "(red flag " in prep["prepare_steps"]
    as_json = tmp_path / "queue.json"
    assert dry("-o", str(as_json)).exit_code == 0
    assert len(json.loads(as_json.read_text(encoding="utf-8"))) == len(decisions)
    text = tmp_path / "queue.txt"
    assert dry("-o", str(text)).exit_code == 0
    assert text.read_text(encoding="utf-8").startswith("rank  account")


def test_group_by_summarises(decisions: list[dict[str, Any]]) -> None:
    result = dry("--group-by", "band")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["band", "accounts", "ready", "prep", "blocked"]
    counts = {line.split()[0]: int(line.split()[1]) for line in lines[1:]}
    assert sum(counts.values()) == len(decisions)
    assert counts["act_now"] == sum(d["band"] == "act_now" for d in decisions)
    by_plan = dry("--group-by", "plan").stdout.splitlines()
    plans = {d["plan"] for d in decisions}
    assert {line.split()[0] for line in by_plan[1:]} == plans


def test_filter_keeps_error_rows_only_unfiltered() -> None:
    error = {"account_id": "X", "error": {"location": "f:2", "message": "bad"}, "errors": []}
    assert QueueFilter().keeps(error)
    assert not QueueFilter(statuses=("ready",)).keeps(error)


def test_run_ready_only_leaves_out_blocked_and_prep(tmp_path: Path,
                                                    decisions: list[dict[str, Any]]) -> None:
    target = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["run", "--no-state", RULESET, "--data", ACCOUNTS, "--as-of", AS_OF,
                                      "--sink", f"file:{target}", "--band", "act_now",
                                      "--ready-only"])
    assert result.exit_code == 0, result.output
    sent = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert {d["account_id"] for d in sent} == {
        d["account_id"] for d in decisions if d["band"] == "act_now" and status_of(d) == "ready"
    }
    typo = CliRunner().invoke(cli, ["run", "--no-state", RULESET, "--data", ACCOUNTS, "--as-of", AS_OF,
                                    "--sink", f"file:{target}", "--band", "act_noww"])
    assert typo.exit_code == 2 and "did you mean 'act_now'?" in typo.stderr


def test_every_default_column_has_a_header() -> None:
    assert len(set(DEFAULT_COLUMNS)) == len(DEFAULT_COLUMNS)


def test_no_color_drops_bold_too(decisions: list[dict[str, Any]], capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from upsell_rules.cli.dry_run import _rich_table

    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    _rich_table(decisions[:3], width=120)
    assert "\x1b[1m" in capsys.readouterr().out  # a terminal gets bold and colour
    monkeypatch.setenv("NO_COLOR", "1")
    _rich_table(decisions[:3], width=120)
    shown = capsys.readouterr().out
    assert "\x1b[" not in shown and "ACC-" in shown


def test_piped_tables_are_plain() -> None:
    result = dry("--top", "3")
    assert "\x1b[" not in result.stdout and "\u2502" not in result.stdout
