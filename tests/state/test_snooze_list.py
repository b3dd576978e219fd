"""``snoozes`` lists what holds accounts back, ``unsnooze --id`` ends one snooze, and
nothing a user typed (an account id, a reason) reaches the terminal unescaped."""

from __future__ import annotations

import json
from pathlib import Path

from tests.state.conftest import RULESET, SAMPLE, invoke

DAY1 = "2026-11-02"


def _store(tmp_path: Path) -> Path:
    store = tmp_path / "state.db"
    done = invoke("run", RULESET, "--data", SAMPLE, "--as-of", DAY1, "--state", store,
                  "--sink", f"file:{tmp_path / 'd1.jsonl'}")
    assert done.exit_code == 0, done.stderr
    return store


def _snooze(store: Path, account: str, until: str, reason: str, *more: str) -> None:
    done = invoke("snooze", account, "--until", until, "--reason", reason, "--state", store,
                  *more)
    assert done.exit_code == 0, done.stderr


def test_snoozes_lists_the_active_ones_numbered_and_unsnooze_id_ends_one(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    _snooze(store, "ACC-1001", "2026-12-01", "CFO on leave")
    _snooze(store, "ACC-1001", "2026-11-20", "budget freeze", "--play", "seat_expansion")
    _snooze(store, "ACC-1002", "2026-11-05", "short one")
    listed = invoke("snoozes", "--state", store)
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == [
        "1: ACC-1001 until 2026-12-01, every play: CFO on leave "
        f"(by snooze command on {_created(store, 1)})",
        "2: ACC-1001 until 2026-11-20, play seat_expansion: budget freeze "
        f"(by snooze command on {_created(store, 2)})",
        "3: ACC-1002 until 2026-11-05, every play: short one "
        f"(by snooze command on {_created(store, 3)})",
    ]
    # On 2026-11-05 the third one no longer holds: it is not listed, unless --all.
    later = invoke("snoozes", "--as-of", "2026-11-05", "--state", store)
    assert [line.split(":")[0] for line in later.stdout.splitlines()] == ["1", "2"]
    every = invoke("snoozes", "--all", "--as-of", "2026-11-05", "--state", store)
    assert every.stdout.splitlines()[2].endswith("[expired]")
    # Ending the whole-account snooze keeps the one on a play (unsnooze ACCOUNT cannot).
    ended = invoke("unsnooze", "--id", "1", "--state", store)
    assert ended.exit_code == 0
    assert ended.stdout == "unsnoozed ACC-1001 (snooze 1, until 2026-12-01: CFO on leave)\n"
    queue = invoke("dry-run", RULESET, "--data", SAMPLE, "--as-of", "2026-11-03",
                   "--state", store, "--format", "json")
    states = {d["account_id"]: d.get("state") for d in json.loads(queue.stdout)}
    assert states["ACC-1001"] == "snoozed until 2026-11-20"
    as_json = json.loads(invoke("snoozes", "ACC-1001", "--all", "--format", "json",
                                "--state", store).stdout)
    assert [(s["id"], s["play"], s["status"]) for s in as_json] == [
        (1, None, "ended"), (2, "seat_expansion", "active")]


def test_snooze_on_records_the_day_it_was_made(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _snooze(store, "ACC-1001", "2026-12-01", "CFO on leave", "--on", "2026-11-03")
    assert _created(store, 1) == "2026-11-03"
    listed = invoke("snoozes", "--state", store)
    assert listed.stdout == ("1: ACC-1001 until 2026-12-01, every play: CFO on leave "
                             "(by snooze command on 2026-11-03)\n")
    bad = invoke("snooze", "ACC-1002", "--until", "2026-12-01", "--reason", "x",
                 "--on", "2026-13-01", "--state", store)
    assert bad.exit_code == 2
    assert "--on" in bad.stderr
    assert len(json.loads(invoke("snoozes", "--all", "--format", "json",
                                 "--state", store).stdout)) == 1


def _created(store: Path, number: int) -> str:
    every = json.loads(invoke("snoozes", "--all", "--format", "json", "--state", store).stdout)
    return str(next(s["created_on"] for s in every if s["id"] == number))


def test_unsnooze_id_refuses_what_it_cannot_end(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _snooze(store, "ACC-1001", "2026-12-01", "x")
    wrong_account = invoke("unsnooze", "ACC-1002", "--id", "1", "--state", store)
    assert wrong_account.exit_code == 1
    assert "no snooze 1 of ACC-1002" in wrong_account.stderr
    assert invoke("unsnooze", "--id", "1", "--state", store).exit_code == 0
    twice = invoke("unsnooze", "--id", "1", "--state", store)
    assert twice.exit_code == 1 and "already ended" in twice.stderr
    nothing = invoke("unsnooze", "--state", store)
    assert nothing.exit_code == 2 and "--id N" in nothing.stderr
    both = invoke("unsnooze", "ACC-1001", "--id", "1", "--play", "p", "--state", store)
    assert both.exit_code == 2
    empty = invoke("snoozes", "--state", store)
    assert empty.exit_code == 0 and empty.stdout == ""
    assert "no active snooze on 2026-11-02" in empty.stderr


def test_snooze_messages_escape_what_the_user_typed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    reason = "CFO\x1b[2J on leave\nsecond line"
    done = invoke("snooze", "ACC-1001", "--until", "2026-12-01", "--reason", reason,
                  "--state", store)
    assert done.exit_code == 0
    assert done.stdout == "snoozed ACC-1001 until 2026-12-01: CFO\\x1b[2J on leave\\nsecond line\n"
    for shown in (invoke("snoozes", "--state", store).stdout,
                  invoke("log", "ACC-1001", "--state", store).stdout,
                  invoke("unsnooze", "--id", "1", "--state", store).stdout):
        assert "\x1b" not in shown and "\\x1b[2J on leave\\nsecond line" in shown
    typo = invoke("snooze", "ACC-1001\x1b]52;c;aGk=\x07", "--until", "2026-12-01",
                  "--reason", "x", "--state", store)
    assert typo.exit_code == 2 and "\x1b" not in typo.stderr and "\x07" not in typo.stderr
    assert "'ACC-1001\\x1b]52;c;aGk=\\x07' is not in the decision log" in typo.stderr
    for command in (("unsnooze", "ACC\x1b[31m"), ("log", "ACC\x1b[31m"),
                    ("snoozes", "ACC\x1b[31m")):
        shown = invoke(*command, "--state", store)
        assert "\x1b" not in shown.stderr and "ACC\\x1b[31m" in shown.stderr
    blank = invoke("snooze", "ACC-1001", "--until", "2026-12-01", "--reason", " ",
                   "--state", store)
    assert blank.exit_code == 2 and "--reason is empty" in blank.stderr
