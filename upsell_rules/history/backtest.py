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

import bisect
import math
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.stream import decide_all
from upsell_rules.errors import RecordError
from upsell_rules.history.outcomes import Deal, Outcomes
from upsell_rules.history.snapshots import Snapshot
from upsell_rules.ruleset.model import Ruleset

#: Days after a won upsell (and after a snapshot, for the base) in which churn counts.
CHURN_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Healthy:
    """A healthy range from the research behind the default ruleset, shown beside a figure.

    ``low``/``high`` are fractions for rates and days for lead times; either may be
    ``None`` (open-ended). ``source`` names the article (see docs/authoring.md, "Where
    the numbers come from").
    """

    low: float | None
    high: float | None
    text: str
    source: str

    def status(self, value: float | None) -> str | None:
        """``healthy``, ``below`` or ``above`` the range; ``None`` when there is no value."""
        if value is None:
            return None
        if self.low is not None and value < self.low:
            return "below"
        if self.high is not None and value > self.high:
            return "above"
        return "healthy"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"low": self.low, "high": self.high, "text": self.text, "source": self.source}


#: Overall upsell win rate: 35-40% and up marks a healthy programme (R2).
HEALTHY_WIN_RATE = Healthy(0.35, None, "35-40%+", "R2")
#: Win rate by upsell type when the conversation starts from the matching signal (R2, R3).
HEALTHY_BY_TYPE: dict[str, Healthy] = {
    "seat": Healthy(0.45, 0.60, "45-60%", "R2"),
    "plan": Healthy(0.35, 0.50, "35-50%", "R2"),
    "addon": Healthy(0.30, 0.45, "30-45%", "R2"),
    "anniversary": Healthy(0.45, 0.65, "45-65% (directional)", "R3"),
}
#: Well-timed conversations should win more often than the rest (R1: renewal-window
#: conversations close at 2-3x the off-cycle rate); no figure exists for a score band.
HEALTHY_LIFT = Healthy(1.0, None, "above 1x; well-timed talks win 2-3x off-cycle", "R1")
#: Signals lead the need: power users run 30-60 days ahead of seat demand (R2) and usage
#: plays start 45-60 days before the ceiling (R3).
HEALTHY_LEAD = Healthy(30.0, None, "30-60+ days ahead", "R2, R3")


@dataclass(frozen=True)
class Point:
    """One snapshot's decision, reduced to what the backtest needs."""

    account_id: str
    on: date
    score: float
    band: str
    blocked: bool
    capped_at: float | None
    categories: tuple[float, ...]
    triggers: tuple[str, ...]
    upsell_types: tuple[str, ...]
    owner: str = ""
    plan: str = ""


@dataclass(frozen=True)
class Shape:
    """What the metrics need to know about a ruleset."""

    bands: tuple[tuple[str, str, float], ...]  # (id, title, min), highest band first
    triggers: tuple[tuple[str, str], ...]  # (id, upsell type), in ruleset order
    categories: tuple[str, ...]
    weights: tuple[float, ...]
    scale: float
    identity: dict[str, Any]

    @property
    def top(self) -> str:
        """The highest band (act now in the default ruleset)."""
        return self.bands[0][0]

    def band_for(self, score: float) -> str:
        """The band a score falls in."""
        for band_id, _title, low in self.bands:
            if score >= low:
                return band_id
        return self.bands[-1][0]


def shape_of(ruleset: Ruleset) -> Shape:
    """The :class:`Shape` of a loaded ruleset."""
    return Shape(
        bands=tuple((b.id, b.title, b.min) for b in ruleset.bands),
        triggers=tuple((t.id, t.upsell_type) for t in ruleset.triggers),
        categories=tuple(c.name for c in ruleset.categories),
        weights=tuple(c.weight for c in ruleset.categories),
        scale=ruleset.scale,
        identity=ruleset.identity(),
    )


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


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson 95% interval of a rate (``None`` without trials).

    Chosen over the plain normal interval because it stays inside 0-1 and behaves with
    the small groups a trigger or a quarter often gives.
    """
    if trials == 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - spread), min(1.0, centre + spread))


def _rate(won: int, deals: int) -> dict[str, Any]:
    interval = wilson(won, deals)
    return {
        "deals": deals,
        "won": won,
        "win_rate": won / deals if deals else None,
        "ci95": list(interval) if interval else None,
    }


@dataclass(frozen=True)
class Joined:
    """A deal and the decision the ruleset had made when it opened (``None``: no snapshot
    within the horizon before it)."""

    deal: Deal
    point: Point | None


class Timeline:
    """Each account's points in date order, for the joins."""

    def __init__(self, points: Iterable[Point]) -> None:
        self.by_account: dict[str, list[Point]] = {}
        for point in points:
            self.by_account.setdefault(point.account_id, []).append(point)
        self.dates: dict[str, list[date]] = {}
        for account_id, items in self.by_account.items():
            items.sort(key=lambda p: p.on)
            self.dates[account_id] = [p.on for p in items]

    def latest_before(self, account_id: str, day: date) -> Point | None:
        """The account's last point strictly before ``day``."""
        dates = self.dates.get(account_id)
        if not dates:
            return None
        index = bisect.bisect_left(dates, day) - 1
        return self.by_account[account_id][index] if index >= 0 else None

    def between(self, account_id: str, after: date | None, before: date) -> list[Point]:
        """The account's points with ``after < on < before`` (``after`` None: no bound)."""
        dates = self.dates.get(account_id, [])
        start = 0 if after is None else bisect.bisect_right(dates, after)
        end = bisect.bisect_left(dates, before)
        return self.by_account.get(account_id, [])[start:end]


