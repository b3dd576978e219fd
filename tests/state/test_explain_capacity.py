"""explain --state and owner capacity: explain decides one account, so it counts only
outreach already logged and says so; dry-run gives the run's own status."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .conftest import SAMPLE, decisions_of, invoke, read_jsonl

DAY1, DAY2 = "2026-11-02", "2026-11-03"
CAPACITY = "  capacity:\n    per_owner_per_week: 1\n"
NOTE = ("state note: capacity (1 per owner per week) counts only outreach already logged; "
        "the owner's accounts ahead of this one in today's queue are not counted")


def test_explain_says_capacity_counts_only_logged_outreach(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    quiet = make_ruleset("quiet.yaml", act_now_min=99, memory=CAPACITY)
    rules = make_ruleset(memory=CAPACITY)
    store = tmp_path / "state.db"
    first = invoke("run", quiet, "--data", SAMPLE, "--as-of", DAY1, "--sink",
                   f"file:{tmp_path / 'o.jsonl'}", "--state", store)
    assert first.exit_code == 0, first.stderr
    ready = sorted((d for d in decisions_of(rules, DAY2)
                    if d["band"] == "act_now" and not d["blocked"]),
                   key=lambda d: (-d["score"], d["account_id"]))
    by_owner: dict[str, list[str]] = {}
    for d in ready:
        by_owner.setdefault(d["owner"], []).append(d["account_id"])
    # An owner with no outreach logged this week and two ready accounts today.
    busy = {d["owner"] for d in read_jsonl(tmp_path / "o.jsonl")
            if d["transition"]["kind"] == "entered_act_now"}
    second = next(ids[1] for owner, ids in sorted(by_owner.items())
                  if len(ids) > 1 and owner not in busy)

    queue = invoke("dry-run", rules, "--data", SAMPLE, "--as-of", DAY2, "--state", store,
                   "--format", "jsonl")
    states = {json.loads(line)["account_id"]: json.loads(line)["state"]
              for line in queue.stdout.splitlines()}
    assert states[second] == "over capacity"

    told = invoke("explain", rules, "--data", SAMPLE, "--account", second, "--as-of", DAY2,
                  "--state", store)
    assert told.exit_code == 0, told.stderr
    assert "state: entered act-now\n" in told.stdout
    assert NOTE in told.stdout
    as_json = invoke("explain", rules, "--data", SAMPLE, "--account", second, "--as-of", DAY2,
                     "--state", store, "--format", "json")
    data = json.loads(as_json.stdout)
    assert data["state"] == "entered act-now"
    assert data["state_note"].startswith("capacity (1 per owner per week) counts only")

    # No capacity in the ruleset, or an account that is not starting an outreach: no note.
    plain = make_ruleset("plain.yaml")
    assert "state note" not in invoke("explain", plain, "--data", SAMPLE, "--account", second,
                                      "--as-of", DAY2, "--state", store).stdout
    warming = next(d["account_id"] for d in decisions_of(rules, DAY2) if d["band"] != "act_now")
    assert "state note" not in invoke("explain", rules, "--data", SAMPLE, "--account", warming,
                                      "--as-of", DAY2, "--state", store).stdout
