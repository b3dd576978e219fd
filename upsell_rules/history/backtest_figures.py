"""The figures of a backtest, each from the joined deals and points: win rates by band,
trigger and upsell type, lift, lead time, wins never surfaced, churn after won upsells;
each shown beside the healthy range from the research behind the default ruleset."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from upsell_rules.history.backtest_points import Joined, Point, Shape, Timeline, surfaced
from upsell_rules.history.outcomes import Deal

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


#: The fewest deals (or wins, or observed accounts) a figure needs before it is judged
#: against its healthy range; below it the verdict is ``too_few``. With 10 deals a win
#: rate's 95% interval is still about 50 points wide.
MIN_TO_JUDGE = 10


def judge(
    healthy: Healthy,
    value: float | None,
    count: int,
    interval: Sequence[float] | None = None,
) -> str | None:
    """The verdict on ``value`` from ``count`` observations, without over-claiming.

    ``too_few`` under :data:`MIN_TO_JUDGE`; ``below`` / ``above`` only when the whole 95%
    ``interval`` (when there is one) lies outside the range, else ``unclear``;
    ``healthy`` when the value is inside the range; ``None`` without a value.
    """
    if value is None:
        return None
    if count < MIN_TO_JUDGE:
        return "too_few"
    status = healthy.status(value)
    if interval is not None:
        if status == "below" and healthy.low is not None and interval[1] >= healthy.low:
            return "unclear"
        if status == "above" and healthy.high is not None and interval[0] <= healthy.high:
            return "unclear"
    return status


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


def ratio_interval(
    top_won: int, top_deals: int, rest_won: int, rest_deals: int, z: float = 1.96
) -> tuple[float, float] | None:
    """The 95% interval of a ratio of two win rates (Katz's log method); ``None`` when
    either side has no win (the ratio's logarithm is then unbounded)."""
    if top_won == 0 or rest_won == 0:
        return None
    ratio = (top_won / top_deals) / (rest_won / rest_deals)
    spread = z * math.sqrt(1 / top_won - 1 / top_deals + 1 / rest_won - 1 / rest_deals)
    return (ratio * math.exp(-spread), ratio * math.exp(spread))


def rate(won: int, deals: int) -> dict[str, Any]:
    """Deals, wins, the win rate and its Wilson 95% interval."""
    interval = wilson(won, deals)
    return {
        "deals": deals,
        "won": won,
        "win_rate": won / deals if deals else None,
        "ci95": list(interval) if interval else None,
    }


def overall_figures(matched: list[Joined]) -> dict[str, Any]:
    """Win rate over every matched deal, with the lost and undecided counts."""
    overall = rate(sum(1 for j in matched if j.deal.won), len(matched))
    overall.update(
        {
            "lost": sum(1 for j in matched if j.deal.outcome == "lost"),
            "no_decision": sum(1 for j in matched if j.deal.outcome == "no_decision"),
            "healthy": HEALTHY_WIN_RATE.to_dict(),
            "status": judge(HEALTHY_WIN_RATE, overall["win_rate"], overall["deals"],
                            overall["ci95"]),
        }
    )
    return overall


def band_figures(
    points: Sequence[Point], matched: list[Joined], shape: Shape
) -> list[dict[str, Any]]:
    """Per band: its share of the snapshots and the win rate of deals it was in force for."""
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
        row.update(rate(sum(1 for j in band_deals if j.deal.won), len(band_deals)))
        by_band.append(row)
    return by_band


def lift_figures(matched: list[Joined], top: str) -> dict[str, Any]:
    """The top band's win rate against the rest's."""
    top_deals = [j for j in matched if j.point is not None and j.point.band == top]
    rest = [j for j in matched if j.point is not None and j.point.band != top]
    top_won = sum(1 for j in top_deals if j.deal.won)
    rest_won = sum(1 for j in rest if j.deal.won)
    top_rate = rate(top_won, len(top_deals))["win_rate"]
    rest_rate = rate(rest_won, len(rest))["win_rate"]
    ratio = top_rate / rest_rate if top_rate is not None and rest_rate else None
    interval = (ratio_interval(top_won, len(top_deals), rest_won, len(rest))
                if ratio is not None else None)
    return {
        "band": top,
        "top_win_rate": top_rate,
        "rest_win_rate": rest_rate,
        "top_deals": len(top_deals),
        "rest_deals": len(rest),
        "ratio": ratio,
        "ci95": list(interval) if interval else None,
        "difference": top_rate - rest_rate
        if top_rate is not None and rest_rate is not None
        else None,
        "healthy": HEALTHY_LIFT.to_dict(),
        "status": judge(HEALTHY_LIFT, ratio, min(len(top_deals), len(rest)), interval),
    }


def surfaced_figures(matched: list[Joined], top: str) -> dict[str, Any]:
    """Win rates of deals the ruleset surfaced (top band, unblocked) and of the others."""
    ready = [j for j in matched if j.point is not None and surfaced(j.point, top)]
    not_ready = [j for j in matched if j.point is not None and not surfaced(j.point, top)]
    return {
        "surfaced": rate(sum(1 for j in ready if j.deal.won), len(ready)),
        "not_surfaced": rate(sum(1 for j in not_ready if j.deal.won), len(not_ready)),
    }


def trigger_figures(
    points: Sequence[Point], matched: list[Joined], shape: Shape
) -> list[dict[str, Any]]:
    """Per trigger (and for no trigger): snapshots it fired in, win rate of its deals."""
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
        row: dict[str, Any] = {"trigger": trigger_id, "upsell_type": upsell_type,
                               "snapshots": len(fired)}
        row.update(rate(sum(1 for j in trig_deals if j.deal.won), len(trig_deals)))
        by_trigger.append(row)
    return by_trigger


def type_figures(matched: list[Joined]) -> list[dict[str, Any]]:
    """Per upsell type of the deals: win rate against its healthy range."""
    by_type: list[dict[str, Any]] = []
    type_names = sorted({j.deal.upsell_type for j in matched}, key=_type_order)
    for name in type_names:
        typed = [j for j in matched if j.deal.upsell_type == name]
        row: dict[str, Any] = {"upsell_type": name or "(not given)"}
        row.update(rate(sum(1 for j in typed if j.deal.won), len(typed)))
        healthy = HEALTHY_BY_TYPE.get(name)
        row["healthy"] = healthy.to_dict() if healthy else None
        row["status"] = (judge(healthy, row["win_rate"], row["deals"], row["ci95"])
                         if healthy else None)
        by_type.append(row)
    return by_type


def _type_order(name: str) -> tuple[int, str]:
    known = list(HEALTHY_BY_TYPE)
    return (known.index(name) if name in known else len(known), name)


def lead_times(
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
        "status": judge(HEALTHY_LEAD, median, len(days)),
    }
    never_block = {
        "wins_with_history": judged,
        "never_surfaced": never,
        "share": never / judged if judged else None,
        "wins_without_history": no_history,
    }
    return lead, never_block


def churn_figures(
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
        # A window the data does not cover is left out whatever happened in it: keeping
        # the churns seen early in such windows while dropping the stays would overstate
        # churn (only churners could be counted near the end of the data).
        if observed_until is None or start + window > observed_until:
            return None
        return gone is not None and gone <= start + window

    after = [outcome(d.account_id, d.closed_on) for d in deals if d.won]
    base = [outcome(p.account_id, p.on) for p in points]
    after_rate = _share(after)
    base_rate = _share(base)
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
        "status": _churn_status(after_rate, base_rate),
    }


def _churn_status(after: dict[str, Any], base: dict[str, Any]) -> str | None:
    """Churn after won upsells against the base: ``above`` only when even the low end of
    its 95% interval is above the base rate."""
    if after["rate"] is None or base["rate"] is None:
        return None
    if min(after["observed"], base["observed"]) < MIN_TO_JUDGE:
        return "too_few"
    if after["rate"] <= base["rate"]:
        return "healthy"
    interval = wilson(after["churned"], after["observed"])
    return "above" if interval is not None and interval[0] > base["rate"] else "unclear"


def _share(results: list[bool | None]) -> dict[str, Any]:
    observed = [r for r in results if r is not None]
    churned = sum(1 for r in observed if r)
    return {
        "observed": len(observed),
        "churned": churned,
        "rate": churned / len(observed) if observed else None,
    }
