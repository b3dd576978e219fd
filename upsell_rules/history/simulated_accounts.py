"""The simulated accounts behind the sample history: plans, seats, usage, health and
events, advanced one month at a time, and each month's snapshot record."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# (name, seats min, seats max, price per seat per year, metered limit per cycle)
PLANS: tuple[tuple[str, int, int, float, int], ...] = (
    ("Starter", 5, 15, 480.0, 50_000),
    ("Team", 10, 50, 600.0, 250_000),
    ("Business", 40, 200, 650.0, 1_000_000),
    ("Enterprise", 150, 500, 500.0, 5_000_000),
)
_PLAN_SHARES = (0.30, 0.65, 0.90, 1.00)
ADDONS = ("sso", "audit_log", "advanced_reporting", "data_export", "sandbox",
           "workflow_automation", "integrations_pack")
_OWNERS = ("Priya Raman", "Marcus Bell", "Elena Sokolova", "Daniel Okafor",
           "Hannah Lindqvist", "Tomas Ortega")
_STEMS = ("Alder", "Birch", "Cobalt", "Dune", "Ember", "Fjord", "Garnet", "Heron", "Iris",
          "Jasper", "Kestrel", "Linden", "Marble", "Nettle", "Onyx", "Pine", "Quartz",
          "Rowan", "Sable", "Thorn", "Umber", "Vale", "Willow", "Yarrow")
_KINDS = ("Analytics", "Biotech", "Clinics", "Freight", "Labs", "Legal", "Logistics",
          "Media", "Payments", "Retail", "Robotics", "Software", "Studios", "Travel")
BURN_IN_MONTHS = 6
_UP, _FLAT, _DOWN = 0, 1, 2


def add_months(day: date, months: int) -> date:
    """The same day-of-month ``months`` later (days past the month's end are clipped)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_first = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


@dataclass
class SimulatedDeal:
    deal_id: str
    opened_on: date
    closed_on: date
    outcome: str
    upsell_type: str
    amount: int
    planted: float
    band: str


@dataclass
class SimulatedAccount:
    """The simulated state of one account, advanced one month at a time."""

    account_id: str
    name: str
    owner: str
    plan: int
    since: date
    seats: int
    active: float
    seat_growth: float
    limit: int
    usage: float
    usage_growth: float
    trend: int
    contact_rate: float
    health: float
    health_mean: float
    dept_purchase: int
    dept_active: int
    power_users: int
    headcount: float
    seat_hist: list[int] = field(default_factory=list)
    usage_hist: list[int] = field(default_factory=list)
    gated: list[date] = field(default_factory=list)
    milestone_on: date | None = None
    champion_last: date | None = None
    champion_changed: date | None = None
    funding_on: date | None = None
    tickets: list[str] = field(default_factory=list)
    nps: tuple[int, date] | None = None
    competitor: bool = False
    downgrade_on: date | None = None
    gaps: list[str] = field(default_factory=list)
    gaps_on: date | None = None
    engagement: str = "stable"
    health_before: list[float] = field(default_factory=list)
    churned_on: date | None = None
    busy_until: date | None = None
    won_until: date | None = None
    pending: list[SimulatedDeal] = field(default_factory=list)

    @property
    def arr(self) -> int:
        price = PLANS[self.plan][3]
        return int(round(self.seats * price, -2))


def new_account(rng: random.Random, index: int, start: date) -> SimulatedAccount:
    draw = rng.random()
    plan = next(i for i, share in enumerate(_PLAN_SHARES) if draw < share)
    _name, low, high, _price, limit = PLANS[plan]
    seats = low + int(rng.random() ** 2 * (high - low + 1))
    # Most accounts are established; about one in twelve signs during the year.
    if rng.random() < 0.08:
        since = start + timedelta(days=int(rng.random() * 300))
    else:
        since = start - timedelta(days=200 + int(rng.random() * 1200))
    trend = _UP if rng.random() < 0.40 else (_FLAT if rng.random() < 0.70 else _DOWN)
    seat_growth = {_UP: 0.02 + 0.05 * rng.random(), _FLAT: 0.01 * rng.random() - 0.005,
                   _DOWN: -(0.01 + 0.03 * rng.random())}[trend]
    usage_growth = {_UP: 0.03 + 0.12 * rng.random(), _FLAT: 0.02 * rng.random() - 0.01,
                    _DOWN: -(0.02 + 0.05 * rng.random())}[trend]
    if trend == _UP and rng.random() < 0.15:
        usage_growth = 0.20 + 0.10 * rng.random()  # a surge: usage velocity territory
    level = {_UP: 0.45 + 0.35 * rng.random(), _FLAT: 0.45 + 0.45 * rng.random(),
             _DOWN: 0.55 + 0.40 * rng.random()}[trend]
    health_mean = min(95.0, max(45.0, rng.gauss(79.0 + (4 if trend == _UP else 0)
                                                - (8 if trend == _DOWN else 0), 9.0)))
    dept = 1 + int(rng.random() * (1 + plan))
    return SimulatedAccount(
        account_id=f"HIS-{index + 1:04d}",
        name=f"{_STEMS[int(rng.random() * len(_STEMS))]} "
        f"{_KINDS[int(rng.random() * len(_KINDS))]}",
        owner=_OWNERS[int(rng.random() * len(_OWNERS))],
        plan=plan,
        since=since,
        seats=seats,
        active=max(1.0, seats * level),
        seat_growth=seat_growth,
        limit=limit,
        usage=limit * (0.25 + 0.5 * rng.random()),
        usage_growth=usage_growth,
        trend=trend,
        contact_rate=0.35 + 0.6 * rng.random(),
        health=health_mean + rng.gauss(0, 4),
        health_mean=health_mean,
        dept_purchase=dept,
        dept_active=dept,
        power_users=0 if rng.random() < 0.5 else 1 + int(rng.random() * 3),
        headcount=rng.gauss(0.02, 0.04),
        milestone_on=None if rng.random() < 0.3 or since > start - timedelta(days=90)
        else since + timedelta(days=60),
    )


def day_in(rng: random.Random, after: date, until: date) -> date:
    """A random day in ``(after, until]``."""
    span = max(1, (until - after).days)
    return after + timedelta(days=1 + int(rng.random() * span))


def advance_month(rng: random.Random, acc: SimulatedAccount, before: date, today: date) -> None:
    """Advance ``acc`` from ``before`` to ``today`` (one month).

    One function on purpose: every draw comes from ``rng`` in this order (the seed's
    output depends on it), so the month reads as one sequence of events."""
    rand = rng.random
    # Effects of deals that closed in this month: the account gets what it bought.
    for deal in [d for d in acc.pending if d.closed_on <= today]:
        acc.pending.remove(deal)
        if deal.outcome != "won":
            continue
        acc.won_until = deal.closed_on + timedelta(days=90)
        if deal.upsell_type == "seat":
            acc.seats = int(acc.seats * (1.25 + 0.2 * rand())) + 1
        elif deal.upsell_type == "plan" and acc.plan < len(PLANS) - 1:
            acc.plan += 1
            acc.limit = PLANS[acc.plan][4]
        elif deal.upsell_type == "plan":
            acc.limit = int(acc.limit * 1.5)
        else:
            acc.gaps, acc.gaps_on = [], None
        acc.gated = []
    onboarding = (today - acc.since).days <= 30
    acc.active = min(float(acc.seats), max(1.0, acc.active * (1 + acc.seat_growth
                                                               + rng.gauss(0, 0.015))))
    acc.seat_hist = [*acc.seat_hist, int(acc.active + 0.5)][-6:]
    acc.usage = min(acc.limit * 1.15, max(0.0, acc.usage * (1 + acc.usage_growth
                                                             + rng.gauss(0, 0.03))))
    acc.usage_hist = [*acc.usage_hist, int(acc.usage / 100 + 0.5) * 100][-6:]
    pressure = max(acc.active / acc.seats, acc.usage / acc.limit)
    if rand() < 0.06 + (0.35 if pressure > 0.8 else 0.0) + (0.08 if acc.trend == _UP else 0):
        attempts = 1 + int(rand() ** 2 * 4)
        recent = max(before, today - timedelta(days=20))
        acc.gated += sorted(day_in(rng, recent, today) for _ in range(attempts))
    acc.gated = [d for d in acc.gated if (today - d).days <= 60]
    if acc.trend == _UP and not onboarding and rand() < 0.04:
        acc.dept_active += 1
    if acc.trend == _UP and rand() < 0.10:
        acc.power_users += 1
    elif acc.trend == _DOWN and acc.power_users and rand() < 0.10:
        acc.power_users -= 1
    acc.health_before = [*acc.health_before, acc.health][-2:]
    acc.health = min(99.0, max(20.0, acc.health + 0.25 * (acc.health_mean - acc.health)
                               + rng.gauss(0, 3.5)))
    if acc.milestone_on is None and (today - acc.since).days > 45 and rand() < 0.12:
        acc.milestone_on = day_in(rng, before, today)
    if rand() < acc.contact_rate:
        acc.champion_last = day_in(rng, before, today)
    if not onboarding and rand() < 0.008:
        acc.champion_changed = day_in(rng, before, today)
    if rand() < 0.006:
        acc.funding_on = day_in(rng, before, today)
        acc.headcount += 0.25
    acc.headcount = 0.6 * acc.headcount + 0.4 * rng.gauss(0.02, 0.04)
    tickets = []
    for _ in range(int(rand() * 3)):
        level = rand()
        low_health = acc.health < 65
        tickets.append("P1" if level < 0.01 else "P2" if level < (0.08 if low_health else 0.03)
                       else "P3" if level < 0.55 else "P4")
    acc.tickets = tickets
    if not onboarding and rand() < 0.22:
        score = int(min(10, max(0, rng.gauss((acc.health - 20) / 7, 1.5))))
        acc.nps = (score, day_in(rng, before, today))
    renewal = next_renewal(acc.since, today)
    acc.competitor = (renewal - today).days < 120 and acc.health < 68 and rand() < 0.3
    if not onboarding and rand() < 0.004 + (0.015 if acc.health < 60 else 0.0):
        acc.downgrade_on = day_in(rng, before, today)
    if rand() < 0.05:
        acc.gaps = sorted({ADDONS[int(rand() * len(ADDONS))] for _ in range(1 + (rand() < .3))})
        acc.gaps_on = day_in(rng, before, today)
    if acc.gaps_on is not None and (today - acc.gaps_on).days > 150:
        acc.gaps, acc.gaps_on = [], None
    dropped = len(acc.health_before) == 2 and acc.health < acc.health_before[0] - 7
    if dropped or (acc.trend == _DOWN and rand() < 0.15):
        acc.engagement = "declining"
    elif acc.trend == _UP and rand() < 0.7:
        acc.engagement = "growing"
    else:
        acc.engagement = "stable"


def next_renewal(since: date, today: date) -> date:
    """The first contract anniversary on or after ``today``."""
    years = max(1, today.year - since.year - 1)
    while add_months(since, 12 * years) < today:
        years += 1
    return add_months(since, 12 * years)


def snapshot_record(acc: SimulatedAccount, today: date) -> dict[str, Any]:
    """The account as a snapshot record (contract order, missing values left out)."""
    renewal = next_renewal(acc.since, today)
    previous = add_months(renewal, -12)
    record: dict[str, Any] = {
        "snapshot_date": today.isoformat(),
        "account_id": acc.account_id,
        "account_name": acc.name,
        "plan": PLANS[acc.plan][0],
        "owner": acc.owner,
        "arr": acc.arr,
        "customer_since": acc.since.isoformat(),
        "seats_licensed": acc.seats,
        "seats_active_history": list(acc.seat_hist),
        "usage_limit": acc.limit,
        "usage_history": list(acc.usage_hist),
        "gated_feature_attempts": [d.isoformat() for d in acc.gated],
        "departments_active": acc.dept_active,
        "departments_at_purchase": acc.dept_purchase,
        "power_users": acc.power_users,
        "health_score": round(acc.health),
        "success_milestone_on": acc.milestone_on.isoformat() if acc.milestone_on else None,
        "champion_last_engaged_on": acc.champion_last.isoformat() if acc.champion_last
        else None,
        "champion_changed_on": acc.champion_changed.isoformat() if acc.champion_changed
        else None,
        "renewal_date": renewal.isoformat(),
        "last_renewal_date": previous.isoformat() if previous > acc.since else None,
        "funding_announced_on": acc.funding_on.isoformat() if acc.funding_on else None,
        "headcount_growth_90d": round(acc.headcount, 3),
        "open_ticket_priorities": list(acc.tickets),
        "nps_score": acc.nps[0] if acc.nps else None,
        "nps_responded_on": acc.nps[1].isoformat() if acc.nps else None,
        "competitor_evaluation": acc.competitor,
        "downgrade_requested_on": acc.downgrade_on.isoformat() if acc.downgrade_on else None,
        "named_gaps": list(acc.gaps),
        "named_gaps_on": acc.gaps_on.isoformat() if acc.gaps_on else None,
        "engagement_trend": acc.engagement,
    }
    # A milestone the simulation dated after this snapshot is not known yet.
    if acc.milestone_on is not None and acc.milestone_on > today:
        record["success_milestone_on"] = None
    return {k: v for k, v in record.items() if v is not None and v != []}
