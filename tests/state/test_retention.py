"""run --keep-log-days: old decision-log rows go, outreach starts stay (cooldowns and
capacity count them), replay of a pruned run says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from upsell_rules.state import schema as t
from upsell_rules.state.store import StateStore

from .conftest import SAMPLE, invoke

DAYS = ("2026-11-02", "2026-11-03", "2026-12-20")


def _count(path: Path, table: t.Table) -> int:
    store = StateStore.open(str(path), create=False)
    try:
        with store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        store.close()


def _outreach(path: Path) -> dict[str, list[object]]:
    store = StateStore.open(str(path), create=False)
    try:
        return dict(store.snapshot().outreach)
    finally:
        store.close()


def test_keep_log_days_prunes_old_rows_but_keeps_outreach_starts(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules = make_ruleset(memory="  capacity:\n    per_owner_per_week: 3\n")
    store = tmp_path / "state.db"

    def run(day: str, *extra: str) -> dict[str, object]:
        result = invoke("run", rules, "--data", SAMPLE, "--as-of", day, "--sink",
                        f"file:{tmp_path / (day + '.jsonl')}", "--state", store,
                        "--format", "json", *extra)
        assert result.exit_code == 0, result.stderr
        return dict(json.loads(result.stdout)["state"])

    run(DAYS[0])
    run(DAYS[1])
    assert _count(store, t.decisions) == 100
    outreach = _outreach(store)
    starts = sum(len(v) for v in outreach.values())
    assert 0 < starts < 50
    block = run(DAYS[2], "--keep-log-days", "30")
    # Run 1's rows go except its outreach starts; run 2 (nothing started) goes whole.
    assert block["log_pruned"] == {"decisions": 100 - starts, "runs": 1, "rulesets": 0}
    assert _count(store, t.decisions) == starts + 50
    assert _count(store, t.runs) == 2
    # What cooldowns, quarter caps and owner capacity count is all still there.
    kept = {account: [o for o in items if o.on < DAYS[2]]  # type: ignore[attr-defined]
            for account, items in _outreach(store).items()}
    assert {a: v for a, v in kept.items() if v} == outreach

    gone = invoke("replay", "1", "--state", store)
    assert gone.exit_code == 2
    assert "run 1 (2026-11-02) was pruned from the decision log (--keep-log-days" in gone.stderr
    missing = invoke("replay", "2", "--state", store)
    assert missing.exit_code == 2 and "no run 2" in missing.stderr
    assert invoke("replay", "3", "--state", store).exit_code == 0

    started = sorted(outreach)[0]
    history = invoke("log", started, "--state", store, "--format", "json")
    assert history.exit_code == 0, history.stderr
    assert [e["run_id"] for e in json.loads(history.stdout)] == [1, 3]

    again = run(DAYS[2], "--keep-log-days", "30")
    assert again["log_pruned"] == {"decisions": 0, "runs": 0, "rulesets": 0}


def test_without_keep_log_days_the_log_is_kept(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(), tmp_path / "state.db"
    for day in DAYS:
        result = invoke("run", rules, "--data", SAMPLE, "--as-of", day, "--sink",
                        f"file:{tmp_path / 'o.jsonl'}", "--state", store, "--format", "json")
        assert result.exit_code == 0
        assert "log_pruned" not in json.loads(result.stdout)["state"]
    assert _count(store, t.decisions) == 150
    assert invoke("replay", "1", "--state", store).exit_code == 0


def test_the_text_report_says_what_the_pruning_dropped(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    rules, store = make_ruleset(), tmp_path / "state.db"
    for day in ("2026-11-02", "2026-11-03"):
        assert invoke("run", rules, "--data", SAMPLE, "--as-of", day, "--sink",
                      f"file:{tmp_path / 'o.jsonl'}", "--state", store).exit_code == 0
    result = invoke("run", rules, "--data", SAMPLE, "--as-of", "2027-03-01", "--sink",
                    f"file:{tmp_path / 'o.jsonl'}", "--state", store, "--keep-log-days", "30")
    assert result.exit_code == 0, result.stderr
    starts = sum(1 for items in _outreach(store).values() for o in items
                 if o.on < "2027")  # type: ignore[attr-defined]
    line = (f"state: decision log pruned: {100 - starts} rows, 1 run(s) dropped "
            "(--keep-log-days)")
    assert line in result.stdout
