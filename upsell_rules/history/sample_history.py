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
from upsell_rules.history.simulated_accounts import (
    BURN_IN_MONTHS,
    SimulatedAccount,
    SimulatedDeal,
    add_months,
    advance_month,
    day_in,
    new_account,
    snapshot_record,
)
from upsell_rules.history.snapshots import SnapshotReader
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.io.synthetic import CONTRACT_FIELDS, write_csv, write_jsonl
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


@dataclass
class _Simulation:
    """What every simulated account shares: the draws, the calendar, the ruleset, the files."""

    truth: str
    start: date
    #: Burn-in months first, then one date per snapshot.
    dates: list[date]
    #: Churn is still watched for until this date, after the last snapshot.
    churn_until: date
    evaluator: Evaluator
    reader: SnapshotReader
    rng: random.Random
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    deals: list[tuple[SimulatedAccount, SimulatedDeal]] = field(default_factory=list)


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
        ruleset_path = _bundled_ruleset()
    ruleset = load_ruleset(ruleset_path, registry)
    dates = [add_months(start, m) for m in range(-BURN_IN_MONTHS, months)]
    sim = _Simulation(
        truth=truth,
        start=start,
        dates=dates,
        churn_until=add_months(dates[-1], 4),
        evaluator=Evaluator(ruleset, registry),
        reader=SnapshotReader(AccountReader(registry, ruleset.input_types())),
        rng=random.Random(seed),
    )
    population = [new_account(sim.rng, i, start) for i in range(accounts)]
    for acc in population:
        _live_through_snapshots(sim, acc)
        _watch_churn_after_snapshots(sim, acc)
        if on_account is not None:
            on_account()
    outcomes = _outcome_rows(population, sim.deals, {r["account_id"] for r in sim.snapshots})
    truth_block = _truth(truth, accounts, seed, start, months, ruleset, sim.deals,
                         sim.churn_until)
    return History(sim.snapshots, outcomes, truth_block)


def _bundled_ruleset() -> str:
    from upsell_rules.ruleset.bundled import bundled_file

    return str(bundled_file("rulesets", "upsell_timing.yaml"))


def _live_through_snapshots(sim: _Simulation, acc: SimulatedAccount) -> None:
    """Advance ``acc`` month by month; from ``sim.start`` on, snapshot and decide it, and
    perhaps open a deal. Stops at the month the account churns."""
    previous = sim.dates[0] - timedelta(days=30)
    for today in sim.dates:
        if today <= acc.since:
            previous = today
            continue
        advance_month(sim.rng, acc, max(previous, acc.since), today)
        # Churn is simulated from the first snapshot on, so every churned account
        # has a history.
        if today >= sim.start and _churns(sim.rng, acc, previous, today):
            return
        previous = today
        if today < sim.start:
            continue
        record = snapshot_record(acc, today)
        sim.snapshots.append(record)
        decision = _decide(sim.evaluator, sim.reader, record, today)
        if acc.busy_until is not None and acc.busy_until >= today:
            continue
        _maybe_open_deal(sim, acc, decision, today)


def _maybe_open_deal(
    sim: _Simulation, acc: SimulatedAccount, decision: dict[str, Any], today: date
) -> None:
    """Draw whether a deal opens after this snapshot and, if so, its dates and outcome."""
    if sim.truth == "band":
        chance = OPEN_RATES.get(decision["band"], 0.1)
        chance *= 0.5 if decision["blocked"] else 1.0
    else:
        # Deals open whatever the ruleset says, so every product level is seen.
        chance = PRODUCT_TRUTH_OPEN_RATE
    rng = sim.rng
    if rng.random() >= chance:
        return
    planted = _planted(sim.truth, decision)
    opened = today + timedelta(days=3 + int(rng.random() * 24))
    closed = opened + timedelta(days=14 + int(rng.random() * 47))
    won = rng.random() < planted
    outcome = "won" if won else ("lost" if rng.random() < 0.7 else "no_decision")
    kind = _upsell_type(rng, decision)
    share = {"seat": 0.25, "plan": 0.30, "addon": 0.12}[kind]
    deal = SimulatedDeal(f"D-{len(sim.deals) + 1:05d}", opened, closed, outcome, kind,
                         int(round(acc.arr * share, -2)), planted, decision["band"])
    acc.pending.append(deal)
    acc.busy_until = closed
    sim.deals.append((acc, deal))


def _watch_churn_after_snapshots(sim: _Simulation, acc: SimulatedAccount) -> None:
    """Keep watching for churn after the last snapshot, so the 90 days after late
    upsells are observed too."""
    day = sim.dates[-1]
    while acc.churned_on is None and day < sim.churn_until:
        following = add_months(day, 1)
        _churns(sim.rng, acc, day, following)
        day = following


def _churns(rng: random.Random, acc: SimulatedAccount, before: date, today: date) -> bool:
    hazard = BASE_CHURN + (LOW_HEALTH_CHURN if acc.health < 60 else 0.0)
    if acc.won_until is not None and acc.won_until >= today:
        hazard *= AFTER_UPSELL_CHURN_FACTOR
    if acc.busy_until is not None and acc.busy_until >= today:
        return False
    if rng.random() < hazard:
        # After the last deal closed: a deal never churns before it opens or closes.
        after = before if acc.busy_until is None else max(before, acc.busy_until)
        acc.churned_on = day_in(rng, after, today)
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
    population: list[SimulatedAccount],
    deals: list[tuple[SimulatedAccount, SimulatedDeal]],
    observed: set[str],
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
    deals: list[tuple[SimulatedAccount, SimulatedDeal]],
    observed_until: date,
) -> dict[str, Any]:
    """What was planted, and the expected win rate of each group the backtest reports."""

    def expected(groups: Iterable[tuple[str, SimulatedDeal]]) -> dict[str, dict[str, Any]]:
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
