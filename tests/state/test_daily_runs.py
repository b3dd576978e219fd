"""Runs with a state store, end to end through the CLI: transitions not repeats, snoozes,
feedback, cooldowns, owner capacity, the queue's statuses, the log and replay."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.state.conftest import SAMPLE, decisions_of, invoke, read_jsonl

DAY1, DAY2 = "2026-11-02", "2026-11-03"


def run(ruleset: Path, store: Path, out: Path, as_of: str, *extra: str) -> Any:
    result = invoke("run", ruleset, "--data", SAMPLE, "--as-of", as_of,
                    "--sink", f"file:{out}", "--state", store, *extra)
    assert result.exit_code == 0, result.output + result.stderr
    return result


def key(d: dict[str, Any]) -> tuple[Any, ...]:
    return d["band"], d["blocked"], d["action"]["play"]


def test_day_two_delivers_no_account_whose_band_blocked_and_play_are_unchanged(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules = make_ruleset()
    store = tmp_path / "state.db"
    run(rules, store, tmp_path / "day1.jsonl", DAY1)
    day1 = {d["account_id"]: d for d in read_jsonl(tmp_path / "day1.jsonl")}
    assert len(day1) == 50
    kinds = [d["transition"]["kind"] for d in day1.values()]
    assert kinds.count("entered_act_now") == 22 and kinds.count("new") == 28
    assert all(d["transition"]["from"] is None for d in day1.values())

    result = run(rules, store, tmp_path / "day2.jsonl", DAY2)
    day2 = read_jsonl(tmp_path / "day2.jsonl")
    decided2 = {d["account_id"]: d for d in decisions_of(rules, DAY2)}
    for delivered in day2:
        assert key(delivered) != key(day1[delivered["account_id"]])
    unchanged = [a for a, d in decided2.items() if key(d) == key(day1[a])]
    assert len(day2) == 50 - len(unchanged)
    assert "run 2" in result.output and "unchanged" in result.output


def test_a_change_is_delivered_as_its_transition_and_a_close_goes_where_the_open_went(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    store = tmp_path / "state.db"
    run(make_ruleset(), store, tmp_path / "d1.jsonl", DAY1)
    stricter = make_ruleset("stricter.yaml", act_now_min=90)
    before = {d["account_id"]: d for d in decisions_of(make_ruleset(), DAY2)}
    after = {d["account_id"]: d for d in decisions_of(stricter, DAY2)}
    left = sorted(a for a in after if before[a]["band"] == "act_now"
                  and after[a]["band"] != "act_now")
    assert left, "the stricter ruleset should move some accounts out of act-now"
    # A sink that only takes act-now decisions still gets the close of what it opened.
    result = invoke("run", stricter, "--data", SAMPLE, "--as-of", DAY2, "--sink",
                    f"file:{tmp_path / 'd2.jsonl'}", "--band", "act_now", "--state", store,
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    delivered = read_jsonl(tmp_path / "d2.jsonl")
    closes = sorted(d["account_id"] for d in delivered
                    if d["transition"]["kind"] == "left_act_now")
    assert closes == left
    for d in delivered:
        assert d["transition"]["from"]["band"] == "act_now"
        assert len(d["transition"]["key"]) == 32


def test_same_day_rerun_sends_nothing_and_deliver_all_sends_everything_once(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(), tmp_path / "state.db"
    run(rules, store, tmp_path / "a.jsonl", DAY1)
    run(rules, store, tmp_path / "b.jsonl", DAY1)
    assert read_jsonl(tmp_path / "b.jsonl") == []
    run(rules, store, tmp_path / "c.jsonl", DAY2, "--deliver", "all")
    everything = read_jsonl(tmp_path / "c.jsonl")
    assert len(everything) == 50
    assert {d["transition"]["kind"] for d in everything} == {"unchanged"}
    bad = invoke("run", rules, "--data", SAMPLE, "--as-of", DAY1, "--sink", "stdout",
                 "--deliver", "all", "--no-state")
    assert bad.exit_code == 2 and "--deliver needs a state store" in bad.stderr


def test_a_snoozed_account_is_never_delivered_before_its_date(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    store = tmp_path / "state.db"
    run(make_ruleset(), store, tmp_path / "d1.jsonl", DAY1)
    stricter = make_ruleset("stricter.yaml", act_now_min=90)
    after = {d["account_id"]: d for d in decisions_of(stricter, DAY2)}
    target = sorted(a for a, d in after.items() if d["band"] == "warming"
                    and d["score"] >= 70)[0]
    snoozed = invoke("snooze", target, "--until", "2026-11-10", "--reason", "CFO on leave",
                     "--state", store)
    assert snoozed.exit_code == 0, snoozed.stderr
    queue = invoke("dry-run", stricter, "--data", SAMPLE, "--as-of", DAY2, "--state", store)
    row = next(line for line in queue.stdout.splitlines() if target in line.split()[:2])
    assert "snoozed until 2026-11-10" in row
    for day in ("2026-11-03", "2026-11-06", "2026-11-09"):
        run(stricter, store, tmp_path / f"{day}.jsonl", day)
        assert target not in {d["account_id"] for d in read_jsonl(tmp_path / f"{day}.jsonl")}
    run(stricter, store, tmp_path / "d10.jsonl", "2026-11-10")
    [late] = [d for d in read_jsonl(tmp_path / "d10.jsonl") if d["account_id"] == target]
    assert late["transition"]["kind"] == "left_act_now"


def test_unsnooze_ends_the_snooze_and_says_when_there_was_none(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    store = tmp_path / "state.db"
    run(make_ruleset(), store, tmp_path / "d1.jsonl", DAY1)
    assert invoke("snooze", "ACC-1001", "--until", "2026-12-01", "--reason", "x",
                  "--state", store).exit_code == 0
    queue = invoke("dry-run", make_ruleset(), "--data", SAMPLE, "--as-of", DAY2, "--state", store)
    assert "snoozed until 2026-12-01" in queue.stdout
    done = invoke("unsnooze", "ACC-1001", "--state", store)
    assert done.exit_code == 0 and "1 snooze ended" in done.stdout
    again = invoke("unsnooze", "ACC-1001", "--state", store)
    assert again.exit_code == 1 and "has no snooze" in again.stderr
    queue = invoke("dry-run", make_ruleset(), "--data", SAMPLE, "--as-of", DAY2, "--state", store)
    assert "snoozed" not in queue.stdout


FEEDBACK = """\
  feedback:
    closed_lost: {snooze_days: 90}
    not_now: {snooze_days: 30}
    won: {close: true, cooldown_days: 180}
