"""Recording a run: the log, the compact inputs, the state change and the outbox, at once.

Everything a run changes in the store is written in one transaction (:func:`record_run`):
the run and its decisions, the inputs they were decided from, each account's new
delivered state, and the deliveries waiting in the outbox. A run killed before the
commit changed nothing; a run killed after it has its deliveries waiting in the outbox,
and the next run sends them (see :mod:`upsell_rules.state.delivery`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from upsell_rules.io.formatters import to_json
from upsell_rules.state import codec
from upsell_rules.state import schema as t
from upsell_rules.state.store import StateStore, run_row
from upsell_rules.state.transitions import Planned

_CHUNK = 500


@dataclass
class RunRecord:
    """What one run decided and plans to deliver."""

    as_of: str
    identity: Mapping[str, Any]
    ruleset_text: bytes
    ruleset_path: str
    role: str
    deliver: str
    engine: str
    data: Sequence[str]
    decisions: list[dict[str, Any]]
    #: account id -> (input digest, compressed input)
    inputs: dict[str, tuple[str, bytes]]
    planned: dict[str, Planned]
    #: (account id, sink label, idempotency key, payload)
    outbox: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    shadow_of: int | None = None
    #: Records that failed in this run: (account id, location, message).
    failures: list[tuple[str, str, str]] = field(default_factory=list)


def decision_digest(decision: Mapping[str, Any]) -> str:
    """sha256 of the decision's JSON Lines text (what ``replay`` must reproduce)."""
    return hashlib.sha256(to_json(dict(decision)).encode("utf-8")).hexdigest()


def record_run(store: StateStore, record: RunRecord) -> int:
    """Write ``record`` in one transaction; returns the new run id."""
    with store.engine.begin() as conn:
        values = run_row(record.as_of, record.identity, record.role, record.deliver,
                         record.engine, record.data, record.shadow_of)
        inserted = conn.execute(insert(t.runs).values(**values)).inserted_primary_key
        assert inserted is not None
        run_id = int(inserted[0])
        sha = str(record.identity["sha256"])
        if conn.execute(select(t.rulesets.c.sha256).where(t.rulesets.c.sha256 == sha)).first() \
                is None:
            conn.execute(insert(t.rulesets).values(
                sha256=sha, path=record.ruleset_path, body=codec.pack(
                    record.ruleset_text.decode("utf-8", "surrogateescape"))))
        _store_inputs(conn, record)
        rows = []
        for seq, decision in enumerate(record.decisions):
            account = str(decision["account_id"])
            planned = record.planned.get(account)
            rows.append({
                "run_id": run_id, "seq": seq, "account_id": account,
                "input_digest": record.inputs.get(account, ("", b""))[0] or None,
                "band": decision["band"], "score": float(decision["score"]),
                "blocked": bool(decision["blocked"]), "play": decision["action"]["play"],
                "owner": str(decision.get("owner") or ""),
                "triggers": json.dumps([tr["id"] for tr in decision["triggers"]]),
                "extra": json.dumps(decision["inputs"]) if "inputs" in decision else None,
                "decision_digest": decision_digest(decision),
                "status": planned.status if planned else "",
                "transition": planned.transition if planned and planned.deliver else None,
            })
        for start in range(0, len(rows), _CHUNK):
            conn.execute(insert(t.decisions), rows[start:start + _CHUNK])
        if record.failures:
            conn.execute(insert(t.failures), [
                {"run_id": run_id, "seq": seq, "account_id": account, "location": where,
                 "message": message}
                for seq, (account, where, message) in enumerate(record.failures)])
        if record.role == "production":
            _update_accounts(conn, record)
            _queue(conn, run_id, record.outbox)
    return run_id


def _store_inputs(conn: Connection, record: RunRecord) -> None:
    blobs = {digest: blob for digest, blob in record.inputs.values()}
    digests = sorted(blobs)
    for start in range(0, len(digests), _CHUNK):
        chunk = digests[start:start + _CHUNK]
        seen = {row[0] for row in conn.execute(
            select(t.inputs.c.digest).where(t.inputs.c.digest.in_(chunk)))}
        fresh = [{"digest": d, "body": blobs[d], "last_used": record.as_of}
                 for d in chunk if d not in seen]
        if fresh:
            conn.execute(insert(t.inputs), fresh)
        if seen:
            conn.execute(update(t.inputs).where(t.inputs.c.digest.in_(seen))
                         .where(t.inputs.c.last_used < record.as_of)
                         .values(last_used=record.as_of))


def _update_accounts(conn: Connection, record: RunRecord) -> None:
    by_id = {str(d["account_id"]): d for d in record.decisions}
    known = {row["account_id"]: dict(row) for row in conn.execute(select(t.accounts)).mappings()}
    fresh: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for account, planned in record.planned.items():
        if not planned.deliver or planned.transition is None:
            continue
        decision = by_id[account]
        row = known.get(account) or {
            "account_id": account, "last_outreach_on": None, "last_outreach_play": None,
            "left_since_outreach": False, "closed_on": None,
        }
        row.update(band=decision["band"], blocked=bool(decision["blocked"]),
                   play=decision["action"]["play"], owner=str(decision.get("owner") or ""),
                   since=record.as_of)
        if planned.outreach:
            row.update(last_outreach_on=record.as_of,
                       last_outreach_play=decision["action"]["play"],
                       left_since_outreach=False, closed_on=None)
        if planned.transition == "left_act_now":
            row["left_since_outreach"] = True
        (changed if account in known else fresh).append(row)
    for start in range(0, len(fresh), _CHUNK):
        conn.execute(insert(t.accounts), fresh[start:start + _CHUNK])
    if changed:
        columns = [c.name for c in t.accounts.columns if c.name != "account_id"]
        statement = (update(t.accounts)
                     .where(t.accounts.c.account_id == bindparam("key_account"))
                     .values({name: bindparam(f"new_{name}") for name in columns}))
        conn.execute(statement, [
            {"key_account": row["account_id"], **{f"new_{n}": row[n] for n in columns}}
            for row in changed
        ])


def _queue(conn: Connection, run_id: int,
           items: Sequence[tuple[str, str, str, dict[str, Any]]]) -> None:
    keys = sorted({key for _, _, key, _ in items})
    seen: set[tuple[str, str]] = set()
    for start in range(0, len(keys), _CHUNK):
        seen.update((sink, key) for sink, key in conn.execute(
            select(t.outbox.c.sink, t.outbox.c.key).where(
                t.outbox.c.key.in_(keys[start:start + _CHUNK]))))
    rows = []
    packed: dict[int, bytes] = {}
    for account, sink, key, payload in items:
        if (sink, key) in seen:
            continue
        seen.add((sink, key))
        # One payload is shared by every sink of an account: compress it once.
        blob = packed.get(id(payload)) or packed.setdefault(id(payload), codec.pack(payload))
        rows.append({"run_id": run_id, "account_id": account, "sink": sink, "key": key,
                     "kind": str(payload.get("transition", {}).get("kind", "")),
                     "payload": blob, "status": "pending", "attempts": 0, "detail": ""})
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(t.outbox), rows[start:start + _CHUNK])
