"""Watch mode, driven by an injected clock (no sleeps), and stopped by a real SIGTERM."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.state.conftest import ROOT, SAMPLE, invoke, read_jsonl
from upsell_rules.cli.watch import build_watcher, watch_loop
from upsell_rules.plugin.build import reset_default_registry
from upsell_rules.state.watch import parse_interval


@pytest.fixture(autouse=True)
def _utc_calendar(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """watch dates its looks by the local calendar: the fake clocks below are in UTC, so
    the machine's own time zone must not move them to another day."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class FakeClock:
    """Time moves only when the loop sleeps; each sleep runs the next scripted step."""

    def __init__(self, start: dt.datetime, steps: list[Callable[[], None]]) -> None:
        self.current = start
        self.steps = list(steps)
        self.slept: list[float] = []

    def now(self) -> dt.datetime:
        return self.current

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        self.slept.append(seconds)
        self.current += dt.timedelta(seconds=seconds)
        if self.steps:
            self.steps.pop(0)()
        else:
            stop.set()


def _set_field(path: Path, account: str, field: str, value: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    column = rows[0].index(field)
    for row in rows:
        if row[0] == account:
            row[column] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_watch_redecides_only_changed_accounts_and_delivers_their_transitions(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    data = tmp_path / "accounts.csv"
    data.write_text(SAMPLE.read_text())
    out, store = tmp_path / "out.jsonl", str(tmp_path / "state.db")
    seen: list[list[dict[str, object]]] = []
    steps = [
        lambda: seen.append(read_jsonl(out)),                 # after the first look
        lambda: None,                                         # nothing changes
        lambda: _set_field(data, "ACC-1001", "health_score", "20"),
        lambda: seen.append(read_jsonl(out)),
    ]
    clock = FakeClock(dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC), steps)
    reset_default_registry()
    watcher = build_watcher(str(make_ruleset()), [str(data)], None, "", [f"file:{out}"], store)
    loop = watch_loop(watcher, parse_interval("15m"), clock)
    assert clock.slept == [900.0] * 5
    assert loop.ticks == 2
    assert len(seen[0]) == 50
    [blocked] = seen[1]
    assert blocked["account_id"] == "ACC-1001" and blocked["blocked"] is True
    assert blocked["transition"]["kind"] == "left_act_now"
    assert blocked["transition"]["from"]["band"] == "act_now"

    # A restart on the same store re-decides everything once (a new day for it) and
    # delivers nothing that was already delivered.
    reset_default_registry()
    again = build_watcher(str(make_ruleset()), [str(data)], None, "", [f"file:{out}"], store)
    later = FakeClock(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), [])
    assert watch_loop(again, 900.0, later).ticks == 1
    assert read_jsonl(out) == []


def test_watch_folder_picks_up_new_and_appended_exports(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    lines = (ROOT / "samples" / "events.jsonl").read_text().splitlines(keepends=True)
    half = len(lines) // 2
    (folder / "001.jsonl").write_text("".join(lines[:half]))
    out, store = tmp_path / "out.jsonl", str(tmp_path / "state.db")
    looks: list[int] = []
    steps = [
        lambda: looks.append(len(read_jsonl(out))),
        lambda: (folder / "002.jsonl").write_text("".join(lines[half:])),
        lambda: looks.append(len(read_jsonl(out))),
    ]
    clock = FakeClock(dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC), steps)
    reset_default_registry()
    watcher = build_watcher(str(ROOT / "rulesets" / "upsell_timing.yaml"),
                            [str(ROOT / "samples" / "crm_accounts.csv")], str(folder), "events",
                            [f"file:{out}"], store)
    loop = watch_loop(watcher, 60.0, clock, as_of=dt.date(2026, 11, 2))
    assert loop.ticks == 2
    assert looks[0] > 0
    # The second half of the events changed some accounts' inputs, and only those
    # transitions went out.
    assert 0 < looks[1] < looks[0] + 10


def test_interval_syntax() -> None:
    assert parse_interval("15m") == 900 and parse_interval("1h") == 3600
    for bad in ("15", "0m", "1w", "m"):
        with pytest.raises(ValueError):
            parse_interval(bad)


def test_sigterm_stops_a_real_watch_process_cleanly(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    err = tmp_path / "err.txt"
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "upsell_rules", "watch", str(make_ruleset()), "--data",
             str(SAMPLE), "--every", "1h", "--as-of", "2026-11-02", "--sink",
             f"file:{tmp_path / 'out.jsonl'}", "--state", str(tmp_path / "state.db")],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr, text=True,
        )
        deadline = time.monotonic() + 120
        while "re-decided" not in err.read_text():
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    text = err.read_text()
    assert "50 re-decided, 50 delivered" in text
    assert "watch stopped after 1 look(s) with changes" in text
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 50


def test_watch_retries_waiting_deliveries_at_quiet_looks(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    blocker = tmp_path / "out"          # a folder where the file sink wants a file
    blocker.mkdir()
    store = str(tmp_path / "state.db")
    steps = [lambda: blocker.rmdir(), lambda: None]
    clock = FakeClock(dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC), steps)
    reset_default_registry()
    watcher = build_watcher(str(make_ruleset()), [str(SAMPLE)], None, "",
                            [f"file:{blocker}"], store)
    loop = watch_loop(watcher, 60.0, clock)
    assert loop.ticks == 1
    # The first look failed to write; the next, quiet, look delivered all 50.
    assert len(read_jsonl(blocker)) == 50


