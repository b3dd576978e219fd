"""Backtests: replay a ruleset over account snapshots and score it against real outcomes.

Each snapshot is decided as of its own date, with anything dated after that day removed
(see :mod:`upsell_rules.history.snapshots`). Each deal in the outcomes file is then joined to the
account's latest snapshot taken before the deal opened, if that snapshot is no older than
the horizon: that decision is what the ruleset said when the conversation started. From
the joined deals come win rates by band, trigger and upsell type, the lift of the top band
over the rest, how early the ruleset surfaced eventual wins, the wins it never surfaced,
and churn after won upsells against the base.

The computation is split from the evaluation (:func:`evaluate_snapshots` then
:func:`run_backtest`) so calibration can re-score the same decisions under other weights
without deciding every snapshot again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.stream import decide_all
from upsell_rules.errors import RecordError
from upsell_rules.history.backtest_figures import (
    CHURN_WINDOW_DAYS,
    HEALTHY_BY_TYPE,
    HEALTHY_LEAD,
    HEALTHY_LIFT,
    HEALTHY_WIN_RATE,
    Healthy,
    band_figures,
    churn_figures,
    lead_times,
    lift_figures,
    overall_figures,
    surfaced_figures,
    trigger_figures,
    type_figures,
    wilson,
)
from upsell_rules.history.backtest_points import (
    Joined,
    Point,
    Shape,
    Timeline,
    join,
    shape_of,
    surfaced,
    unmatched,
)
from upsell_rules.history.outcomes import Outcomes
from upsell_rules.history.snapshots import Snapshot

__all__ = [
    "CHURN_WINDOW_DAYS",
    "HEALTHY_BY_TYPE",
    "HEALTHY_LEAD",
    "HEALTHY_LIFT",
    "HEALTHY_WIN_RATE",
    "Healthy",
    "Joined",
    "Point",
    "Replay",
    "Shape",
    "Timeline",
    "evaluate_snapshots",
    "join",
    "parse_horizon",
    "point_from",
    "run_backtest",
    "shape_of",
    "surfaced",
    "wilson",
]


@dataclass
class Replay:
    """Every snapshot decided: the points, the records that failed, what was hidden."""

    points: list[Point] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    #: Snapshots that carried at least one fact dated after their own date.
    snapshots_with_future_facts: int = 0
    #: How often each field was hidden for being dated after its snapshot.
    hidden_fields: dict[str, int] = field(default_factory=dict)


def point_from(decision: dict[str, Any], snapshot: Snapshot) -> Point:
    """Reduce a decision record to a :class:`Point`."""
    plan = snapshot.account.values.get("plan")
    return Point(
        account_id=decision["account_id"],
        on=snapshot.on,
        score=float(decision["score"]),
        band=decision["band"],
        blocked=bool(decision["blocked"]),
        capped_at=decision["capped_at"],
        categories=tuple(float(v) for v in decision["category_scores"].values()),
        triggers=tuple(t["id"] for t in decision["triggers"]),
        upsell_types=tuple(decision["upsell_types"]),
        owner=decision["owner"],
        plan=plan if isinstance(plan, str) else "",
    )


def evaluate_snapshots(
    evaluator: Evaluator,
    snapshots: Iterable[Snapshot | RecordError],
    on_error: Callable[[RecordError], None] | None = None,
) -> Replay:
    """Decide every snapshot as of its own date.

    A record error (from reading, or a plugin failing on one account) is kept in
    ``errors`` and passed to ``on_error`` as it happens; the other snapshots go on.
    """
    replay = Replay()
    for item in snapshots:
        if isinstance(item, RecordError):
            replay.errors.append(item)
            if on_error is not None:
                on_error(item)
            continue
        for name in item.hidden:
            replay.hidden_fields[name] = replay.hidden_fields.get(name, 0) + 1
        if item.hidden:
            replay.snapshots_with_future_facts += 1
        outcome = next(iter(decide_all(evaluator, [item.account], item.on)))
        if isinstance(outcome, RecordError):
            replay.errors.append(outcome)
            if on_error is not None:
                on_error(outcome)
            continue
        replay.points.append(point_from(outcome, item))
    return replay


_HORIZON = re.compile(r"^\s*(\d+)\s*([dw]?)\s*$", re.IGNORECASE)


def parse_horizon(text: str) -> int:
    """Days in a horizon written ``90d``, ``13w`` or ``90``; raises ValueError otherwise."""
    match = _HORIZON.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a horizon (write days as 90d or weeks as 13w)")
    days = int(match.group(1)) * (7 if match.group(2).lower() == "w" else 1)
    if days < 1:
        raise ValueError(f"{text!r}: the horizon must be at least one day")
    return days


def run_backtest(
    points: Sequence[Point],
    outcomes: Outcomes,
    shape: Shape,
    horizon_days: int = 90,
    observed_until: date | None = None,
    accounts: set[str] | None = None,
) -> dict[str, Any]:
    """Every backtest figure as a JSON-ready dict (see docs/backtest.md for each key).

    ``accounts`` limits the backtest to those accounts (calibration's held-out part).
    ``observed_until`` is the last day the data covers; by default the latest date in the
    snapshots or the outcomes. Churn windows that end after it are left out, not counted
    as "no churn".
    """
    if accounts is not None:
        points = [p for p in points if p.account_id in accounts]
        deals = [d for d in outcomes.deals if d.account_id in accounts]
        churned = {a: d for a, d in outcomes.churned.items() if a in accounts}
    else:
        deals = list(outcomes.deals)
        churned = dict(outcomes.churned)
    timeline = Timeline(points)
    first = min((p.on for p in points), default=None)
    last = max((p.on for p in points), default=None)
    if observed_until is None:
        candidates = [d for d in (last, outcomes.last_date) if d is not None]
        observed_until = max(candidates) if candidates else None
    top = shape.top
    joined = join(timeline, deals, horizon_days)
    matched = [j for j in joined if j.point is not None]
    lead, never = lead_times(timeline, deals, top)
    return {
        "ruleset": shape.identity,
        "horizon_days": horizon_days,
        "period": {
            "first_snapshot": first.isoformat() if first else None,
            "last_snapshot": last.isoformat() if last else None,
            "observed_until": observed_until.isoformat() if observed_until else None,
        },
        "volume": _volume(len(points), timeline, joined),
        "overall": overall_figures(matched),
        "by_band": band_figures(points, matched, shape),
        "lift": lift_figures(matched, top),
        "surfaced": surfaced_figures(matched, top),
        "by_trigger": trigger_figures(points, matched, shape),
        "by_upsell_type": type_figures(matched),
        "lead_time": lead,
        "never_surfaced": never,
        "churn": churn_figures(points, deals, churned, observed_until),
    }


def _volume(points: int, timeline: Timeline, joined: Sequence[Joined]) -> dict[str, Any]:
    """How much history there was, and why deals went unjoined."""
    missing = unmatched(timeline, joined)
    matched = sum(1 for j in joined if j.point is not None)
    return {
        "snapshots": points,
        "accounts": len(timeline.by_account),
        "deals": len(joined),
        "deals_matched": matched,
        "deals_without_snapshot": len(joined) - matched,
        "deals_unknown_account": len(missing["unknown_account"]),
        "deals_before_first_snapshot": len(missing["before_first_snapshot"]),
        "deals_snapshot_too_old": len(missing["snapshot_too_old"]),
        "unknown_accounts": sorted(set(missing["unknown_account"])),
    }
