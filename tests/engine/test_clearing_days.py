"""explain's clearing dates: deciding only on the days something can change finds exactly
the dates that deciding every day finds (the reference search, ``every=True``)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsell_rules.engine.clearing import HORIZON_DAYS, clearings
from upsell_rules.engine.clearing_days import ChangeDays
from upsell_rules.engine.derive import all_conditions
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.loader import load_ruleset

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 2)
RULESETS = sorted(p.name for p in (ROOT / "rulesets").glob("*.yaml")
                  if not p.name.endswith(".tests.yaml"))


@cache
def _setup(name: str) -> tuple[Evaluator, tuple[Account, ...]]:
    registry = default_registry()
    rules = load_ruleset(str(ROOT / "rulesets" / name), registry)
    reader = AccountReader(registry, rules.input_types())
    accounts = tuple(a for a in reader.read(str(ROOT / "samples" / "accounts.jsonl"))
                     if isinstance(a, Account))
    return Evaluator(rules, registry, "python"), accounts


def _moved(account: Account, shifts: list[int | None]) -> Account:
    """The account with each of its dates (and date lists) moved by the next shift, or
    left out when the shift is ``None``."""
    values: dict[str, Any] = {}
    moves = iter(shifts)
    for name, value in account.values.items():
        if isinstance(value, date) or (
                isinstance(value, list | tuple) and value and isinstance(value[0], date)):
            shift = next(moves, 0)
            if shift is None:
                continue
            step = timedelta(days=shift)
            value = value + step if isinstance(value, date) else [d + step for d in value]
        values[name] = value
    return dataclasses.replace(account, values=values)


def _both(evaluator: Evaluator, account: Account, as_of: date) -> None:
    decision = evaluator.decide(account, as_of)
    fast = clearings(evaluator, account, decision, as_of)
    assert fast == clearings(evaluator, account, decision, as_of, every=True)


@pytest.mark.parametrize("ruleset", RULESETS)
def test_the_bundled_rulesets_need_no_day_by_day_search(ruleset: str) -> None:
    evaluator, accounts = _setup(ruleset)
    for account in accounts:
        values = evaluator.signals(account, AS_OF)
        days = ChangeDays(evaluator, values, AS_OF, HORIZON_DAYS).of(
            all_conditions(evaluator.ruleset))
        assert days is not None
        assert len(days) < HORIZON_DAYS // 4


@pytest.mark.parametrize("ruleset", RULESETS)
def test_every_sample_account_gets_the_same_dates(ruleset: str) -> None:
    evaluator, accounts = _setup(ruleset)
    for account in accounts:
        _both(evaluator, account, AS_OF)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ruleset=st.sampled_from(RULESETS), index=st.integers(0, 10_000),
       shifts=st.lists(st.none() | st.integers(-500, 500), max_size=12),
       as_of=st.integers(-400, 400))
def test_generated_accounts_and_dates_get_the_same_dates(
    ruleset: str, index: int, shifts: list[int | None], as_of: int
) -> None:
    evaluator, accounts = _setup(ruleset)
    account = _moved(accounts[index % len(accounts)], shifts)
    _both(evaluator, account, AS_OF + timedelta(days=as_of))


def _without_time(registry: Registry, name: str) -> Registry:
    """A registry in which derivation ``name`` does not say how it moves with time."""
    quiet = dataclasses.replace(registry.derivations[name], over_time=None)
    return dataclasses.replace(registry, derivations={**registry.derivations, name: quiet})


def test_a_derivation_that_says_nothing_about_time_means_every_day() -> None:
    registry = _without_time(default_registry(), "days_since")
    rules = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"), registry)
    evaluator = Evaluator(rules, registry, "python")
    _, accounts = _setup("upsell_timing.yaml")
    for account in accounts[:20]:
        values = evaluator.signals(account, AS_OF)
        search = ChangeDays(evaluator, values, AS_OF, HORIZON_DAYS)
        assert search.of(all_conditions(rules)) is None
        _both(evaluator, account, AS_OF)
