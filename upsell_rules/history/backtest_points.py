"""Decisions reduced to backtest points, each account's points in date order, and deals
joined to the decision in force when they opened."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from upsell_rules.history.outcomes import Deal
from upsell_rules.ruleset.model import Ruleset


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


def unmatched(timeline: Timeline, joined: Iterable[Joined]) -> dict[str, list[str]]:
    """Why each deal without a decision has none, as reason -> the accounts, in file order.

    ``unknown_account``: the account has no snapshot at all (often the two files use
    different ids); ``before_first_snapshot``: the deal opened on or before the account's
    first snapshot; ``snapshot_too_old``: the latest snapshot before it is older than the
    horizon.
    """
    reasons: dict[str, list[str]] = {"unknown_account": [], "before_first_snapshot": [],
                                      "snapshot_too_old": []}
    for item in joined:
        if item.point is not None:
            continue
        account_id = item.deal.account_id
        dates = timeline.dates.get(account_id)
        if not dates:
            reasons["unknown_account"].append(account_id)
        elif item.deal.opened_on <= dates[0]:
            reasons["before_first_snapshot"].append(account_id)
        else:
            reasons["snapshot_too_old"].append(account_id)
    return reasons


def surfaced(point: Point, top: str) -> bool:
    """True when the ruleset put the account in its top band with nothing blocking it."""
    return point.band == top and not point.blocked
