"""Sample history with planted ground truth: monthly snapshots and deal outcomes.

:func:`generate_history` simulates ``accounts`` B2B SaaS accounts month by month: seats
and metered usage grow, stay flat or shrink; health drifts; milestones, champion
conversations, tickets, NPS answers, funding rounds, gap requests and downgrade requests
happen at plausible rates; annual contracts renew. On the first of every month a snapshot
is taken (data contract v1 plus ``snapshot_date``) and decided with the ruleset, exactly as
``upsell-rules backtest`` decides it.

After each snapshot a deal may open, more often in higher bands, and its outcome is drawn
from a **planted** win probability:

- ``truth="band"``: the probability depends only on the band of that snapshot
  (:data:`BAND_WIN_RATES`), so a correct backtest must report those rates back;
- ``truth="product"``: it depends mostly on the product category score
  (:data:`PRODUCT_TRUTH_WEIGHTS`), so calibration should raise the product weight.

Won deals change the account (more seats, a higher plan, the requested add-on), and churn
is lower in the 90 days after a won upsell than in the base, as a healthy programme's is.

Every draw comes from one ``random.Random(seed)``: the same arguments give the same files
on every machine, and nothing reads the clock.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.errors import Location
from upsell_rules.history.snapshots import SnapshotReader
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.io.synthetic import CONTRACT_FIELDS
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import RawRecord
from upsell_rules.ruleset.loader import load_ruleset

TRUTHS = ("band", "product")

#: Planted win probability by the band of the snapshot in force when the deal opened.
BAND_WIN_RATES: dict[str, float] = {"act_now": 0.55, "warming": 0.35, "monitor": 0.20,
                                    "wait": 0.10}
#: Chance that a deal opens in the month after a snapshot, by band (halved when blocked):
#: teams open more conversations where the signals are strong.
OPEN_RATES: dict[str, float] = {"act_now": 0.50, "warming": 0.30, "monitor": 0.15,
                                "wait": 0.07}
#: ``truth="product"``: win probability = 0.03 + 0.90 x (weighted category score / 10).
PRODUCT_TRUTH_WEIGHTS: dict[str, float] = {"product": 0.90, "relationship": 0.00,
                                           "commercial": 0.10}
PRODUCT_TRUTH_BASE, PRODUCT_TRUTH_SPAN = 0.03, 0.90
#: ``truth="product"``: chance that a deal opens after any snapshot.
PRODUCT_TRUTH_OPEN_RATE = 0.30
#: Monthly churn hazard, and its multiplier in the 90 days after a won upsell.
BASE_CHURN = 0.008
LOW_HEALTH_CHURN = 0.030
AFTER_UPSELL_CHURN_FACTOR = 0.4

SNAPSHOT_COLUMNS: tuple[str, ...] = ("snapshot_date", *CONTRACT_FIELDS)
OUTCOME_COLUMNS: tuple[str, ...] = ("deal_id", "account_id", "opened_on", "closed_on",
                                    "outcome", "upsell_type", "amount", "churned_on")

# (name, seats min, seats max, price per seat per year, metered limit per cycle)
_PLANS: tuple[tuple[str, int, int, float, int], ...] = (
    ("Starter", 5, 15, 480.0, 50_000),
    ("Team", 10, 50, 600.0, 250_000),
    ("Business", 40, 200, 650.0, 1_000_000),
    ("Enterprise", 150, 500, 500.0, 5_000_000),
)
_PLAN_SHARES = (0.30, 0.65, 0.90, 1.00)
_ADDONS = ("sso", "audit_log", "advanced_reporting", "data_export", "sandbox",
           "workflow_automation", "integrations_pack")
_OWNERS = ("Priya Raman", "Marcus Bell", "Elena Sokolova", "Daniel Okafor",
           "Hannah Lindqvist", "Tomas Ortega")
_STEMS = ("Alder", "Birch", "Cobalt", "Dune", "Ember", "Fjord", "Garnet", "Heron", "Iris",
          "Jasper", "Kestrel", "Linden", "Marble", "Nettle", "Onyx", "Pine", "Quartz",
          "Rowan", "Sable", "Thorn", "Umber", "Vale", "Willow", "Yarrow")
_KINDS = ("Analytics", "Biotech", "Clinics", "Freight", "Labs", "Legal", "Logistics",
          "Media", "Payments", "Retail", "Robotics", "Software", "Studios", "Travel")
_BURN_IN_MONTHS = 6
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
class _Deal:
    deal_id: str
    opened_on: date
    closed_on: date
    outcome: str
    upsell_type: str
    amount: int
    planted: float
    band: str


@dataclass
class _Account:
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
    pending: list[_Deal] = field(default_factory=list)

    @property
    def arr(self) -> int:
        price = _PLANS[self.plan][3]
        return int(round(self.seats * price, -2))


def _new_account(rng: random.Random, index: int, start: date) -> _Account:
    draw = rng.random()
    plan = next(i for i, share in enumerate(_PLAN_SHARES) if draw < share)
    _name, low, high, _price, limit = _PLANS[plan]
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
    return _Account(
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


def _day_in(rng: random.Random, after: date, until: date) -> date:
    """A random day in ``(after, until]``."""
    span = max(1, (until - after).days)
    return after + timedelta(days=1 + int(rng.random() * span))


def _step(rng: random.Random, acc: _Account, before: date, today: date) -> None:
    """Advance ``acc`` from ``before`` to ``today`` (one month)."""
    rand = rng.random
    # Effects of deals that closed in this month: the account gets what it bought.
    for deal in [d for d in acc.pending if d.closed_on <= today]:
        acc.pending.remove(deal)
        if deal.outcome != "won":
            continue
        acc.won_until = deal.closed_on + timedelta(days=90)
        if deal.upsell_type == "seat":
            acc.seats = int(acc.seats * (1.25 + 0.2 * rand())) + 1
        elif deal.upsell_type == "plan" and acc.plan < len(_PLANS) - 1:
            acc.plan += 1
            acc.limit = _PLANS[acc.plan][4]
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
        acc.gated += sorted(_day_in(rng, recent, today) for _ in range(attempts))
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
        acc.milestone_on = _day_in(rng, before, today)
    if rand() < acc.contact_rate:
        acc.champion_last = _day_in(rng, before, today)
    if not onboarding and rand() < 0.008:
        acc.champion_changed = _day_in(rng, before, today)
    if rand() < 0.006:
        acc.funding_on = _day_in(rng, before, today)
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
        acc.nps = (score, _day_in(rng, before, today))
    renewal = _next_renewal(acc.since, today)
    acc.competitor = (renewal - today).days < 120 and acc.health < 68 and rand() < 0.3
    if not onboarding and rand() < 0.004 + (0.015 if acc.health < 60 else 0.0):
        acc.downgrade_on = _day_in(rng, before, today)
    if rand() < 0.05:
        acc.gaps = sorted({_ADDONS[int(rand() * len(_ADDONS))] for _ in range(1 + (rand() < .3))})
        acc.gaps_on = _day_in(rng, before, today)
    if acc.gaps_on is not None and (today - acc.gaps_on).days > 150:
        acc.gaps, acc.gaps_on = [], None
    dropped = len(acc.health_before) == 2 and acc.health < acc.health_before[0] - 7
    if dropped or (acc.trend == _DOWN and rand() < 0.15):
        acc.engagement = "declining"
    elif acc.trend == _UP and rand() < 0.7:
        acc.engagement = "growing"
    else:
        acc.engagement = "stable"


def _next_renewal(since: date, today: date) -> date:
    """The first contract anniversary on or after ``today``."""
    years = max(1, today.year - since.year - 1)
    while add_months(since, 12 * years) < today:
        years += 1
    return add_months(since, 12 * years)


def _record(acc: _Account, today: date) -> dict[str, Any]:
    """The account as a snapshot record (contract order, missing values left out)."""
    renewal = _next_renewal(acc.since, today)
    previous = add_months(renewal, -12)
    record: dict[str, Any] = {
        "snapshot_date": today.isoformat(),
        "account_id": acc.account_id,
        "account_name": acc.name,
        "plan": _PLANS[acc.plan][0],
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


@dataclass
class History:
    """A generated history: snapshot records, outcome rows and the planted truth."""

    snapshots: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    truth: dict[str, Any]


def _upsell_type(rng: random.Random, decision: dict[str, Any]) -> str:
    for kind in decision["upsell_types"]:
        if kind in ("seat", "plan", "addon"):
            return str(kind)
    draw = rng.random()
    return "seat" if draw < 0.45 else ("plan" if draw < 0.80 else "addon")


def generate_history(
    accounts: int,
    seed: int,
    start: date = date(2025, 11, 1),
    months: int = 12,
    truth: str = "band",
    ruleset_path: str | None = None,
    registry: Registry | None = None,
    on_account: Callable[[], None] | None = None,
) -> History:
    """Simulate ``accounts`` accounts over ``months`` monthly snapshots from ``start``.

    Deterministic in all its arguments. ``ruleset_path`` (default: the bundled
    ``upsell_timing.yaml``) decides each snapshot; its bands must include the ids of
    :data:`BAND_WIN_RATES`. ``on_account`` is called as each account is done (a
    progress bar). Raises ValueError for an unknown ``truth`` or a count below 1.
    """
    if truth not in TRUTHS:
        raise ValueError(f"truth must be one of {', '.join(TRUTHS)}, got {truth!r}")
    if accounts < 1 or months < 1:
        raise ValueError("accounts and months must be at least 1")
    registry = registry or default_registry()
    if ruleset_path is None:
        from upsell_rules.ruleset.bundled import bundled_file

        ruleset_path = str(bundled_file("rulesets", "upsell_timing.yaml"))
    ruleset = load_ruleset(ruleset_path, registry)
    evaluator = Evaluator(ruleset, registry)
    reader = SnapshotReader(AccountReader(
        registry, ruleset.input_types()))
    rng = random.Random(seed)
    snapshots: list[dict[str, Any]] = []
    deals: list[tuple[_Account, _Deal]] = []
    dates = [add_months(start, m) for m in range(-_BURN_IN_MONTHS, months)]
    churn_until = add_months(dates[-1], 4)
    population = [_new_account(rng, i, start) for i in range(accounts)]
    deal_count = 0
    for acc in population:
        previous = dates[0] - timedelta(days=30)
        for today in dates:
            if today <= acc.since:
                previous = today
                continue
            _step(rng, acc, max(previous, acc.since), today)
            # Churn is simulated from the first snapshot on, so every churned account
            # has a history.
            if today >= start and _churns(rng, acc, previous, today):
                break
            previous = today
            if today < start:
                continue
            record = _record(acc, today)
            snapshots.append(record)
            decision = _decide(evaluator, reader, record, today)
            if acc.busy_until is not None and acc.busy_until >= today:
                continue
            if truth == "band":
                chance = OPEN_RATES.get(decision["band"], 0.1)
                chance *= 0.5 if decision["blocked"] else 1.0
            else:
                # Deals open whatever the ruleset says, so every product level is seen.
                chance = PRODUCT_TRUTH_OPEN_RATE
            if rng.random() >= chance:
                continue
            planted = _planted(truth, decision)
            deal_count += 1
            opened = today + timedelta(days=3 + int(rng.random() * 24))
            closed = opened + timedelta(days=14 + int(rng.random() * 47))
            won = rng.random() < planted
            outcome = "won" if won else ("lost" if rng.random() < 0.7 else "no_decision")
            kind = _upsell_type(rng, decision)
            share = {"seat": 0.25, "plan": 0.30, "addon": 0.12}[kind]
            deal = _Deal(f"D-{deal_count:05d}", opened, closed, outcome, kind,
                         int(round(acc.arr * share, -2)), planted, decision["band"])
            acc.pending.append(deal)
            acc.busy_until = closed
            deals.append((acc, deal))
        # Keep watching for churn after the last snapshot, so the 90 days after late
        # upsells are observed too.
        day = dates[-1]
        while acc.churned_on is None and day < churn_until:
            nxt = add_months(day, 1)
            _churns(rng, acc, day, nxt)
            day = nxt
        if on_account is not None:
            on_account()
    outcomes = _outcome_rows(population, deals, {r["account_id"] for r in snapshots})
    truth_block = _truth(truth, accounts, seed, start, months, ruleset, deals, churn_until)
    return History(snapshots, outcomes, truth_block)


def _churns(rng: random.Random, acc: _Account, before: date, today: date) -> bool:
    hazard = BASE_CHURN + (LOW_HEALTH_CHURN if acc.health < 60 else 0.0)
    if acc.won_until is not None and acc.won_until >= today:
        hazard *= AFTER_UPSELL_CHURN_FACTOR
    if acc.busy_until is not None and acc.busy_until >= today:
        return False
    if rng.random() < hazard:
        # After the last deal closed: a deal never churns before it opens or closes.
        after = before if acc.busy_until is None else max(before, acc.busy_until)
        acc.churned_on = _day_in(rng, after, today)
        return True
    return False


def _decide(
    evaluator: Evaluator, reader: SnapshotReader, record: dict[str, Any], today: date
) -> dict[str, Any]:
    """Decide a record through the same reader and filter the backtest uses."""
    raw = RawRecord(values=record, location=Location("<history>"))
    item = next(iter(reader.reader.coerce_record(raw, {})))
    if not isinstance(item, Account):
        raise ValueError(f"generated an invalid record: {item}")
    snapshot = reader.snapshot(item, today)
    return evaluator.decide(snapshot.account, today)


def _planted(truth: str, decision: dict[str, Any]) -> float:
    if truth == "band":
        return BAND_WIN_RATES.get(decision["band"], 0.1)
    scores = decision["category_scores"]
    index = sum(w * float(scores.get(name, 0.0)) for name, w in PRODUCT_TRUTH_WEIGHTS.items())
    return PRODUCT_TRUTH_BASE + PRODUCT_TRUTH_SPAN * index / 10


def _outcome_rows(
    population: list[_Account], deals: list[tuple[_Account, _Deal]], observed: set[str]
) -> list[dict[str, Any]]:
    """The outcomes file: one row per deal, then one per account that churned without one.

    An account that churned before its first snapshot (``observed`` holds the accounts
    with one) was never in the data: its churn row would be a fact about an account the
    snapshots never show, so it is left out.
    """
    rows: list[dict[str, Any]] = []
    with_deals: set[str] = set()
    for acc, deal in deals:
        with_deals.add(acc.account_id)
        row: dict[str, Any] = {
            "deal_id": deal.deal_id,
            "account_id": acc.account_id,
            "opened_on": deal.opened_on.isoformat(),
            "closed_on": deal.closed_on.isoformat(),
            "outcome": deal.outcome,
            "upsell_type": deal.upsell_type,
            "amount": deal.amount,
        }
        if acc.churned_on is not None:
            row["churned_on"] = acc.churned_on.isoformat()
        rows.append(row)
    for acc in population:
        if (acc.churned_on is not None and acc.account_id not in with_deals
                and acc.account_id in observed):
            rows.append({"account_id": acc.account_id, "churned_on": acc.churned_on.isoformat()})
    return rows


def _truth(
    truth: str,
    accounts: int,
    seed: int,
    start: date,
    months: int,
    ruleset: Any,
    deals: list[tuple[_Account, _Deal]],
    observed_until: date,
) -> dict[str, Any]:
    """What was planted, and the expected win rate of each group the backtest reports."""

    def expected(groups: Iterable[tuple[str, _Deal]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for key, deal in groups:
            entry = out.setdefault(key, {"deals": 0, "expected_win_rate": 0.0})
            entry["deals"] += 1
            entry["expected_win_rate"] += deal.planted
        for entry in out.values():
            entry["expected_win_rate"] = round(entry["expected_win_rate"] / entry["deals"], 4)
        return out

    return {
        "generator": "upsell_rules.history.sample_history",
        "seed": seed,
        "accounts": accounts,
        "start": start.isoformat(),
        "months": months,
        "truth": truth,
        "ruleset": {"name": ruleset.name, "version": ruleset.version},
        "band_win_rates": BAND_WIN_RATES if truth == "band" else None,
        "product_truth_weights": PRODUCT_TRUTH_WEIGHTS if truth == "product" else None,
        "open_rates": OPEN_RATES if truth == "band" else PRODUCT_TRUTH_OPEN_RATE,
        "churn": {"monthly_base": BASE_CHURN, "monthly_low_health_extra": LOW_HEALTH_CHURN,
                  "after_upsell_factor": AFTER_UPSELL_CHURN_FACTOR},
        "observed_until": observed_until.isoformat(),
        "by_band": expected((d.band, d) for _, d in deals),
        "by_upsell_type": expected((d.upsell_type, d) for _, d in deals),
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "|".join(_cell(v) for v in value)
    return str(value)


def write_csv(path: str | os.PathLike[str], rows: Iterable[dict[str, Any]],
              columns: tuple[str, ...]) -> int:
    """Write rows as CSV with ``columns`` as the header; return the row count."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
            count += 1
    return count


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON Lines; return the row count."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_history(history: History, directory: str | os.PathLike[str],
                  fmt: str = "csv") -> list[Path]:
    """Write ``snapshots.<fmt>``, ``outcomes.<fmt>`` and ``truth.json``; return the paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    snapshots = folder / f"snapshots.{fmt}"
    outcomes = folder / f"outcomes.{fmt}"
    if fmt == "csv":
        write_csv(snapshots, history.snapshots, SNAPSHOT_COLUMNS)
        write_csv(outcomes, history.outcomes, OUTCOME_COLUMNS)
    elif fmt == "jsonl":
        write_jsonl(snapshots, history.snapshots)
        write_jsonl(outcomes, history.outcomes)
    else:
        raise ValueError(f"format must be csv or jsonl, got {fmt!r}")
    truth = folder / "truth.json"
    truth.write_text(json.dumps(history.truth, indent=2) + "\n", encoding="utf-8")
    return [snapshots, outcomes, truth]