def join(timeline: Timeline, deals: Iterable[Deal], horizon_days: int) -> list[Joined]:
    """Pair each deal with the decision in force when it opened (within the horizon)."""
    joined: list[Joined] = []
    for deal in deals:
        point = timeline.latest_before(deal.account_id, deal.opened_on)
        if point is not None and (deal.opened_on - point.on).days > horizon_days:
            point = None
        joined.append(Joined(deal, point))
    return joined


def surfaced(point: Point, top: str) -> bool:
    """True when the ruleset put the account in its top band with nothing blocking it."""
    return point.band == top and not point.blocked


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

    won_total = sum(1 for j in matched if j.deal.won)
    overall = _rate(won_total, len(matched))
    overall.update(
        {
            "lost": sum(1 for j in matched if j.deal.outcome == "lost"),
            "no_decision": sum(1 for j in matched if j.deal.outcome == "no_decision"),
            "healthy": HEALTHY_WIN_RATE.to_dict(),
            "status": HEALTHY_WIN_RATE.status(overall["win_rate"]),
        }
    )

    by_band: list[dict[str, Any]] = []
    for band_id, title, _low in shape.bands:
        in_band = [p for p in points if p.band == band_id]
        band_deals = [j for j in matched if j.point is not None and j.point.band == band_id]
        row: dict[str, Any] = {
            "band": band_id,
            "title": title,
            "snapshots": len(in_band),
            "share": len(in_band) / len(points) if points else None,
        }
        row.update(_rate(sum(1 for j in band_deals if j.deal.won), len(band_deals)))
        by_band.append(row)

    top_deals = [j for j in matched if j.point is not None and j.point.band == top]
    rest = [j for j in matched if j.point is not None and j.point.band != top]
    top_rate = _rate(sum(1 for j in top_deals if j.deal.won), len(top_deals))["win_rate"]
    rest_rate = _rate(sum(1 for j in rest if j.deal.won), len(rest))["win_rate"]
    ratio = top_rate / rest_rate if top_rate is not None and rest_rate else None
    lift = {
        "band": top,
        "top_win_rate": top_rate,
        "rest_win_rate": rest_rate,
        "ratio": ratio,
        "difference": top_rate - rest_rate
        if top_rate is not None and rest_rate is not None
        else None,
        "healthy": HEALTHY_LIFT.to_dict(),
        "status": HEALTHY_LIFT.status(ratio),
    }

    ready = [j for j in matched if j.point is not None and surfaced(j.point, top)]
    not_ready = [j for j in matched if j.point is not None and not surfaced(j.point, top)]
    surfaced_block = {
        "surfaced": _rate(sum(1 for j in ready if j.deal.won), len(ready)),
        "not_surfaced": _rate(sum(1 for j in not_ready if j.deal.won), len(not_ready)),
    }

    by_trigger: list[dict[str, Any]] = []
    for trigger_id, upsell_type in [*shape.triggers, ("(no trigger)", "")]:
        if trigger_id == "(no trigger)":
            fired = [p for p in points if not p.triggers]
            trig_deals = [j for j in matched if j.point is not None and not j.point.triggers]
        else:
            fired = [p for p in points if trigger_id in p.triggers]
            trig_deals = [
                j for j in matched if j.point is not None and trigger_id in j.point.triggers
            ]
        row = {"trigger": trigger_id, "upsell_type": upsell_type, "snapshots": len(fired)}
        row.update(_rate(sum(1 for j in trig_deals if j.deal.won), len(trig_deals)))
        by_trigger.append(row)

    by_type: list[dict[str, Any]] = []
    type_names = sorted({j.deal.upsell_type for j in matched}, key=_type_order)
    for name in type_names:
        typed = [j for j in matched if j.deal.upsell_type == name]
        row = {"upsell_type": name or "(not given)"}
        row.update(_rate(sum(1 for j in typed if j.deal.won), len(typed)))
        healthy = HEALTHY_BY_TYPE.get(name)
        row["healthy"] = healthy.to_dict() if healthy else None
        row["status"] = healthy.status(row["win_rate"]) if healthy else None
        by_type.append(row)

    lead, never = _lead_times(timeline, deals, top)
    churn = _churn(points, deals, churned, observed_until)
    return {
        "ruleset": shape.identity,
        "horizon_days": horizon_days,
        "period": {
            "first_snapshot": first.isoformat() if first else None,
            "last_snapshot": last.isoformat() if last else None,
            "observed_until": observed_until.isoformat() if observed_until else None,
        },
        "volume": {
            "snapshots": len(points),
            "accounts": len(timeline.by_account),
            "deals": len(joined),
            "deals_matched": len(matched),
            "deals_without_snapshot": len(joined) - len(matched),
        },
        "overall": overall,
        "by_band": by_band,
        "lift": lift,
        "surfaced": surfaced_block,
        "by_trigger": by_trigger,
        "by_upsell_type": by_type,
        "lead_time": lead,
        "never_surfaced": never,
        "churn": churn,
    }


