"""Retention of the decision log: ``run --keep-log-days`` drops old log rows.

The log grows one row per account per run. Pruning drops the rows of runs older than the
cut-off, except the rows that record an outreach start (``entered_act_now``,
``play_changed``, ``unblocked`` in a production run): cooldowns, caps per quarter and
owner capacity count those, so dropping them would let an account be contacted again too
soon. A run left without rows (and with nothing waiting in the outbox) is dropped, and so
is a stored ruleset no run refers to. The cut-off is remembered, so ``replay`` of a pruned
run says so instead of comparing against a partial log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, exists, not_, or_, select

from upsell_rules.state import schema as t
from upsell_rules.state.store import StateStore
from upsell_rules.state.transitions import OUTREACH_STARTS

#: The ``meta`` key holding the date before which the log was pruned.
PRUNED_KEY = "log_pruned_before"


@dataclass(frozen=True)
class LogPruned:
    """What :func:`prune_log` dropped."""

    decisions: int = 0
    runs: int = 0
    rulesets: int = 0


def pruned_before(conn: Connection) -> str | None:
    """The date before which the log was pruned, or None when it never was."""
    row = conn.execute(select(t.meta.c.value).where(t.meta.c.key == PRUNED_KEY)).first()
    return str(row[0]) if row else None


def prune_log(store: StateStore, before: str) -> LogPruned:
    """Drop the log rows of runs whose as-of date is before ``before`` (see the module
    docstring for what is kept). Returns how many rows, runs and rulesets went."""
    d, r, o = t.decisions, t.runs, t.outbox
    old = select(r.c.run_id).where(r.c.as_of < before)
    production = select(r.c.run_id).where(r.c.role == "production")
    keep = and_(d.c.transition.in_(sorted(OUTREACH_STARTS)), d.c.run_id.in_(production))
    with store.engine.begin() as conn:
        conn.execute(delete(t.failures).where(t.failures.c.run_id.in_(old)))
        rows = conn.execute(delete(d).where(d.c.run_id.in_(old)).where(
            or_(d.c.transition.is_(None), not_(keep)))).rowcount
        has_rows = exists().where(d.c.run_id == r.c.run_id)
        waiting = exists().where(and_(o.c.run_id == r.c.run_id, o.c.status == "pending"))
        runs = conn.execute(delete(r).where(r.c.as_of < before).where(~has_rows)
                            .where(~waiting)).rowcount
        used = exists().where(r.c.ruleset_sha256 == t.rulesets.c.sha256)
        rulesets = conn.execute(delete(t.rulesets).where(~used)).rowcount
        previous = pruned_before(conn)
        if previous is None or previous < before:
            conn.execute(t.meta.delete().where(t.meta.c.key == PRUNED_KEY))
            conn.execute(t.meta.insert().values(key=PRUNED_KEY, value=before))
    return LogPruned(rows, runs, rulesets)
