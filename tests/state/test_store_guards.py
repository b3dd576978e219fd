"""What a store refuses, from the CLI: runs going back in time, and snoozes that could
never hold anything (an unknown account or play, a date already past, a missing store)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.state.conftest import SAMPLE, invoke, read_jsonl
from tests.state.test_daily_runs import run

DAY1, DAY8 = "2026-11-02", "2026-11-09"


def _log_rows(store: Path) -> int:
    with sqlite3.connect(store) as conn:
        return int(conn.execute("SELECT count(*) FROM upsell_decisions").fetchone()[0])


def test_a_run_dated_before_the_stores_latest_run_is_refused_and_changes_nothing(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(), tmp_path / "state.db"
    run(rules, store, tmp_path / "d8.jsonl", DAY8)
    rows = _log_rows(store)
    out = tmp_path / "d1.jsonl"
    late = invoke("run", rules, "--data", SAMPLE, "--as-of", DAY1, "--sink", f"file:{out}",
                  "--state", store)
    assert late.exit_code == 2
    assert (f"--as-of {DAY1} is before its latest run (run 1, as of {DAY8}); nothing was "
            "changed or delivered") in late.stderr
    assert not out.exists()
    assert _log_rows(store) == rows
    # Read-only views of an earlier day show no statuses rather than later days' memory.
    queue = invoke("dry-run", rules, "--data", SAMPLE, "--as-of", DAY1, "--state", store,
                   "--format", "jsonl")
    assert queue.exit_code == 0
    assert "no statuses from state store" in queue.stderr
    assert all('"state"' not in line for line in queue.stdout.splitlines())
    # The same day again and a later day still work.
    run(rules, store, tmp_path / "again.jsonl", DAY8)
    assert read_jsonl(tmp_path / "again.jsonl") == []
    run(rules, store, tmp_path / "later.jsonl", "2026-11-10")


def test_snooze_refuses_what_could_never_hold_and_writes_nothing(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    store = tmp_path / "state.db"
    missing = invoke("snooze", "ACC-1001", "--until", "2026-12-01", "--reason", "x",
                     "--state", tmp_path / "typo.db")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    assert not (tmp_path / "typo.db").exists()
    gone = invoke("unsnooze", "ACC-1001", "--state", tmp_path / "typo.db")
    assert gone.exit_code == 2 and not (tmp_path / "typo.db").exists()
    run(make_ruleset(), store, tmp_path / "d1.jsonl", DAY1)
    cases = {
        ("ACC-1O01", "2026-12-01", None): "'ACC-1O01' is not in the decision log",
        ("ACC-1001", DAY1, None): f"--until {DAY1} is not after the store's latest run",
        ("ACC-1001", "2026-10-01", None): "the snooze would hold nothing",
        ("ACC-1001", "2026-12-01", "seat_expanson"): "(did you mean 'seat_expansion'?)",
    }
    for (account, until, play), message in cases.items():
        result = invoke("snooze", account, "--until", until, "--reason", "x", "--state", store,
                        *(["--play", play] if play else []))
        assert result.exit_code == 2, (account, until, play)
        assert message in result.stderr
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT count(*) FROM upsell_holds").fetchone()[0] == 0
    # A play the ruleset declares counts even before any account had it.
    ok = invoke("snooze", "ACC-1001", "--until", "2026-12-01", "--reason", "x", "--state", store,
                "--play", "upsell_outreach")
    assert ok.exit_code == 0, ok.stderr


def test_a_remembered_account_missing_from_the_data_is_named_not_dropped_silently(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(), tmp_path / "state.db"
    run(rules, store, tmp_path / "d1.jsonl", DAY1)
    lines = SAMPLE.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("ACC-1001,", "ACC-1042,"))]
    assert len(kept) == len(lines) - 2
    data = tmp_path / "fewer.csv"
    data.write_text("".join(kept))
    result = invoke("run", rules, "--data", data, "--as-of", "2026-11-03", "--sink",
                    f"file:{tmp_path / 'd2.jsonl'}", "--state", store, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert '"not_decided": [\n      "ACC-1001",\n      "ACC-1042"\n    ]' in result.stdout
    text = invoke("run", rules, "--data", data, "--as-of", "2026-11-04", "--sink",
                  f"file:{tmp_path / 'd3.jsonl'}", "--state", store)
    assert ("state: 2 remembered account(s) not decided in this run (not in the data, or "
            "failed): ACC-1001, ACC-1042; their state is kept") in text.stdout


def test_an_outcome_is_recorded_with_its_effects_or_not_at_all(tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError

    from upsell_rules.state.store import StateStore

    store = StateStore.open(str(tmp_path / "state.db"))
    # The second hold cannot be written (no date): the outcome must not stay behind,
    # or importing the file again would skip it as "already imported".
    broken = [("snooze", "2027-01-31", "feedback: closed lost"), ("cooldown", None, "x")]
    try:
        store.add_feedback("ACC-1001", "closed_lost", "2026-11-02", "o.csv:2",
                           broken, close=True)  # type: ignore[arg-type]
    except IntegrityError:
        pass
    else:
        raise AssertionError("the broken hold was written")
    assert store.holds_of("ACC-1001") == []
    good = [("snooze", "2027-01-31", "feedback: closed lost")]
    assert store.add_feedback("ACC-1001", "closed_lost", "2026-11-02", "o.csv:2", good)
    assert [h.until for h in store.holds_of("ACC-1001")] == ["2027-01-31"]
    assert not store.add_feedback("ACC-1001", "closed_lost", "2026-11-02", "o.csv:2", good)
    store.close()


def test_the_same_change_twice_in_a_day_is_delivered_twice_with_its_own_key(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(), tmp_path / "state.db"
    lines = SAMPLE.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    column = header.index("health_score")
    sick = []
    for line in lines:
        if line.startswith("ACC-1001,"):
            cells = line.rstrip("\n").split(",")
            cells[column] = "20"
            line = ",".join(cells) + "\n"
        sick.append(line)
    worse = tmp_path / "worse.csv"
    worse.write_text("".join(sick))

    def three_runs(store: Path) -> list[list[dict[str, object]]]:
        days = []
        for n, data in enumerate((SAMPLE, worse, SAMPLE)):
            out = tmp_path / f"{store.stem}-{n}.jsonl"
            result = invoke("run", rules, "--data", data, "--as-of", DAY1, "--sink",
                            f"file:{out}", "--state", store)
            assert result.exit_code == 0, result.stderr
            days.append([d for d in read_jsonl(out) if d["account_id"] == "ACC-1001"])
        return days

    [first], [left], [again] = three_runs(store)
    assert left["transition"]["kind"] == "left_act_now"
    assert again["transition"]["kind"] == first["transition"]["kind"] == "entered_act_now"
    keys = {first["transition"]["key"], left["transition"]["key"], again["transition"]["key"]}
    assert len(keys) == 3
    # Deterministic: the same three runs on a new store give the same keys.
    assert three_runs(tmp_path / "other.db") == [[first], [left], [again]]


def test_shadow_report_counts_a_day_run_again_once(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(), tmp_path / "state.db"
    candidate = make_ruleset("candidate.yaml", act_now_min=60)
    for n, day in enumerate((DAY1, DAY1, DAY8)):
        run(rules, store, tmp_path / f"{n}.jsonl", day, "--shadow", str(candidate))
    report = invoke("shadow-report", "--state", store, "--format", "json")
    assert report.exit_code == 0, report.stderr
    assert '"decisions": 100,' in report.stdout and '"runs": 2,' in report.stdout


def test_a_full_disk_mid_run_is_a_clear_error_and_changes_nothing(
    tmp_path: Path, make_ruleset: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from upsell_rules.state import store as store_module

    pragmas = store_module._sqlite_pragmas

    def small_disk(dbapi_conn: Any, record: Any) -> None:
        pragmas(dbapi_conn, record)
        # SQLite's own "database or disk is full", as on a full volume.
        dbapi_conn.execute("PRAGMA max_page_count = 40")

    monkeypatch.setattr(store_module, "_sqlite_pragmas", small_disk)
    store, out = tmp_path / "state.db", tmp_path / "o.jsonl"
    result = invoke("run", make_ruleset(), "--data", SAMPLE, "--as-of", DAY1, "--sink",
                    f"file:{out}", "--state", store)
    assert result.exit_code == 2
    assert "cannot write: database or disk is full. Nothing is half-written" in result.stderr
    assert not out.exists()
    monkeypatch.setattr(store_module, "_sqlite_pragmas", pragmas)
    run(make_ruleset(), store, out, DAY1)
    assert len(read_jsonl(out)) == 50


def test_feedback_names_the_accounts_no_run_has_decided(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules = make_ruleset(memory="  feedback:\n    won: {close: true, cooldown_days: 180}\n")
    store = tmp_path / "state.db"
    run(rules, store, tmp_path / "d1.jsonl", DAY1)
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("account_id,outcome,date\nACC-1001,won,2026-11-05\n"
                        "ACC-10O2,won,2026-11-05\n")
    result = invoke("feedback", rules, outcomes, "--state", store)
    assert result.exit_code == 0, result.stderr
    assert "feedback: 2 imported" in result.stdout
    assert ("note: 1 imported account(s) no run has decided yet: ACC-10O2 (their outcome "
            "applies if they appear)") in result.stderr
