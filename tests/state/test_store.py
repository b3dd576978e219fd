"""The store itself: schema versions, the run lock, PostgreSQL, the codec, the ruleset's
memory: section."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from tests.state.conftest import ROOT, SAMPLE, invoke, read_jsonl
from upsell_rules.state import codec, schema
from upsell_rules.state.store import StateError, StateStore, store_url


def test_a_store_with_a_newer_schema_is_refused_clearly(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    path = tmp_path / "state.db"
    StateStore.open(str(path)).close()
    engine = create_engine(store_url(str(path)))
    with engine.begin() as conn:
        conn.execute(text("UPDATE upsell_meta SET value = '99' WHERE key = 'schema_version'"))
    engine.dispose()
    result = invoke("run", make_ruleset(), "--data", SAMPLE, "--as-of", "2026-11-02",
                    "--sink", f"file:{tmp_path / 'o.jsonl'}", "--state", path)
    assert result.exit_code == 2
    assert "has schema version 99, newer than this upsell-rules understands (1)" in result.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_an_empty_database_is_migrated_and_reopening_keeps_it(tmp_path: Path) -> None:
    path = str(tmp_path / "sub" / "state.db")
    store = StateStore.open(path)
    store.add_hold("ACC-1", "snooze", "2026-12-01", "r", "test", "2026-11-01")
    store.close()
    again = StateStore.open(path, create=False)
    assert [h.until for h in again.holds_of("ACC-1")] == ["2026-12-01"]
    again.close()
    with pytest.raises(StateError, match="no such file"):
        StateStore.open(str(tmp_path / "absent.db"), create=False)


def test_a_second_run_on_a_locked_store_refuses_and_delivers_nothing(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    path = tmp_path / "state.db"
    store = StateStore.open(str(path))
    out = tmp_path / "o.jsonl"
    with store.lock():
        proc = subprocess.run(
            [sys.executable, "-m", "upsell_rules", "run", str(make_ruleset()), "--data",
             str(SAMPLE), "--as-of", "2026-11-02", "--sink", f"file:{out}", "--state", str(path)],
            capture_output=True, text=True, cwd=ROOT, timeout=120,
        )
    store.close()
    assert proc.returncode == 2
    assert "is in use by another run (pid" in proc.stderr
    assert not out.exists()


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL server."""
    name = f"state_{uuid.uuid4().hex[:12]}"
    admin = create_engine(store_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def test_day_one_and_day_two_on_postgresql(
    pg_store: str, tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules = make_ruleset()
    for day in ("2026-11-02", "2026-11-03"):
        result = invoke("run", rules, "--data", SAMPLE, "--as-of", day, "--sink",
                        f"file:{tmp_path / day}.jsonl", "--state", pg_store)
        assert result.exit_code == 0, result.stderr
    assert len(read_jsonl(tmp_path / "2026-11-02.jsonl")) == 50
    assert read_jsonl(tmp_path / "2026-11-03.jsonl") == []
    replay = invoke("replay", "1", "--state", pg_store)
    assert replay.exit_code == 0, replay.stderr
    assert "all identical to the log" in replay.stderr
    store = StateStore.open(pg_store)
    with store.lock(), pytest.raises(StateError, match="in use by another run"):
        other = StateStore.open(pg_store)
        try:
            with other.lock():
                pass
        finally:
            other.close()
    store.close()


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False) | st.dates(),
    lambda inner: st.lists(inner, max_size=4), max_leaves=8,
)


@given(st.dictionaries(st.text(min_size=1, max_size=8), _values, max_size=6))
def test_stored_inputs_decode_to_equal_values(values: dict[str, object]) -> None:
    digest, blob = codec.encode_account("A", "n", "o", values)
    back = codec.decode_account(blob)
    assert back["values"] == values
    assert all(type(back["values"][k]) is type(v) or isinstance(v, tuple)
               for k, v in values.items())
    assert codec.encode_account("A", "n", "o", back["values"])[0] == digest


def test_memory_section_names_real_plays_and_bands(make_ruleset: Callable[..., Path]) -> None:
    bad = make_ruleset(memory="  cooldowns:\n    - play: seat_expanson\n      days: 30\n"
                       "    - band: act_later\n      days: 5\n")
    result = invoke("validate", bad)
    assert result.exit_code != 0
    assert "memory.cooldowns[0].play: unknown play 'seat_expanson'" in result.output + \
        result.stderr
    assert "did you mean 'seat_expansion'" in result.output + result.stderr
    assert "memory.cooldowns[1].band: unknown band 'act_later'" in result.output + result.stderr
    good = make_ruleset("good.yaml", memory="  cooldowns:\n    - band: act_now\n      days: 30\n"
                        "      per_quarter: 2\n  capacity:\n    per_owner_per_week: 3\n")
    assert invoke("validate", good).exit_code == 0


