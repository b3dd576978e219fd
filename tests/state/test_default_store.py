"""The state store is run's default: .upsell-rules/state.db in the working folder;
--no-state runs without memory; dry-run and explain read the default store only when it
exists and never create it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import SAMPLE, invoke, read_jsonl

DAY1, DAY2 = "2026-11-02", "2026-11-03"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working folder, with no store named in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UPSELL_RULES_STATE", raising=False)
    return tmp_path


def test_run_remembers_by_default_in_the_working_folder(
    workdir: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules = make_ruleset()
    first = invoke("run", rules, "--data", SAMPLE, "--as-of", DAY1, "--sink", "file:d1.jsonl")
    assert first.exit_code == 0, first.stderr
    store = workdir / ".upsell-rules" / "state.db"
    assert store.is_file()
    assert "state .upsell-rules/state.db: run 1:" in first.stdout
    assert len(read_jsonl(workdir / "d1.jsonl")) == 50
    again = invoke("run", rules, "--data", SAMPLE, "--as-of", DAY1, "--sink", "file:d2.jsonl")
    assert again.exit_code == 0 and "run 2: 50 unchanged" in again.stdout
    assert read_jsonl(workdir / "d2.jsonl") == []
    everything = invoke("run", rules, "--data", SAMPLE, "--as-of", DAY1, "--sink",
                        "file:d3.jsonl", "--deliver", "all")
    assert everything.exit_code == 0 and "run 3:" in everything.stdout
    assert len(read_jsonl(workdir / "d3.jsonl")) == 50


def test_no_state_delivers_everything_and_writes_no_store(
    workdir: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules = make_ruleset()
    for name in ("a.jsonl", "b.jsonl"):
        result = invoke("run", rules, "--data", SAMPLE, "--as-of", DAY1, "--sink",
                        f"file:{name}", "--no-state", "--format", "json")
        assert result.exit_code == 0, result.stderr
        assert "state" not in json.loads(result.stdout)
        delivered = read_jsonl(workdir / name)
        assert len(delivered) == 50 and all("transition" not in d for d in delivered)
    assert not (workdir / ".upsell-rules").exists()
    # --no-state wins over a store named in the environment.
    named = invoke("run", rules, "--data", SAMPLE, "--as-of", DAY1, "--sink", "file:c.jsonl",
                   "--no-state", "--state", "elsewhere.db")
    assert named.exit_code == 0 and not (workdir / "elsewhere.db").exists()
    for option in (("--deliver", "all"), ("--shadow", str(rules))):
        bad = invoke("run", rules, "--data", SAMPLE, "--as-of", DAY1, "--no-state", *option)
        assert bad.exit_code == 2
        assert f"{option[0]} needs a state store (not --no-state)" in bad.stderr


def test_dry_run_and_explain_read_the_default_store_only_when_it_exists(
    workdir: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules = make_ruleset()
    plain = invoke("dry-run", rules, "--data", SAMPLE, "--as-of", DAY1, "--format", "jsonl")
    assert plain.exit_code == 0
    assert all("state" not in json.loads(line) for line in plain.stdout.splitlines())
    told = invoke("explain", rules, "--data", SAMPLE, "--as-of", DAY1, "--account",
                  "ACC-1012")
    assert told.exit_code == 0 and "state:" not in told.stdout
    assert not (workdir / ".upsell-rules").exists()

    assert invoke("run", rules, "--data", SAMPLE, "--as-of", DAY1, "--sink",
                  "file:d1.jsonl").exit_code == 0
    store = workdir / ".upsell-rules" / "state.db"
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    queue = invoke("dry-run", rules, "--data", SAMPLE, "--as-of", DAY2, "--format", "jsonl")
    assert queue.exit_code == 0
    states = {json.loads(line)["state"] for line in queue.stdout.splitlines()}
    assert "unchanged" in states
    told = invoke("explain", rules, "--data", SAMPLE, "--as-of", DAY2, "--account", "ACC-1012")
    assert told.exit_code == 0 and "state: " in told.stdout
    without = invoke("dry-run", rules, "--data", SAMPLE, "--as-of", DAY2, "--format", "jsonl",
                     "--no-state")
    assert without.exit_code == 0 and without.stdout
    assert all("state" not in json.loads(line) for line in without.stdout.splitlines())
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before