def test_watch_reads_the_data_as_run_does_ranges_included(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    # health_score is declared max: 100; run and dry-run leave 150 out with a located
    # warning, and watch must decide the same account the same way.
    data = tmp_path / "accounts.csv"
    data.write_text(SAMPLE.read_text())
    _set_field(data, "ACC-1001", "health_score", "150")
    out, store = tmp_path / "out.jsonl", str(tmp_path / "state.db")
    ruleset = make_ruleset()
    reset_default_registry()
    watcher = build_watcher(str(ruleset), [str(data)], None, "", [f"file:{out}"], store)
    clock = FakeClock(dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC), [])
    assert watch_loop(watcher, 900.0, clock).ticks == 1
    [watched] = [d for d in read_jsonl(out) if d["account_id"] == "ACC-1001"]
    result = invoke("dry-run", ruleset, "--data", data, "--as-of", "2026-11-02",
                    "--format", "jsonl")
    [expected] = [d for d in map(json.loads, result.stdout.splitlines())
                  if d["account_id"] == "ACC-1001"]
    assert [w["field"] for w in watched["data_warnings"]] == ["health_score"]
    assert watched["data_warnings"] == expected["data_warnings"]
    assert (watched["score"], watched["band"]) == (expected["score"], expected["band"])


def test_watch_takes_up_an_edited_ruleset_and_keeps_the_last_good_one_when_broken(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    data = tmp_path / "accounts.csv"
    data.write_text(SAMPLE.read_text())
    rules = make_ruleset()
    good = rules.read_text()
    stricter = make_ruleset("stricter.yaml", act_now_min=90).read_text()
    out, store = tmp_path / "out.jsonl", str(tmp_path / "state.db")
    seen: list[list[dict[str, object]]] = []

    def write(path: Path, text: str) -> None:
        path.write_text(text)
        os.utime(path, ns=(0, path.stat().st_mtime_ns + 1_000_000_000))

    steps = [
        lambda: write(rules, good + "\nbands: [\n"),           # a broken edit
        lambda: _set_field(data, "ACC-1001", "health_score", "20"),
        lambda: seen.append(read_jsonl(out)),
        lambda: write(data, "no,header\n"),                    # a broken export
        lambda: write(data, SAMPLE.read_text()),
        lambda: seen.append(read_jsonl(out)),
        lambda: write(rules, stricter),                        # a good edit
        lambda: seen.append(read_jsonl(out)),
    ]
    clock = FakeClock(dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC), steps)
    reset_default_registry()
    watcher = build_watcher(str(rules), [str(data)], None, "", [f"file:{out}"], store)
    watch_loop(watcher, 60.0, clock, as_of=dt.date(2026, 11, 2))
    # The broken ruleset did not stop the watch: the data change went out, decided by
    # the last good ruleset.
    [blocked] = seen[0]
    assert blocked["account_id"] == "ACC-1001" and blocked["transition"]["kind"] == "left_act_now"
    # The broken export was reported and skipped; the repaired one brought ACC-1001 back.
    assert [d["account_id"] for d in seen[1]] == ["ACC-1001"]
    # The repaired, stricter ruleset re-decided every account: the ones below 90 left.
    assert seen[2] and all(d["transition"]["kind"] == "left_act_now" for d in seen[2])
    assert {d["ruleset"]["sha256"] for d in seen[2]} != {d["ruleset"]["sha256"] for d in seen[1]}


def test_watch_dates_its_looks_by_the_local_calendar_as_run_does(
    tmp_path: Path, make_ruleset: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 22:00 UTC on 2 November is 09:00 on 3 November in Sydney. run without --as-of
    # takes the local date (3 November); a watch dating its looks in UTC would be a
    # day behind that run on the same store, and be refused as going back in time.
    monkeypatch.setenv("TZ", "Australia/Sydney")
    time.tzset()
    try:
        data = tmp_path / "accounts.csv"
        data.write_text(SAMPLE.read_text())
        store = tmp_path / "state.db"
        ran = invoke("run", make_ruleset(), "--data", data, "--as-of", "2026-11-03",
                     "--state", store, "--sink", f"file:{tmp_path / 'run.jsonl'}")
        assert ran.exit_code == 0, ran.stderr
        reset_default_registry()
        watcher = build_watcher(str(make_ruleset()), [str(data)], None, "",
                                [f"file:{tmp_path / 'watch.jsonl'}"], str(store))
        clock = FakeClock(dt.datetime(2026, 11, 2, 22, 0, tzinfo=dt.UTC), [])
        assert watch_loop(watcher, 900.0, clock).ticks == 1
        assert read_jsonl(tmp_path / "watch.jsonl") == []
        logged = invoke("log", "ACC-1001", "--state", store)
        assert [line.split(" run ")[0] for line in logged.stdout.splitlines()[:2]] == [
            "2026-11-03", "2026-11-03"]
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
