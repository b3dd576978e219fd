"""A store that cannot be written: the commands that change it say so (exit 2, no
traceback, what is left said), and one in a read-only folder is still read."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.state.conftest import SAMPLE, invoke
from tests.state.test_daily_runs import run

DAY1 = "2026-11-02"
FEEDBACK = "  feedback:\n    closed_lost: {snooze_days: 90}\n"


def test_snooze_unsnooze_and_feedback_on_a_store_that_refuses_writes(
    tmp_path: Path, make_ruleset: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from upsell_rules.state import store as store_module

    rules, store = make_ruleset(memory=FEEDBACK), tmp_path / "state.db"
    run(rules, store, tmp_path / "d1.jsonl", DAY1)
    assert invoke("snooze", "ACC-1042", "--until", "2026-12-01", "--reason", "later",
                  "--state", store).exit_code == 0
    pragmas = store_module._sqlite_pragmas

    def read_only(dbapi_conn: Any, record: Any) -> None:
        pragmas(dbapi_conn, record)
        dbapi_conn.execute("PRAGMA query_only = ON")  # SQLite refuses every write

    monkeypatch.setattr(store_module, "_sqlite_pragmas", read_only)
    before = store.read_bytes()
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("account_id,outcome,date\nACC-1001,closed_lost,2026-11-02\n")
    for command, left in (
        (("snooze", "ACC-1001", "--until", "2026-12-01", "--reason", "r"),
         "Nothing was written"),
        (("unsnooze", "ACC-1042"), "No snooze was ended"),
        (("feedback", rules, outcomes),
         f"The import stopped at {outcomes}:2: each row before it was imported whole"),
    ):
        refused = invoke(*command, "--state", store)
        assert refused.exit_code == 2, refused.stderr
        assert refused.stderr.startswith(f"upsell-rules: error: state store {store}: cannot "
                                         "write: attempt to write a readonly database. ")
        assert left in refused.stderr
        assert "Traceback" not in refused.stderr + refused.stdout
    assert store.read_bytes() == before


@pytest.fixture
def read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path/ro``, not writable (as root, who can write it anyway, ``os.access``
    says so, as it does on a read-only volume)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)


def _freeze(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        real = os.access

        def access(path: Any, mode: int, **kwargs: Any) -> bool:
            if mode & os.W_OK and Path(path).resolve() == folder.resolve():
                return False
            return real(path, mode, **kwargs)

        monkeypatch.setattr(os, "access", access)


def test_a_store_in_a_read_only_folder_is_read_and_never_written(
    read_only_folder: Path, tmp_path: Path, make_ruleset: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules, store = make_ruleset(), read_only_folder / "state.db"
    run(rules, store, tmp_path / "d1.jsonl", DAY1)
    (read_only_folder / "state.db.lock").unlink()
    before = sorted(p.name for p in read_only_folder.iterdir()), store.read_bytes()
    _freeze(read_only_folder, monkeypatch)
    shown = invoke("log", "ACC-1001", "--state", store)
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.startswith(f"{DAY1} run 1: act_now 100")
    assert invoke("replay", "1", "--state", store).exit_code == 0
    queue = invoke("dry-run", rules, "--data", SAMPLE, "--as-of", "2026-11-03", "--state",
                   store, "--format", "jsonl")
    assert queue.exit_code == 0 and '"state":"unchanged"' in queue.stdout
    out = tmp_path / "d2.jsonl"
    refused = invoke("run", rules, "--data", SAMPLE, "--as-of", "2026-11-03", "--state",
                     store, "--sink", f"file:{out}")
    assert refused.exit_code == 2
    assert (f"state store {store}: cannot write: its folder {read_only_folder} is read-only "
            "or not writable; it was not changed") in refused.stderr
    assert not out.exists()
    assert (sorted(p.name for p in read_only_folder.iterdir()), store.read_bytes()) == before
