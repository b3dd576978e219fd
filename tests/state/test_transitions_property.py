"""Property: over any sequence of daily decisions, with any snooze, ``plan`` delivers an
account exactly when its band, blocked state or play differ from the last delivered ones
and no snooze holds it; and a snoozed day never delivers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from upsell_rules.ruleset.memory import MemoryPolicy
from upsell_rules.state.transitions import Hold, Previous, Snapshot, plan

BANDS = ["act_now", "warming", "monitor"]
PLAYS = ["seat_expansion", "plan_upgrade", "health_recovery"]
START = date(2026, 11, 2)

states = st.tuples(st.sampled_from(BANDS), st.booleans(), st.sampled_from(PLAYS))


def _decision(state: tuple[str, bool, str]) -> dict[str, Any]:
    band, blocked, play = state
    return {"account_id": "A", "band": band, "blocked": blocked, "score": 80.0,
            "owner": "o", "action": {"play": play}}


@given(st.lists(states, min_size=1, max_size=12),
       st.integers(0, 11), st.integers(0, 6), st.booleans())
def test_delivers_exactly_the_changes_outside_snoozes(
    days: list[tuple[str, bool, str]], snooze_from: int, snooze_len: int, all_plays: bool
) -> None:
    until = (START + timedelta(days=snooze_from + snooze_len)).isoformat()
    snoozed_play = None if all_plays else "seat_expansion"
    last: tuple[str, bool, str] | None = None
    for index, state in enumerate(days):
        today = START + timedelta(days=index)
        snapshot = Snapshot()
        if last is not None:
            snapshot.previous["A"] = Previous(*last)
        if index >= snooze_from:
            snapshot.holds["A"] = [Hold("snooze", until, snoozed_play, "test")]
        held = (index >= snooze_from and today.isoformat() < until
                and (snoozed_play is None or state[2] == snoozed_play))
        [item] = plan([_decision(state)], snapshot, MemoryPolicy(), today,
                      frozenset({"act_now"})).values()
        expected = not held and state != last
        assert item.deliver == expected, (index, state, last, item)
        if held:
            assert item.status == f"snoozed until {until}"
        elif not expected:
            assert item.status == "unchanged"
        else:
            assert item.transition is not None and len(item.key) == 32
            if last is not None and last[0] == "act_now" and state[0] != "act_now":
                assert item.transition == "left_act_now"
        if item.deliver:
            last = state
