"""Deterministic synthetic accounts in data contract v1, for benchmarks and tests.

:func:`generate_accounts` yields plausible B2B SaaS accounts: a plan with a matching seat
count and ARR, seat and metered-usage histories that trend up, stay flat or decline, a
health score mostly between 55 and 95, renewals spread over the coming year, and red flags
(open P1/P2 tickets, detractor NPS responses, competitor evaluations, downgrade requests,
declining engagement) at low rates. Optional fields are left out at realistic rates, and
event fields (funding, champion change, downgrade, named gaps) appear only for the
accounts where the event happened. Scored with the default ruleset, most accounts land in
*monitor* or *wait* and a small share in *act now*.

The output depends only on ``n``, ``seed`` and ``as_of``: every draw comes from one
``random.Random(seed)``, never from the global generator or the clock, so the same
arguments give the same accounts on every machine and Python version that keeps
``random.Random``'s documented reproducibility.

:func:`write_jsonl` and :func:`write_csv` write records in the contract's file formats.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

from upsell_rules.io.contract import CONTRACT_FIELDS

__all__ = ["CONTRACT_FIELDS", "generate_accounts", "write_csv", "write_jsonl"]



class _Plan(NamedTuple):
    """What a plan tier looks like: seats, price per seat, metered limit, departments."""

    name: str
    share: float  # cumulative share of the customer base, for one uniform draw
    seats_min: int
    seats_max: int
    seat_price: float  # USD per seat per year
    usage_limit: int  # metered units per billing cycle
    departments_max: int  # departments at purchase, at most


# Cumulative shares: 30% Starter, 35% Team, 25% Business, 10% Enterprise.
_PLANS: tuple[_Plan, ...] = (
    _Plan("Starter", 0.30, 5, 15, 480.0, 50_000, 1),
    _Plan("Team", 0.65, 10, 50, 600.0, 250_000, 2),
    _Plan("Business", 0.90, 40, 200, 650.0, 1_000_000, 3),
    _Plan("Enterprise", 1.00, 150, 500, 500.0, 5_000_000, 6),
)


def _names(text: str) -> tuple[str, ...]:
    """Split a comma-separated block of names (line breaks allowed) into a tuple."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


_NAME_STEMS: tuple[str, ...] = _names(
    """
    Amberline, Ashgrove, Bellwether, Birchfield, Bluestone, Brightmoor, Calloway,
    Cedarbrook, Clearwater, Cobalt, Copperfield, Crestview, Driftwood, Eastbrook,
    Elmhurst, Evergreen, Fairhaven, Fernwood, Foxhollow, Glenrock, Goldcrest, Granite,
    Greenhaven, Harbor, Hawthorne, Highland, Ironwood, Juniper, Keystone, Lakemont,
    Larkspur, Lighthouse, Maplewood, Meadowlark, Millstone, Northfield, Oakridge,
    Orchard, Pinecrest, Quarry, Redwood, Ridgeway, Riverbend, Rosewood, Sagebrush,
    Silverpine, Stonebridge, Summit, Tamarack, Thistle, Timberline, Westfield,
    Willowbrook, Windmere
    """
)
_NAME_KINDS: tuple[str, ...] = _names(
    """
    Analytics, Architects, Biotech, Capital, Clinics, Consulting, Dental Group, Energy,
    Engineering, Foods, Freight, Health, Hospitality, Insurance, Labs, Learning, Legal,
    Logistics, Manufacturing, Media, Partners, Payments, Property, Realty, Retail,
    Robotics, Security, Software, Staffing, Studios, Systems, Telecom, Travel,
    Ventures
    """
)
_OWNERS: tuple[str, ...] = _names(
    """
    Priya Raman, Marcus Bell, Elena Sokolova, Daniel Okafor, Hannah Lindqvist,
    Tomas Ortega, Grace Whitfield, Kenji Watanabe, Amara Nwosu, Lucas Ferreira,
    Sofia Marchetti, Owen Gallagher
    """
)
_ADDONS: tuple[str, ...] = _names(
    """
    sso, audit_log, advanced_reporting, api_capacity, premium_support, data_export,
    sandbox, white_label, workflow_automation, integrations_pack
    """
)