def test_quarter_cap_holds_until_the_next_quarter() -> None:
    from upsell_rules.ruleset.memory import Cooldown, MemoryPolicy
    from upsell_rules.state.transitions import Outreach, cooling_until

    policy = MemoryPolicy(cooldowns=(Cooldown("seat_expansion", None, 0, per_quarter=2),))
    history = [Outreach("2026-10-05", "seat_expansion", "o", "act_now"),
               Outreach("2026-11-01", "seat_expansion", "o", "act_now")]
    assert cooling_until(policy, None, history, "seat_expansion", "act_now",
                         date(2026, 11, 20)) == "2027-01-01"
    assert cooling_until(policy, None, history[:1], "seat_expansion", "act_now",
                         date(2026, 11, 20)) is None
    assert cooling_until(policy, None, history, "plan_upgrade_feature", "act_now",
                         date(2026, 11, 20)) is None


def test_keep_inputs_days_prunes_old_inputs_and_replay_says_they_are_gone(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(), tmp_path / "state.db"
    small = tmp_path / "two.csv"
    lines = SAMPLE.read_text().splitlines()
    small.write_text("\n".join(lines[:3]) + "\n")
    for day, data in (("2026-11-02", SAMPLE), ("2026-12-20", small)):
        result = invoke("run", rules, "--data", data, "--as-of", day, "--sink",
                        f"file:{tmp_path / 'o.jsonl'}", "--state", store,
                        "--keep-inputs-days", "30", "--format", "json")
        assert result.exit_code == 0, result.stderr
    import json

    assert json.loads(result.stdout)["state"]["inputs_pruned"] == 48
    assert invoke("replay", "2", "--state", store).exit_code == 0
    gone = invoke("replay", "1", "--state", store)
    assert gone.exit_code == 2
    assert "the inputs of 48 account(s) (first ACC-1003) are no longer in the store" in gone.stderr


def test_lock_wait_waits_for_the_holder_instead_of_refusing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import upsell_rules.state.store as store_module

    path = str(tmp_path / "state.db")
    holder, waiter = StateStore.open(path), StateStore.open(path)
    held, release, released = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with holder.lock():
            held.set()
            release.wait(30)
        released.set()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(30)
    with pytest.raises(StateError, match="in use by another run"), waiter.lock():
        pass
    polls: list[float] = []

    def first_poll_frees_the_lock(seconds: float) -> None:
        polls.append(seconds)
        release.set()
        released.wait(30)

    monkeypatch.setattr(store_module.time, "sleep", first_poll_frees_the_lock)
    with waiter.lock(wait=60):
        assert polls == [0.05]
    thread.join()
    holder.close()
    waiter.close()


_OPEN_AT = """
import sys, time
from upsell_rules.state.store import StateError, StateStore
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
try:
    StateStore.open(sys.argv[1]).close()
except StateError as exc:
    sys.exit(str(exc))
"""


def _open_together(spec: str, processes: int = 3) -> list[subprocess.CompletedProcess[str]]:
    """Open one store from several processes released at the same instant."""
    start = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN_AT, spec, str(start)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), "",
                                        p.stderr.read() if p.stderr else "") for p in procs]


def test_commands_creating_one_store_at_once_all_open_it(
    tmp_path: Path, pg_store: str
) -> None:
    # Each would create the tables; the second used to fail on the first one's
    # ("table upsell_meta already exists").
    for round_ in range(3):
        for spec in (str(tmp_path / f"state{round_}.db"), pg_store):
            if spec == pg_store and round_:
                continue  # one fresh database per test
            for done in _open_together(spec):
                assert done.returncode == 0, done.stderr


def test_creating_a_store_waits_for_the_run_lock(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as another command creating (migrating) it
    try:
        opener = subprocess.Popen([sys.executable, "-c", _OPEN_AT, str(path), "0"], cwd=ROOT,
                                  stderr=subprocess.PIPE, text=True)
        with pytest.raises(subprocess.TimeoutExpired):
            opener.wait(timeout=3)
        engine = create_engine(store_url(str(path)))
        with engine.begin() as conn:
            for migrate in schema.MIGRATIONS:
                migrate(conn)
            schema.set_version(conn, schema.SCHEMA_VERSION)
        engine.dispose()
    finally:
        os.close(fd)
    assert opener.wait(timeout=60) == 0, opener.stderr.read() if opener.stderr else ""
