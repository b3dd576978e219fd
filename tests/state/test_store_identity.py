"""A store follows one ruleset (another one is refused, an edit is reported), and a
damaged, foreign or empty store file gives a plain message and is left as it was."""

from __future__ import annotations

import json
from pathlib import Path

from tests.state.conftest import ROOT, RULESET, SAMPLE, invoke

OTHER = ROOT / "rulesets" / "expansion_triggers.yaml"


def _run(ruleset: Path, store: Path, out: Path, as_of: str, *extra: str) -> object:
    return invoke("run", ruleset, "--data", SAMPLE, "--as-of", as_of, "--state", store,
                  "--sink", f"file:{out}", *extra)


def test_a_run_with_another_ruleset_is_refused_unless_switched(tmp_path: Path) -> None:
    store = tmp_path / "state.db"
    assert _run(RULESET, store, tmp_path / "d1.jsonl", "2026-11-02").exit_code == 0
    before = store.read_bytes()
    refused = _run(OTHER, store, tmp_path / "d2.jsonl", "2026-11-03")
    assert refused.exit_code == 2
    assert "follows ruleset 'upsell_timing' (run 1, as of 2026-11-02), not " \
        "'expansion_triggers'" in refused.stderr
    assert "--switch-ruleset" in refused.stderr and "nothing was changed" in refused.stderr
    assert not (tmp_path / "d2.jsonl").exists() or (tmp_path / "d2.jsonl").read_text() == ""
    assert store.read_bytes() == before
    queue = invoke("dry-run", OTHER, "--data", SAMPLE, "--as-of", "2026-11-03",
                   "--state", store, "--format", "json")
    assert queue.exit_code == 0
    assert "it follows ruleset 'upsell_timing' (run 1), not 'expansion_triggers'" \
        in queue.stderr
    assert all("state" not in d for d in json.loads(queue.stdout))
    switched = _run(OTHER, store, tmp_path / "d2.jsonl", "2026-11-03", "--switch-ruleset",
                    "--format", "json")
    assert switched.exit_code == 0, switched.stderr
    block = json.loads(switched.stdout)["state"]
    assert block["ruleset_changed"].startswith(
        "ruleset changed since run 1 (2026-11-02): 'upsell_timing' 1.0.0 -> "
        "'expansion_triggers' 1.0.0")
    # From now on the store follows the new ruleset: no flag needed, the old one refused.
    assert _run(OTHER, store, tmp_path / "d3.jsonl", "2026-11-04").exit_code == 0
    assert _run(RULESET, store, tmp_path / "d4.jsonl", "2026-11-05").exit_code == 2


def test_an_edited_ruleset_is_named_in_the_report(tmp_path: Path) -> None:
    store = tmp_path / "state.db"
    assert _run(RULESET, store, tmp_path / "d1.jsonl", "2026-11-02").exit_code == 0
    edited = tmp_path / "upsell_timing.yaml"
    text = RULESET.read_text()
    assert "\nversion: 1.0.0\n" in text
    edited.write_text(text.replace("\nversion: 1.0.0\n", "\nversion: 1.1.0\n"))
    done = _run(edited, store, tmp_path / "d2.jsonl", "2026-11-03")
    assert done.exit_code == 0, done.stderr
    assert "state: ruleset changed since run 1 (2026-11-02): version 1.0.0 -> 1.1.0; " \
        "transitions include what the change moved" in done.stdout
    same = _run(edited, store, tmp_path / "d3.jsonl", "2026-11-03")
    assert "ruleset changed" not in same.stdout


def test_a_damaged_or_foreign_store_file_is_named_and_left_alone(tmp_path: Path) -> None:
    store = tmp_path / "state.db"
    assert _run(RULESET, store, tmp_path / "d1.jsonl", "2026-11-02").exit_code == 0
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(store.read_bytes()[:20000])
    foreign = tmp_path / "notes.db"
    foreign.write_text("shopping list\n" * 400)
    for path in (truncated, foreign):
        before = path.read_bytes()
        for command in (("run", RULESET, "--data", SAMPLE, "--as-of", "2026-11-03",
                         "--sink", f"file:{tmp_path / 'x.jsonl'}"),
                        ("log", "ACC-1001"), ("snoozes",)):
            shown = invoke(*command, "--state", path)
            assert shown.exit_code == 2
            assert f"state store {path} is damaged or is not an upsell-rules state store " \
                "(SQLite says: " in shown.stderr
            assert "it was not changed. Restore it from a backup" in shown.stderr
        assert path.read_bytes() == before
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    told = invoke("log", "ACC-1001", "--state", empty)
    assert told.exit_code == 2
    assert f"state store {empty} is empty: no run has used it yet" in told.stderr
    missing = invoke("replay", "1", "--state", tmp_path / "typo.db")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    assert not (tmp_path / "typo.db").exists()


def test_feedback_with_another_ruleset_is_refused_and_imports_nothing(tmp_path: Path) -> None:
    memory = "\nmemory:\n  feedback:\n    closed_lost: {snooze_days: 90}\n"
    followed = tmp_path / "upsell_timing.yaml"
    followed.write_text(RULESET.read_text() + memory)
    text = RULESET.read_text()
    assert "\nname: upsell_timing\n" in text
    other = tmp_path / "trial.yaml"
    other.write_text(text.replace("\nname: upsell_timing\n", "\nname: trial\n") + memory)
    store = tmp_path / "state.db"
    assert _run(followed, store, tmp_path / "d1.jsonl", "2026-11-02").exit_code == 0
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("account_id,outcome,date\nACC-1042,Closed Lost,2026-11-02\n")
    before = store.read_bytes()
    refused = invoke("feedback", other, outcomes, "--state", store)
    assert refused.exit_code == 2
    assert (f"state store {store} follows ruleset 'upsell_timing' (run 1, as of 2026-11-02), "
            f"not 'trial' ({other}); nothing was imported") in refused.stderr
    assert refused.stdout == ""
    assert store.read_bytes() == before
    listed = invoke("snoozes", "--state", store, "--as-of", "2026-11-03")
    assert listed.exit_code == 0 and listed.stdout == ""
    imported = invoke("feedback", followed, outcomes, "--state", store)
    assert imported.exit_code == 0, imported.stderr
    assert "feedback: 1 imported" in imported.stdout