# Trends shared by the seat and usage histories.
_UP, _FLAT, _DOWN = 0, 1, 2

# The furthest a generated date lies from the as-of date, in days either way.
_MAX_DAYS_BACK = 2400
_MAX_DAYS_AHEAD = 400


def _iso_dates(as_of: date) -> list[str]:
    """ISO strings for every date from ``_MAX_DAYS_BACK`` before to ``_MAX_DAYS_AHEAD`` after.

    Index ``_MAX_DAYS_BACK`` is the as-of date itself. Formatting dates is the slowest
    part of generating an account, so each one is formatted once per call.
    """
    start = as_of - timedelta(days=_MAX_DAYS_BACK)
    return [
        (start + timedelta(days=offset)).isoformat()
        for offset in range(_MAX_DAYS_BACK + _MAX_DAYS_AHEAD + 1)
    ]


def generate_accounts(n: int, seed: int, as_of: date) -> Iterator[dict[str, Any]]:
    """Yield ``n`` synthetic accounts, a pure function of ``n``, ``seed`` and ``as_of``.

    Each record is a JSON-ready dict in data contract v1: keys in contract order, dates as
    ISO strings, lists as lists, and missing values left out (never ``None``, never an
    empty list). Account ids are ``SYN-0000001``, ``SYN-0000002``, ... in order, so they
    are unique within one call.

    Raises :class:`ValueError` at once for a negative ``n``.
    """
    if n < 0:
        raise ValueError(f"n must be zero or more, got {n}")
    return _generate(n, random.Random(seed), _iso_dates(as_of))


def _generate(n: int, rng: random.Random, iso: list[str]) -> Iterator[dict[str, Any]]:
    """The generator behind :func:`generate_accounts` (arguments already checked)."""
    for index in range(n):
        yield _account(rng, iso, index)