"""


def test_feedback_import_applies_the_rulesets_effects_once_and_reports_bad_rows(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(memory=FEEDBACK), tmp_path / "state.db"
    run(rules, store, tmp_path / "d1.jsonl", DAY1)
    csv = tmp_path / "outcomes.csv"
    csv.write_text("account_id,outcome,date\nACC-1001,Closed Lost,2026-11-02\n"
                   "ACC-1002,maybe later,2026-11-02\nACC-1042,won,2026-11-01\n"
                   "ACC-1006,not now,11/02/2026\nACC-1005,Not Now,2026-11-02\n")
    first = invoke("feedback", rules, csv, "--state", store)
    assert first.exit_code == 1
    assert f"{csv}:3: outcome: 'maybe later' has no effect in the ruleset" in first.stderr
    assert f"{csv}:5: date: '11/02/2026' is not a date" in first.stderr
    assert "3 imported, 0 already imported, 2 failed" in first.stdout
    second = invoke("feedback", rules, csv, "--state", store)
    assert "0 imported, 3 already imported" in second.stdout
    queue = invoke("dry-run", rules, "--data", SAMPLE, "--as-of", DAY2, "--state", store,
                   "--format", "json")
    status = {d["account_id"]: d["state"] for d in _json(queue.stdout)}
    assert status["ACC-1001"] == "snoozed until 2027-01-31"
    assert status["ACC-1005"] == "snoozed until 2026-12-02"
    assert status["ACC-1042"] == "cooling down until 2027-04-30"
    assert status["ACC-1002"] == "unchanged"


def _json(text: str) -> list[dict[str, Any]]:
    import json

    data: list[dict[str, Any]] = json.loads(text)
    return data


def test_cooldown_holds_a_reentry_unless_reenrolment_is_allowed(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    for reenrol, expect_held in (("false", True), ("true", False)):
        memory = f"  cooldowns:\n    - play: seat_expansion\n      days: 30\n      reenrol: {reenrol}\n"
        base = make_ruleset(f"base-{reenrol}.yaml", memory=memory)
        strict = make_ruleset(f"strict-{reenrol}.yaml", act_now_min=90, memory=memory)
        store = tmp_path / f"{reenrol}.db"
        run(base, store, tmp_path / "1.jsonl", DAY1)
        run(strict, store, tmp_path / "2.jsonl", DAY2)
        left = {d["account_id"] for d in read_jsonl(tmp_path / "2.jsonl")
                if d["transition"]["kind"] == "left_act_now"
                and d["transition"]["from"]["play"] == "seat_expansion"}
        assert left
        result = run(base, store, tmp_path / "3.jsonl", "2026-11-04")
        back = {d["account_id"] for d in read_jsonl(tmp_path / "3.jsonl")
                if d["transition"]["kind"] == "entered_act_now"}
        if expect_held:
            assert not back & left
            assert "cooling down" in result.output
            queue = invoke("dry-run", base, "--data", SAMPLE, "--as-of", "2026-11-04",
                           "--state", store)
            rows = [line for line in queue.stdout.splitlines() if set(line.split()[:2]) & left]
            assert rows and all("cooling down until 2026-12-02" in r for r in rows)
        else:
            assert left <= back


def test_owner_capacity_queues_the_rest_in_score_order_and_delivers_when_it_frees(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules = make_ruleset(memory="  capacity:\n    per_owner_per_week: 1\n")
    store = tmp_path / "state.db"
    decided = decisions_of(rules, DAY1)
    ready = [d for d in decided if d["band"] == "act_now" and not d["blocked"]]
    by_owner: dict[str, list[dict[str, Any]]] = {}
    for d in sorted(ready, key=lambda d: (-d["score"], d["account_id"])):
        by_owner.setdefault(d["owner"], []).append(d)
    assert any(len(v) > 1 for v in by_owner.values())
    run(rules, store, tmp_path / "w1.jsonl", DAY1)
    sent = {d["account_id"] for d in read_jsonl(tmp_path / "w1.jsonl")
            if d["transition"]["kind"] == "entered_act_now" and not d["blocked"]}
    assert sent == {v[0]["account_id"] for v in by_owner.values()}
    queue = invoke("dry-run", rules, "--data", SAMPLE, "--as-of", DAY2, "--state", store,
                   "--format", "json")
    status = {d["account_id"]: d["state"] for d in _json(queue.stdout)}
    for owned in by_owner.values():
        assert all(status[d["account_id"]] == "over capacity" for d in owned[1:])
    run(rules, store, tmp_path / "same-week.jsonl", "2026-11-06")
    assert not [d for d in read_jsonl(tmp_path / "same-week.jsonl") if not d["blocked"]
                and d["band"] == "act_now"]
    run(rules, store, tmp_path / "w2.jsonl", "2026-11-09")
    second = {d["account_id"] for d in read_jsonl(tmp_path / "w2.jsonl")
              if d["transition"]["kind"] == "entered_act_now" and not d["blocked"]}
    assert second == {v[1]["account_id"] for v in by_owner.values() if len(v) > 1}


def test_dry_run_reads_the_store_and_never_writes_it(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(), tmp_path / "state.db"
    missing = invoke("dry-run", rules, "--data", SAMPLE, "--as-of", DAY1, "--state", store)
    assert missing.exit_code == 0 and "ready, new" in missing.stdout
    assert not store.exists()
    run(rules, store, tmp_path / "d1.jsonl", DAY1)
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    queue = invoke("dry-run", rules, "--data", SAMPLE, "--as-of", DAY2, "--state", store)
    assert queue.exit_code == 0 and "ready, unchanged" in queue.stdout
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before


def test_replay_is_byte_identical_to_the_decisions_of_the_run(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(), tmp_path / "state.db"
    run(rules, store, tmp_path / "d1.jsonl", DAY1)
    run(rules, store, tmp_path / "d2.jsonl", DAY2)
    rules.write_text(rules.read_text().replace("Act now", "Act right now"))
    for run_id, day in (("1", DAY1), ("2", DAY2)):
        replayed = invoke("replay", run_id, "--state", store, "-o", tmp_path / f"r{run_id}.jsonl")
        assert replayed.exit_code == 0, replayed.stderr
        reference = invoke("dry-run", make_ruleset("fresh.yaml"), "--data", SAMPLE,
                           "--as-of", day, "--format", "jsonl")
        assert (tmp_path / f"r{run_id}.jsonl").read_text() == reference.stdout
    missing = invoke("replay", "9", "--state", store)
    assert missing.exit_code == 2 and "no run 9 (runs 1 to 2)" in missing.stderr


def test_log_shows_an_accounts_history_and_what_changed(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    store = tmp_path / "state.db"
    run(make_ruleset(), store, tmp_path / "d1.jsonl", DAY1)
    run(make_ruleset("strict.yaml", act_now_min=90), store, tmp_path / "d2.jsonl", DAY2)
    [moved] = [d for d in read_jsonl(tmp_path / "d2.jsonl")][:1]
    account = moved["account_id"]
    shown = invoke("log", account, "--state", store)
    assert shown.exit_code == 0
    lines = shown.stdout.splitlines()
    assert lines[0].startswith(f"{DAY1} run 1: act_now ")
    assert "delivered as entered_act_now" in lines[0]
    assert lines[1].startswith(f"{DAY2} run 2: {moved['band']} ")
    assert f"{account}: act_now " in lines[2] and f"on {DAY1} -> {moved['band']} " in lines[2]
    nothing = invoke("log", "ACC-NOPE", "--state", store)
    assert nothing.exit_code == 1 and "no logged decision for ACC-NOPE" in nothing.stderr


def test_shadow_ruleset_is_logged_never_delivered_and_compared(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(memory=FEEDBACK), tmp_path / "state.db"
    candidate = make_ruleset("candidate.yaml", act_now_min=90)
    for day in (DAY1, DAY2):
        result = invoke("run", rules, "--data", SAMPLE, "--as-of", day, "--sink",
                        f"file:{tmp_path / day}.jsonl", "--state", store, "--shadow", candidate)
        assert result.exit_code == 0, result.stderr
        assert "shadow run" in result.output
    # Production delivered as if there were no shadow.
    assert len(read_jsonl(tmp_path / f"{DAY1}.jsonl")) == 50
    assert read_jsonl(tmp_path / f"{DAY2}.jsonl") == []
    prod = {d["account_id"]: d for d in decisions_of(rules, DAY1)}
    cand = {d["account_id"]: d for d in decisions_of(candidate, DAY1)}
    same = sum(key(prod[a]) == key(cand[a]) for a in prod)
    later = sorted(a for a in prod if prod[a]["band"] == "act_now" and not prod[a]["blocked"]
                   and cand[a]["band"] != "act_now")
    csv = tmp_path / "outcomes.csv"
    csv.write_text(f"account_id,outcome,date\n{later[0]},won,2026-11-05\n")
    assert invoke("feedback", rules, csv, "--state", store).exit_code == 0
    report = invoke("shadow-report", "--state", store, "--format", "json")
    assert report.exit_code == 0, report.stderr
    [data] = _json(report.stdout)
    assert data["runs"] == 2 and data["decisions"] == 100 and data["agreed"] == 2 * same
    assert sorted(data["candidate_later"]) == later
    assert data["candidate_earlier"] == {}
    assert data["outcomes"]["won_flagged"] == {"production": 1, "candidate": 0}
    assert data["outcomes"]["better"] == "production"
    text = invoke("shadow-report", "--state", store)
    assert f"agreement: {2 * same} of 100 account-days" in text.stdout
    assert text.stdout.rstrip().endswith(": production did better")
    # A loss only production flagged evens it out: said as a tie, not "tie did better".
    csv.write_text(f"account_id,outcome,date\n{later[1]},closed_lost,2026-11-05\n")
    assert invoke("feedback", rules, csv, "--state", store).exit_code == 0
    tied = invoke("shadow-report", "--state", store)
    assert tied.stdout.rstrip().endswith(
        "of 1 lost or not now, production flagged 1, the candidate 0: neither did better "
        "(a tie)")
    # Replay of the shadow run reproduces the candidate's decisions.
    replayed = invoke("replay", "2", "--state", store)
    assert replayed.exit_code == 0
    assert replayed.stdout == invoke("dry-run", candidate, "--data", SAMPLE, "--as-of", DAY1,
                                     "--format", "jsonl").stdout


def test_explain_shows_the_cooldown_from_the_store(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    memory = "  cooldowns:\n    - band: act_now\n      days: 30\n      reenrol: false\n"
    base = make_ruleset("base.yaml", memory=memory)
    strict = make_ruleset("strict.yaml", act_now_min=90, memory=memory)
    store = tmp_path / "state.db"
    run(base, store, tmp_path / "1.jsonl", DAY1)
    run(strict, store, tmp_path / "2.jsonl", DAY2)
    left = sorted(d["account_id"] for d in read_jsonl(tmp_path / "2.jsonl")
                  if d["transition"]["kind"] == "left_act_now")
    shown = invoke("explain", base, "--data", SAMPLE, "--account", left[0], "--as-of",
                   "2026-11-04", "--state", store)
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.rstrip().endswith("state: cooling down until 2026-12-02")
    plain = invoke("explain", base, "--data", SAMPLE, "--account", left[0], "--as-of",
                   "2026-11-04", "--no-state")
    assert "state:" not in plain.stdout


def test_log_names_the_sinks_a_transition_still_waits_for(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store, good = make_ruleset(), tmp_path / "state.db", tmp_path / "good.jsonl"
    stuck = tmp_path / "stuck"
    stuck.mkdir()  # a file sink that cannot write: every item waits in the outbox
    first = invoke("run", rules, "--data", SAMPLE, "--as-of", DAY1, "--state", store,
                   "--sink", f"file:{good}", "--sink", f"file:{stuck}")
    assert first.exit_code == 1
    shown = invoke("log", "ACC-1001", "--state", store)
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == (
        f"{DAY1} run 1: act_now 100, play seat_expansion, owner Priya Raman: new, delivered "
        f"as entered_act_now; pending for file:{stuck} after 1 attempt(s) (cannot write "
        f"{stuck}: Is a directory)")
    entry = json.loads(invoke("log", "ACC-1001", "--state", store, "--format",
                              "json").stdout)[0]
    assert [(d["sink"], d["status"]) for d in entry["deliveries"]] == [
        (f"file:{good}", "delivered"), (f"file:{stuck}", "pending")]
    stuck.rmdir()
    later = invoke("run", rules, "--data", SAMPLE, "--as-of", DAY2, "--state", store,
                   "--sink", f"file:{stuck}")
    assert later.exit_code == 0, later.stderr
    assert len(read_jsonl(stuck)) == 50
    assert invoke("log", "ACC-1001", "--state", store).stdout.splitlines()[0] == (
        f"{DAY1} run 1: act_now 100, play seat_expansion, owner Priya Raman: new, delivered "
        "as entered_act_now")