def _type_order(name: str) -> tuple[int, str]:
    known = list(HEALTHY_BY_TYPE)
    return (known.index(name) if name in known else len(known), name)


def _lead_times(
    timeline: Timeline, deals: Sequence[Deal], top: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Lead time of each won deal, and the wins the ruleset never surfaced.

    For a won deal the window is the account's snapshots after its previous deal closed
    and before this one opened; the lead time is the days from the first snapshot in the
    window that put the account in the top band, unblocked, to the day the deal opened.
    Wins with no snapshot in their window cannot be judged and are counted apart.
    """
    closed_by_account: dict[str, list[date]] = {}
    for deal in deals:
        closed_by_account.setdefault(deal.account_id, []).append(deal.closed_on)
    days: list[int] = []
    never = 0
    no_history = 0
    for deal in deals:
        if not deal.won:
            continue
        earlier = [c for c in closed_by_account[deal.account_id] if c < deal.opened_on]
        window = timeline.between(deal.account_id, max(earlier, default=None), deal.opened_on)
        if not window:
            no_history += 1
            continue
        first = next((p for p in window if surfaced(p, top)), None)
        if first is None:
            never += 1
        else:
            days.append((deal.opened_on - first.on).days)
    judged = len(days) + never
    median = float(statistics.median(days)) if days else None
    lead = {
        "wins_surfaced": len(days),
        "median_days": median,
        "mean_days": statistics.fmean(days) if days else None,
        "healthy": HEALTHY_LEAD.to_dict(),
        "status": HEALTHY_LEAD.status(median),
    }
    never_block = {
        "wins_with_history": judged,
        "never_surfaced": never,
        "share": never / judged if judged else None,
        "wins_without_history": no_history,
    }
    return lead, never_block


def _churn(
    points: Sequence[Point],
    deals: Sequence[Deal],
    churned: dict[str, date],
    observed_until: date | None,
) -> dict[str, Any]:
    """90-day churn after won upsells against the base (every account snapshot)."""
    window = timedelta(days=CHURN_WINDOW_DAYS)

    def outcome(account_id: str, start: date) -> bool | None:
        """True churned in the window, False stayed, None not observed long enough."""
        gone = churned.get(account_id)
        if gone is not None and gone <= start:
            return None
        if gone is not None and gone <= start + window:
            return True
        if observed_until is None or start + window > observed_until:
            return None
        return False

    after = [outcome(d.account_id, d.closed_on) for d in deals if d.won]
    base = [outcome(p.account_id, p.on) for p in points]
    after_rate = _share(after)
    base_rate = _share(base)
    status = None
    if after_rate["rate"] is not None and base_rate["rate"] is not None:
        status = "healthy" if after_rate["rate"] <= base_rate["rate"] else "above"
    return {
        "window_days": CHURN_WINDOW_DAYS,
        "after_won_upsell": after_rate,
        "base": base_rate,
        "healthy": {
            "low": None,
            "high": None,
            "text": "at or below the base rate",
            "source": "R2",
        },
        "status": status,
    }


def _share(results: list[bool | None]) -> dict[str, Any]:
    observed = [r for r in results if r is not None]
    churned = sum(1 for r in observed if r)
    return {
        "observed": len(observed),
        "churned": churned,
        "rate": churned / len(observed) if observed else None,
    }
