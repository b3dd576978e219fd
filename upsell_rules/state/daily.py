"""A run with memory: plan transitions, record them with the outbox, then drain the outbox.

:func:`run_with_state` is what ``run --state`` and ``watch`` do after deciding: it reads
the store's snapshot, plans each account (:func:`upsell_rules.state.transitions.plan`),
writes the log, the state change and the outbox in one transaction, and then delivers
every pending outbox item of this run's sinks (older ones first: what a killed run left
behind goes out before today's). Each item is marked delivered after its sink reports it;
a crash between the two sends it again on the next run, with the same idempotency key
(at-least-once delivery; the key lets a receiver drop the repeat).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.io.delivery import SinkTarget, deliver
from upsell_rules.plugin.types import DeliveryReport
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.state.errors import StateError
from upsell_rules.state.recorder import RunRecord, record_run
from upsell_rules.state.store import StateStore
from upsell_rules.state.transitions import Planned, Previous, plan, transition_rekey


@dataclass
class StatefulRun:
    """What a run with a state store did."""

    run_id: int
    planned: dict[str, Planned]
    outcomes: list[tuple[SinkTarget, DeliveryReport]] = field(default_factory=list)
    #: Items waiting for sinks this run did not deliver to: sink -> count.
    elsewhere: dict[str, int] = field(default_factory=dict)
    #: Accounts the store remembers that this run did not decide (gone from the data,
    #: renamed, or failed), sorted; their state is kept as it was.
    undecided: list[str] = field(default_factory=list)
    #: How the ruleset differs from the one of the store's previous run, or None.
    ruleset_changed: str | None = None

    def counts(self) -> dict[str, int]:
        """How many accounts had each status (dates dropped: "snoozed", "cooling down")."""
        out: dict[str, int] = {}
        for item in self.planned.values():
            word = item.status.split(" until ")[0]
            out[word] = out.get(word, 0) + 1
        return dict(sorted(out.items()))


def outreach_bands(rules: Ruleset) -> frozenset[str]:
    """The bands whose play is outreach (``act_now`` in the bundled ruleset)."""
    return frozenset(band.id for band in rules.bands if band.outreach)


def _state_of(prev: Previous | None) -> dict[str, Any] | None:
    if prev is None:
        return None
    return {"band": prev.band, "blocked": prev.blocked, "play": prev.play, "since": prev.since}


def _wanted(target: SinkTarget, decision: Mapping[str, Any], kind: str | None,
            prev: Previous | None, bands: Sequence[str]) -> bool:
    # A close goes where the opening went: judge it by the state it leaves.
    seen = decision
    if kind == "left_act_now" and prev is not None:
        seen = {**decision, "band": prev.band, "blocked": prev.blocked}
    return target.wants(seen) and (not bands or seen["band"] in bands)


def going_forward(store: StateStore, as_of: date) -> None:
    """Raise :class:`StateError` when ``as_of`` is before the store's latest run: the
    store's memory is of later days, so every difference from them would be delivered
    again as a transition backwards in time."""
    latest = store.latest_run()
    if latest is not None and as_of.isoformat() < latest[1]:
        raise StateError(
            f"state store {store.shown}: --as-of {as_of.isoformat()} is before its latest "
            f"run (run {latest[0]}, as of {latest[1]}); nothing was changed or delivered. "
            "Runs on one store go forward in time: use another store (or --no-state) "
            "to decide an earlier day"
        )


def follows_another(store: StateStore, rules: Ruleset) -> tuple[int, str, str] | None:
    """``(run id, as-of, name)`` of the store's latest production run when its ruleset is
    not ``rules`` (by ``name``); None when it is, or before the first run."""
    last = store.latest_ruleset()
    if last is None or last[2] == rules.name:
        return None
    return last[0], last[1], last[2]


def same_ruleset(store: StateStore, rules: Ruleset, *, switch: bool = False) -> str | None:
    """Check that ``rules`` is the ruleset the store follows; say how it changed.

    One store remembers the decisions of one ruleset: deciding with another one (by
    ``name``) would deliver every difference between the two as a transition, so it is
    refused (:class:`StateError`) unless ``switch``. An edit of the same ruleset (another
    version or sha256) is normal; the returned note says so, for the run's report.
    """
    last = store.latest_ruleset()
    if last is None:
        return None
    run_id, as_of, name, version, sha = last
    now = rules.identity()
    if name != now["name"] and not switch:
        raise StateError(
            f"state store {store.shown} follows ruleset '{name}' (run {run_id}, as of "
            f"{as_of}), not '{now['name']}' ({rules.path}); nothing was changed or "
            "delivered. One store follows one ruleset: give this one its own store "
            "(--state other.db), or pass --switch-ruleset to carry the accounts' state "
            f"over from '{name}' (what the two decide differently is then delivered as "
            "transitions)"
        )
    if sha == now["sha256"]:
        return None
    what = (f"'{name}' {version} -> '{now['name']}' {now['version']}" if name != now["name"]
            else f"version {version} -> {now['version']}" if version != now["version"]
            else f"same version {version}, sha256 {sha[:12]} -> {str(now['sha256'])[:12]}")
    return (f"ruleset changed since run {run_id} ({as_of}): {what}; transitions include "
            "what the change moved")


def _rekey_repeats(store: StateStore, planned: Mapping[str, Planned]) -> None:
    """Give a new key to a transition whose key the outbox already holds.

    The key names the account, the day and the change, so an account that makes the
    same change twice in a day (entered act-now, left, entered again: watch mode, or a
    corrected export run again) would repeat its key, and the outbox (and a receiver
    that drops keys it has seen) would swallow the second one. Its key is derived from
    the first one instead, the same way every time.
    """
    wanted = [p for p in planned.values() if p.deliver and p.transition]
    taken = store.queued_keys([p.key for p in wanted])
    for item in wanted:
        if item.key not in taken:
            continue
        round_ = 1
        while (key := transition_rekey(item.key, round_)) in taken:
            round_ += 1
        taken.add(key)
        item.key = key


def _outbox(store: StateStore, decisions: list[dict[str, Any]], planned: Mapping[str, Planned],
            previous: Mapping[str, Previous], targets: Sequence[SinkTarget],
            bands: Sequence[str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """The outbox items of a run: ``(account, sink, key, payload)`` per delivered
    transition per sink that wants it."""
    outbox: list[tuple[str, str, str, dict[str, Any]]] = []
    closing = [a for a, p in planned.items() if p.deliver and p.transition == "left_act_now"]
    opened = {t.label: store.opened(t.label, closing) for t in targets} if closing else {}
    for decision in decisions:
        account = str(decision["account_id"])
        item = planned[account]
        if not item.deliver:
            continue
        prev = previous.get(account)
        payload = dict(decision)
        payload["transition"] = {
            "kind": item.transition or "unchanged", "from": _state_of(prev), "key": item.key,
        }
        for target in targets:
            if not _wanted(target, decision, item.transition, prev, bands):
                continue
            if item.transition == "left_act_now":
                # What the sink said when it opened the outreach (a CRM task id, say).
                closes = dict(payload["transition"])
                closes["opened"] = opened.get(target.label, {}).get(account)
                outbox.append((account, target.label, item.key, {**payload,
                                                                 "transition": closes}))
                continue
            outbox.append((account, target.label, item.key, payload))
    return outbox


def run_with_state(
    store: StateStore,
    rules: Ruleset,
    decisions: list[dict[str, Any]],
    inputs: dict[str, tuple[str, bytes]],
    targets: Sequence[SinkTarget],
    as_of: date,
    *,
    deliver_all: bool = False,
    bands: Sequence[str] = (),
    engine: str = "python",
    data: Sequence[str] = (),
    ruleset_text: bytes = b"",
    switch_ruleset: bool = False,
) -> StatefulRun:
    """Plan, record and deliver one run (see the module docstring).

    A run dated before the store's latest run is refused (:func:`going_forward`), and
    so is one with another ruleset than the store's, unless ``switch_ruleset``
    (:func:`same_ruleset`).
    """
    going_forward(store, as_of)
    changed = same_ruleset(store, rules, switch=switch_ruleset)
    snapshot = store.snapshot()
    planned = plan(decisions, snapshot, rules.memory, as_of, outreach_bands(rules), deliver_all)
    _rekey_repeats(store, planned)
    outbox = _outbox(store, decisions, planned, snapshot.previous, targets, bands)
    identity = rules.identity()
    record = RunRecord(
        as_of=as_of.isoformat(), identity=identity, ruleset_text=ruleset_text,
        ruleset_path=rules.path, role="production", deliver="all" if deliver_all else
        "transitions", engine=engine, data=data, decisions=decisions, inputs=inputs,
        planned=planned, outbox=outbox,
    )
    run_id = record_run(store, record)
    result = StatefulRun(run_id, planned, ruleset_changed=changed)
    result.undecided = sorted(set(snapshot.previous) - set(planned))
    known = {(sink, key): payload for _, sink, key, payload in outbox}
    result.outcomes = drain(store, targets, identity, as_of, known)
    result.elsewhere = store.pending_elsewhere([t.label for t in targets])
    return result


def drain(store: StateStore, targets: Sequence[SinkTarget], identity: Mapping[str, Any],
          as_of: date, known: Mapping[tuple[str, str], dict[str, Any]] | None = None,
          ) -> list[tuple[SinkTarget, DeliveryReport]]:
    """Deliver every pending outbox item of ``targets``, one call per sink, and mark them.

    ``known`` holds payloads this process queued itself (no need to decompress them).
    """
    known = known or {}
    pending = store.pending([t.label for t in targets])
    outcomes: list[tuple[SinkTarget, DeliveryReport]] = []
    for target in targets:
        batch = [item for item in pending if item.sink == target.label]
        payloads = [known.get((item.sink, item.key)) or item.payload() for item in batch]
        report = deliver(target, payloads, identity, as_of)
        waiting: dict[str, list[int]] = {}
        for item in batch:
            waiting.setdefault(item.account_id, []).append(item.item_id)
        marks: list[tuple[int, str, str]] = []
        for result in report.results:
            ids = waiting.get(result.account_id)
            if ids:
                marks.append((ids.pop(0), result.status, result.detail))
        store.mark(marks)
        outcomes.append((target, report))
    return outcomes
