"""What changed for an account since its last delivered decision, and what is held back.

Pure functions over plain data: :func:`classify` names the transition between the last
delivered state and today's decision, and :func:`plan` adds the holds (snoozes,
cooldowns, caps per quarter, owner capacity) that keep a transition from going out today.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from upsell_rules.ruleset.memory import MemoryPolicy

#: Transitions that start an outreach: cooldowns and capacity apply to these.
OUTREACH_STARTS = frozenset({"entered_act_now", "play_changed", "unblocked"})

#: How each transition reads in the queue's status column.
LABELS = {
    "entered_act_now": "entered act-now",
    "left_act_now": "left act-now (close)",
    "blocked": "became blocked",
    "unblocked": "unblocked",
    "play_changed": "play changed",
    "band_changed": "band changed",
    "new": "new",
}


@dataclass(frozen=True)
class Previous:
    """An account's last delivered state, as the store remembers it."""

    band: str
    blocked: bool
    play: str
    owner: str = ""
    since: str = ""
    last_outreach_on: str | None = None
    last_outreach_play: str | None = None
    left_since_outreach: bool = False
    closed_on: str | None = None


@dataclass(frozen=True)
class Hold:
    """An active snooze or cooldown on an account (on one play, or on all when None)."""

    kind: str
    until: str
    play: str | None
    reason: str


@dataclass(frozen=True)
class Outreach:
    """One delivered outreach in the log: when, which play, whose, in which band."""

    on: str
    play: str
    owner: str
    band: str


@dataclass
class Snapshot:
    """What the store knows before a run: states, active holds, past outreaches."""

    previous: dict[str, Previous] = field(default_factory=dict)
    holds: dict[str, list[Hold]] = field(default_factory=dict)
    outreach: dict[str, list[Outreach]] = field(default_factory=dict)


@dataclass
class Planned:
    """One account's fate in this run."""

    account_id: str
    status: str
    transition: str | None = None
    deliver: bool = False
    outreach: bool = False
    key: str = ""


def classify(prev: Previous | None, decision: Mapping[str, Any],
             outreach_bands: frozenset[str]) -> str | None:
    """The transition from ``prev`` to ``decision``, or None when nothing that matters
    changed (band, blocked state and play all the same)."""
    band, blocked, play = decision["band"], bool(decision["blocked"]), decision["action"]["play"]
    active = band in outreach_bands
    if prev is None:
        return "entered_act_now" if active else "new"
    if (prev.band, prev.blocked, prev.play) == (band, blocked, play):
        return None
    was_active = prev.band in outreach_bands
    if was_active and not active:
        return "left_act_now"
    if active and not was_active:
        return "entered_act_now"
    if blocked != prev.blocked:
        return "blocked" if blocked else "unblocked"
    if play != prev.play:
        return "play_changed"
    return "band_changed"


def transition_key(account_id: str, as_of: date, kind: str, decision: Mapping[str, Any]) -> str:
    """The idempotency key of one transition: the same transition always gets the same key."""
    text = "|".join([account_id, as_of.isoformat(), kind, str(decision["band"]),
                     str(bool(decision["blocked"])), str(decision["action"]["play"])])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def transition_rekey(key: str, round_: int) -> str:
    """The key of the ``round_``-th repeat of the transition keyed ``key`` on one day."""
    return hashlib.sha256(f"{key}|repeat {round_}".encode()).hexdigest()[:32]


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _next_quarter(day: date) -> date:
    start = _quarter_start(day)
    return date(start.year + 1, 1, 1) if start.month == 10 else date(start.year, start.month + 3, 1)


def cooling_until(policy: MemoryPolicy, prev: Previous | None, history: Sequence[Outreach],
                  play: str, band: str, as_of: date) -> str | None:
    """The date a cooldown or quarter cap holds this outreach until, or None."""
    latest: date | None = None
    for rule in policy.cooldowns:
        if not rule.applies(play, band):
            continue
        past = [o for o in history if rule.applies(o.play, o.band)]
        if past and rule.days:
            until = date.fromisoformat(max(o.on for o in past)) + timedelta(days=rule.days)
            reenrolled = rule.reenrol and prev is not None and prev.left_since_outreach
            if as_of < until and not reenrolled:
                latest = max(latest or until, until)
        if rule.per_quarter is not None:
            start = _quarter_start(as_of).isoformat()
            if sum(1 for o in past if o.on >= start) >= rule.per_quarter:
                until = _next_quarter(as_of)
                latest = max(latest or until, until)
    return latest.isoformat() if latest else None


def _held(holds: Iterable[Hold], play: str, as_of: date) -> Hold | None:
    today = as_of.isoformat()
    active = [h for h in holds if h.until > today and h.play in (None, play)]
    # A snooze outranks a cooldown; the later date wins among holds of one kind.
    pool = [h for h in active if h.kind == "snooze"] or active
    return max(pool, key=lambda h: h.until) if pool else None


def plan(
    decisions: Sequence[Mapping[str, Any]],
    snapshot: Snapshot,
    policy: MemoryPolicy,
    as_of: date,
    outreach_bands: frozenset[str],
    deliver_all: bool = False,
) -> dict[str, Planned]:
    """Each account's status, transition and whether it is delivered today.

    Accounts are taken in queue order (unblocked first, then score, highest first, then
    account id) so that owner capacity goes to the strongest accounts, the same way
    every time.
    """
    order = sorted(decisions, key=lambda d: (bool(d["blocked"]), -float(d["score"]),
                                             str(d["account_id"])))
    week = as_of.isocalendar()[:2]
    used: dict[str, int] = {}
    for past in snapshot.outreach.values():
        for item in past:
            if date.fromisoformat(item.on).isocalendar()[:2] == week:
                used[item.owner] = used.get(item.owner, 0) + 1
    out: dict[str, Planned] = {}
    for decision in order:
        account = str(decision["account_id"])
        prev = snapshot.previous.get(account)
        kind = classify(prev, decision, outreach_bands)
        play, band = str(decision["action"]["play"]), str(decision["band"])
        starts = (kind in OUTREACH_STARTS and band in outreach_bands
                  and not decision["blocked"])
        hold = _held(snapshot.holds.get(account, ()), play, as_of)
        if hold is not None:
            word = "snoozed" if hold.kind == "snooze" else "cooling down"
            out[account] = Planned(account, f"{word} until {hold.until}", kind)
            continue
        if kind is None and not deliver_all:
            status = "closed" if prev is not None and prev.closed_on else "unchanged"
            out[account] = Planned(account, status)
            continue
        shown = kind or "unchanged"
        if starts:
            until = cooling_until(policy, prev, snapshot.outreach.get(account, ()), play, band,
                                  as_of)
            if until is not None:
                out[account] = Planned(account, f"cooling down until {until}", kind)
                continue
            owner = str(decision.get("owner") or "")
            cap = policy.per_owner_per_week
            if cap is not None and used.get(owner, 0) >= cap:
                out[account] = Planned(account, "over capacity", kind)
                continue
            used[owner] = used.get(owner, 0) + 1
        status = LABELS["new"] if prev is None else LABELS.get(shown, shown)
        out[account] = Planned(account, status, kind, True, starts,
                               transition_key(account, as_of, shown, decision))
    return out