def _account(rng: random.Random, iso: list[str], index: int) -> dict[str, Any]:
    """Draw one account.

    The draw order is fixed, which keeps the output reproducible, and fields are added in
    contract order, so the dict needs no reordering. ``iso[today - d]`` is the date ``d``
    days ago and ``iso[today + d]`` the date ``d`` days ahead.
    One function on purpose: the draws must stay in this order (the seed's output
    depends on it), and the sections below read in that order.
    """
    rand = rng.random
    today = _MAX_DAYS_BACK

    # --- who: plan, size, price -------------------------------------------------------
    draw = rand()
    plan = _PLANS[-1]
    for candidate in _PLANS:
        if draw < candidate.share:
            plan = candidate
            break
    # Smaller accounts are more common within a plan: square a uniform draw.
    seats = plan.seats_min + int(rand() ** 2 * (plan.seats_max - plan.seats_min + 1))
    arr = min(250_000, max(3_000, int(round(seats * plan.seat_price * (0.85 + 0.3 * rand()), -2))))
    tenure = _tenure_days(rand())
    onboarding = tenure <= 30
    trend = _trend(rand())

    record: dict[str, Any] = {
        "account_id": f"SYN-{index + 1:07d}",
        "account_name": (
            f"{_NAME_STEMS[int(rand() * len(_NAME_STEMS))]} "
            f"{_NAME_KINDS[int(rand() * len(_NAME_KINDS))]}"
        ),
    }
    if rand() >= 0.03:
        record["plan"] = plan.name
    owner = _OWNERS[int(rand() * len(_OWNERS))]
    if rand() >= 0.05:
        record["owner"] = owner
    if rand() >= 0.05:
        record["arr"] = arr
    if rand() >= 0.05:
        record["customer_since"] = iso[today - tenure]

    # --- product: seats, metered usage, gated features, spread, power users -----------
    cycles = 1 if onboarding else min(3 + int(rand() * 6), max(1, tenure // 30))
    if rand() >= 0.06:
        record["seats_licensed"] = seats
    if rand() >= 0.08:
        record["seats_active_history"] = _seat_history(rand, seats, cycles, trend)
    if rand() >= 0.15:
        usage_trend = trend if rand() < 0.7 else _trend(rand())
        record["usage_limit"] = plan.usage_limit
        record["usage_history"] = _usage_history(rand, plan.usage_limit, cycles, usage_trend)
    if rand() < (0.28 if trend == _UP else 0.12):
        span = min(45, tenure) + 1
        ages = sorted((int(rand() * span) for _ in range(1 + int(rand() ** 2 * 4))), reverse=True)
        record["gated_feature_attempts"] = [iso[today - age] for age in ages]
    if rand() >= 0.12:
        at_purchase = 1 + int(rand() * plan.departments_max)
        spread = rand()
        added = 0 if spread < 0.88 or onboarding else (1 if spread < 0.97 else 2)
        record["departments_active"] = at_purchase + added
        record["departments_at_purchase"] = at_purchase
    if rand() >= 0.15:
        power = 0 if rand() < 0.55 else 1 + int(rand() * min(12, max(1, seats // 25)))
        record["power_users"] = power

    # --- relationship: health, milestone, champion -----------------------------------
    trend_bias = 4.0 if trend == _UP else (-6.0 if trend == _DOWN else 0.0)
    health = round(min(100.0, max(15.0, rng.gauss(77.0 + trend_bias, 11.0))))
    if rand() >= 0.05:
        record["health_score"] = health
    if not onboarding and rand() < 0.76:
        record["success_milestone_on"] = iso[today - 7 - int(rand() * min(tenure - 11, 714))]
    if rand() >= 0.07:
        record["champion_last_engaged_on"] = iso[today - min(tenure, int(rng.expovariate(0.04)))]
    if not onboarding and rand() < 0.10:
        record["champion_changed_on"] = iso[today - 5 - int(rand() * min(tenure - 4, 696))]

    # --- commercial: annual contracts renewing on the customer_since anniversary --------
    since_last = tenure % 365
    if rand() >= 0.06:
        record["renewal_date"] = iso[today + 365 - since_last]
    if tenure >= 365 and rand() >= 0.10:
        record["last_renewal_date"] = iso[today - since_last]
    if rand() < 0.06:
        record["funding_announced_on"] = iso[today - int(rand() * 721)]
    if rand() >= 0.25:
        # Most headcounts drift; about one in twenty grows fast (15-45% in 90 days).
        growth = 0.15 + 0.30 * rand() if rand() < 0.05 else max(-0.30, rng.gauss(0.02, 0.05))
        record["headcount_growth_90d"] = round(growth, 3)

    # --- risk: tickets, NPS, competitors, downgrades, gaps, engagement ----------------
    tickets = _tickets(rand)
    if tickets and rand() >= 0.08:
        record["open_ticket_priorities"] = tickets
    if not onboarding and rand() < 0.60:
        record["nps_score"] = _nps(rand())
        record["nps_responded_on"] = iso[today - int(rand() * (min(tenure, 365) + 1))]
    if rand() >= 0.12:
        record["competitor_evaluation"] = rand() < 0.03
    if not onboarding and rand() < 0.03:
        record["downgrade_requested_on"] = iso[today - int(rand() * (min(tenure, 540) + 1))]
    if rand() < 0.09:
        wanted = [_ADDONS[int(rand() * len(_ADDONS))]]
        if rand() < 0.3:
            other = _ADDONS[int(rand() * len(_ADDONS))]
            if other not in wanted:
                wanted.append(other)
        record["named_gaps"] = wanted
        if rand() >= 0.15:
            record["named_gaps_on"] = iso[today - int(rand() * (min(tenure, 90) + 1))]
    if rand() >= 0.15:
        record["engagement_trend"] = _engagement(rand(), trend)
    return record


def _tenure_days(draw: float) -> int:
    """Days as a customer: 3% onboarding (<= 30 d), 12% in the first half year, rest older."""
    if draw < 0.03:
        return 3 + int(draw / 0.03 * 28)
    if draw < 0.15:
        return 31 + int((draw - 0.03) / 0.12 * 150)
    return 181 + int((draw - 0.15) / 0.85 * 2000)


def _trend(draw: float) -> int:
    """Pick a usage trend: 35% growing, 45% flat, 20% declining."""
    if draw < 0.35:
        return _UP
    if draw < 0.80:
        return _FLAT
    return _DOWN


def _seat_history(rand: Callable[[], float], seats: int, cycles: int, trend: int) -> list[int]:
    """Active seats per cycle, oldest first, between 1 and the licensed count."""
    if trend == _UP:
        level, step = 0.30 + 0.45 * rand(), 0.015 + 0.055 * rand()
    elif trend == _FLAT:
        level, step = 0.35 + 0.50 * rand(), 0.02 * rand() - 0.01
    else:
        level, step = 0.50 + 0.40 * rand(), -(0.01 + 0.04 * rand())
    history: list[int] = []
    for cycle in range(cycles):
        active = int(seats * (level + step * cycle + 0.04 * rand() - 0.02) + 0.5)
        history.append(seats if active > seats else (active if active > 1 else 1))
    return history


def _usage_history(rand: Callable[[], float], limit: int, cycles: int, trend: int) -> list[int]:
    """Metered usage per cycle, oldest first; may run up to 15% over the limit (overage).

    Usage is reported in whole hundreds of units, as billing exports usually round it.
    """
    if trend == _UP:
        share, factor = 0.12 + 0.48 * rand(), 1.03 + 0.19 * rand()
    elif trend == _FLAT:
        share, factor = 0.15 + 0.60 * rand(), 0.98 + 0.05 * rand()
    else:
        share, factor = 0.30 + 0.55 * rand(), 0.90 + 0.08 * rand()
    hundreds = limit / 100
    ceiling = int(hundreds * 1.15) * 100
    history: list[int] = []
    for _ in range(cycles):
        used = int(hundreds * share * (0.97 + 0.06 * rand()) + 0.5) * 100
        history.append(ceiling if used > ceiling else used)
        share *= factor
    return history


def _tickets(rand: Callable[[], float]) -> list[str]:
    """Open ticket priorities: most accounts have none; P1 and P2 are rare."""
    draw = rand()
    count = 0 if draw < 0.45 else 1 if draw < 0.75 else 2 if draw < 0.90 else 3
    priorities: list[str] = []
    for _ in range(count):
        level = rand()
        if level < 0.015:
            priorities.append("P1")
        elif level < 0.075:
            priorities.append("P2")
        elif level < 0.55:
            priorities.append("P3")
        else:
            priorities.append("P4")
    return priorities


def _nps(draw: float) -> int:
    """An NPS answer: about 20% detractors (0-6), 35% passives, 45% promoters."""
    if draw < 0.20:
        return int(draw / 0.20 * 7)
    if draw < 0.55:
        return 7 + int((draw - 0.20) / 0.35 * 2)
    return 9 + int((draw - 0.55) / 0.45 * 2)


def _engagement(draw: float, trend: int) -> str:
    """Engagement trend label, correlated with the usage trend."""
    growing, stable = {_UP: (0.60, 0.97), _FLAT: (0.15, 0.94), _DOWN: (0.05, 0.75)}[trend]
    if draw < growing:
        return "growing"
    if draw < stable:
        return "stable"
    return "declining"


# --- writers ------------------------------------------------------------------------


def write_jsonl(path: str | os.PathLike[str], records: Iterable[dict[str, Any]]) -> int:
    """Write ``records`` as JSON Lines (UTF-8, ``\\n`` endings); return how many were written.

    Keys are written in the order each record holds them (contract order for records from
    :func:`generate_accounts`).
    """
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False))
            handle.write("\n")
            count += 1
    return count


def write_csv(
    path: str | os.PathLike[str],
    records: Iterable[dict[str, Any]],
    columns: Sequence[str] = CONTRACT_FIELDS,
) -> int:
    """Write ``records`` as CSV; return how many rows were written.

    The header is ``columns`` in order (the data contract's fields by default). Lists are
    joined with ``|``, booleans are ``true``/``false``, and a missing value is an empty
    cell. Fields outside ``columns`` are ignored.
    """
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow([_csv_cell(record.get(column)) for column in columns])
            count += 1
    return count


def _csv_cell(value: Any) -> str:
    """One contract value as CSV cell text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "|".join(_csv_cell(item) for item in value)
    return str(value)
