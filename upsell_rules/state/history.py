"""Reading the decision log: an account's history, and a logged run to replay."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from upsell_rules.state import codec
from upsell_rules.state import schema as t
from upsell_rules.state.retention import pruned_before
from upsell_rules.state.store import StateError, StateStore


@dataclass(frozen=True)
class Delivery:
    """Where one logged transition went: a sink, and whether it took it yet."""

    sink: str
    status: str
    attempts: int
    detail: str


@dataclass(frozen=True)
class Entry:
    """One logged decision of one account."""

    run_id: int
    as_of: str
    role: str
    ruleset: str
    band: str
    score: float
    blocked: bool
    play: str
    owner: str
    triggers: tuple[str, ...]
    status: str
    transition: str | None
    input_digest: str | None
    #: One per sink the transition was queued for (none when no sink wanted it).
    deliveries: tuple[Delivery, ...] = ()


def _deliveries(store: StateStore, account_id: str) -> dict[int, list[Delivery]]:
    """The account's outbox items by run id, in the order they were queued."""
    o = t.outbox.c
    out: dict[int, list[Delivery]] = {}
    with store.engine.connect() as conn:
        for run_id, sink, status, attempts, detail in conn.execute(
            select(o.run_id, o.sink, o.status, o.attempts, o.detail)
            .where(o.account_id == account_id).order_by(o.item_id)
        ):
            out.setdefault(int(run_id), []).append(
                Delivery(str(sink), str(status), int(attempts or 0), str(detail or "")))
    return out


def account_history(store: StateStore, account_id: str, role: str = "production") -> list[Entry]:
    """Every logged decision of ``account_id``, oldest first."""
    d, r = t.decisions, t.runs
    query = (
        select(d.c.run_id, r.c.as_of, r.c.role, r.c.ruleset_name, r.c.ruleset_version,
               d.c.band, d.c.score, d.c.blocked, d.c.play, d.c.owner, d.c.triggers,
               d.c.status, d.c.transition, d.c.input_digest)
        .join(r, r.c.run_id == d.c.run_id)
        .where(d.c.account_id == account_id).where(r.c.role == role)
        .order_by(r.c.as_of, d.c.run_id)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    went = _deliveries(store, account_id) if role == "production" else {}
    return [
        Entry(row[0], row[1], row[2], f"{row[3]} {row[4]}", row[5], row[6], bool(row[7]),
              row[8], row[9], tuple(json.loads(row[10])), row[11], row[12], row[13],
              tuple(went.get(row[0], ()) if row[12] else ()))
        for row in rows
    ]


def input_values(store: StateStore, digest: str | None) -> dict[str, Any] | None:
    """The stored input record with this digest, or None when pruned or never kept."""
    if digest is None:
        return None
    with store.engine.connect() as conn:
        row = conn.execute(select(t.inputs.c.body).where(t.inputs.c.digest == digest)).first()
    return codec.decode_account(row[0]) if row else None


@dataclass
class LoggedRun:
    """A logged run with what is needed to decide it again."""

    run_id: int
    as_of: str
    role: str
    engine: str
    ruleset_sha256: str
    ruleset_path: str
    ruleset_text: str | None
    #: (account id, input digest, extra "inputs" list or None, decision digest), in order
    decisions: list[tuple[str, str | None, Any, str]]


def logged_run(store: StateStore, run_id: int) -> LoggedRun:
    """Run ``run_id`` from the log; :class:`StateError` when there is no such run."""
    with store.engine.connect() as conn:
        run = conn.execute(select(t.runs).where(t.runs.c.run_id == run_id)).mappings().first()
        if run is None:
            last = conn.execute(select(t.runs.c.run_id).order_by(t.runs.c.run_id.desc())).first()
            known = f"runs 1 to {last[0]}" if last else "no runs yet"
            raise StateError(f"state store {store.shown}: no run {run_id} ({known})")
        cutoff = pruned_before(conn)
        if cutoff is not None and run["as_of"] < cutoff:
            raise StateError(f"state store {store.shown}: run {run_id} ({run['as_of']}) was "
                             f"pruned from the decision log (--keep-log-days; the log keeps "
                             f"runs from {cutoff} on)")
        ruleset = conn.execute(select(t.rulesets).where(
            t.rulesets.c.sha256 == run["ruleset_sha256"])).mappings().first()
        rows = conn.execute(
            select(t.decisions.c.account_id, t.decisions.c.input_digest, t.decisions.c.extra,
                   t.decisions.c.decision_digest)
            .where(t.decisions.c.run_id == run_id).order_by(t.decisions.c.seq)
        ).all()
    return LoggedRun(
        run_id, run["as_of"], run["role"], run["engine"], run["ruleset_sha256"],
        ruleset["path"] if ruleset else "", codec.unpack(ruleset["body"]) if ruleset else None,
        [(a, dg, json.loads(extra) if extra else None, dd) for a, dg, extra, dd in rows],
    )


def latest_digests(store: StateStore) -> dict[str, str]:
    """Each account's input digest in its latest logged production decision."""
    d, r = t.decisions, t.runs
    out: dict[str, str] = {}
    with store.engine.connect() as conn:
        for account, digest in conn.execute(
            select(d.c.account_id, d.c.input_digest).join(r, r.c.run_id == d.c.run_id)
            .where(r.c.role == "production").order_by(d.c.run_id)
        ):
            if digest:
                out[account] = digest
    return out
