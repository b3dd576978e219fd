"""When a block, a cap or a preparatory step clears, if nothing but the calendar moves.

The engine is asked how it would decide the same account on later dates: whatever the
ruleset says about time (a 90-day turnover window, a contract-long cap) is then read
exactly as the ruleset has it, with no second copy of those rules here. It is asked only
on the days on which some condition can change (:mod:`~upsell_rules.engine.clearing_days`
lists them), which finds the same dates as asking every day; when those days cannot be
known (a plugin's derivation that does not say how it moves with time) it asks every day.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, partial
from typing import Any

from upsell_rules.engine.clearing_days import ChangeDays
from upsell_rules.engine.evaluate import Evaluator, Outline
from upsell_rules.expr.interpret import evaluate
from upsell_rules.io.records import Account
from upsell_rules.ruleset.model import Condition, Ruleset

#: How far ahead to look for a date on which a rule stops holding.
HORIZON_DAYS = 730

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Clearing:
    """One rule that holds today and the first date it no longer would."""

    kind: str  # red_flag | gate | blocked | cap
    id: str
    clears_on: date | None  # None: time alone does not clear it within the horizon
    dates: dict[str, date]  # the account's own dates the rule reads, e.g. champion_changed_on
    #: For ``blocked``: what blocks the account during this spell.
    by: tuple[str, ...] = ()

    def sentence(self) -> str:
        """``red flag champion_turnover (champion_changed_on 2026-09-28): holds until
        2026-12-27, clears on 2026-12-28``."""
        what = {"red_flag": "red flag", "gate": "gate", "blocked": "outreach",
                "cap": "the cap"}[self.kind]
        label = f"{what} {self.id}" if self.kind in ("red_flag", "gate") else what
        if self.kind == "blocked" and self.clears_on is None:
            return (f"outreach: no open day in the next {HORIZON_DAYS} days if nothing else "
                    f"changes; from {self.id} it is blocked by {', '.join(self.by)}")
        seen = ", ".join(f"{name} {value.isoformat()}" for name, value in self.dates.items())
        if seen:
            label += f" ({seen})"
        verb = "fails" if self.kind == "gate" else "holds"
        if self.clears_on is None:
            return f"{label}: {verb} for as long as the data stays as it is"
        until = (self.clears_on - timedelta(days=1)).isoformat()
        if self.kind == "blocked":
            return f"{label}: blocked until {until}, open from {self.clears_on.isoformat()}"
        return f"{label}: {verb} until {until}, clears on {self.clears_on.isoformat()}"


def input_dates(ruleset: Ruleset, condition: Condition, account: Account) -> dict[str, date]:
    """The account's date fields a condition reads, directly or through derivations."""
    found: dict[str, date] = {}
    pending = [w for w in _WORD.findall(condition.source) if w in ruleset.signals]
    seen: set[str] = set()
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        signal = ruleset.signals[name]
        if signal.is_input:
            value = account.values.get(name)
            if isinstance(value, date):
                found[name] = value
            continue
        refs = [v for v in _flat(signal.params) if isinstance(v, str) and v in ruleset.signals]
        if signal.when is not None:
            refs += [w for w in _WORD.findall(signal.when.source) if w in ruleset.signals]
        pending.extend(refs)
    return found


def _flat(params: Any) -> list[Any]:
    if isinstance(params, dict):
        return [v for value in params.values() for v in _flat(value)]
    if isinstance(params, list | tuple):
        return [v for value in params for v in _flat(value)]
    return [params]


def _first_day(check: Callable[[date], bool], days: Sequence[date]) -> date | None:
    for day in days:
        if check(day):
            return day
    return None


def every_day(as_of: date) -> list[date]:
    """Each day of the horizon after ``as_of``: the search with nothing skipped."""
    return [as_of + timedelta(days=offset) for offset in range(1, HORIZON_DAYS + 1)]


def clearings(
    evaluator: Evaluator, account: Account, decision: dict[str, Any], as_of: date,
    *, every: bool = False,
) -> list[Clearing]:
    """For every rule that holds the account back today, when it would stop.

    The account is decided again only on the days on which a condition it depends on can
    change (:class:`~upsell_rules.engine.clearing_days.ChangeDays`; every day when they
    cannot be known, or with ``every``): the dates found are those of deciding every day.
    """
    rs = evaluator.ruleset
    search = ChangeDays(evaluator, evaluator.signals(account, as_of), as_of, HORIZON_DAYS)

    def days(conditions: list[Condition]) -> list[date]:
        found = None if every else search.of(conditions)
        return every_day(as_of) if found is None else found

    # Each day is decided once, however many of the searches below ask about it.
    day_signals = cache(partial(evaluator.signals, account))
    decided = cache(partial(evaluator.outline_on, account))
    out: list[Clearing] = []

    def holds_is(cond: Condition, wanted: bool, day: date) -> bool:
        result, _trace = evaluate(cond.node, day_signals(day), cond.source)
        return (result is True) is wanted

    fired = {f["id"] for f in decision["red_flags"]}
    for flag in rs.red_flags:
        if flag.id in fired:
            day = _first_day(partial(holds_is, flag.when, False), days([flag.when]))
            out.append(Clearing("red_flag", flag.id, day, input_dates(rs, flag.when, account)))
    failed = {g["id"] for g in decision["gates"] if not g["passed"]}
    for gate in rs.gates:
        if gate.id in failed:
            day = _first_day(partial(holds_is, gate.require, True), days([gate.require]))
            out.append(Clearing("gate", gate.id, day, input_dates(rs, gate.require, account)))
    if decision["blocked"]:
        # What blocks is each blocking flag and hard gate on its own outcome.
        blocking = [*(f.when for f in rs.red_flags if f.effect == "block"),
                    *(g.require for g in rs.gates if g.severity == "hard")]
        out.append(_blocked_spell(decided, decision, as_of, days(blocking)))
    if decision["capped_at"] is not None:
        # The cap lowers the score while the raw score (the tiers) is above it.
        scoring = [*(t.when for c in rs.categories for t in c.tiers),
                   *(f.when for f in rs.red_flags if f.effect == "cap")]
        day = _first_day(lambda d: decided(d).capped_at is None, days(scoring))
        dates: dict[str, date] = {}
        for flag in rs.red_flags:
            if flag.effect == "cap":
                dates.update(input_dates(rs, flag.when, account))
        out.append(Clearing("cap", "", day, dates))
    return out


def _blockers(red_flags: Sequence[dict[str, Any]], gates: Sequence[dict[str, Any]]
              ) -> tuple[str, ...]:
    flags = [f["id"] for f in red_flags if f["effect"] == "block"]
    failed = [g["id"] for g in gates if not g["passed"] and g.get("severity") == "hard"]
    return tuple(flags + failed)


def _blocked_spell(
    decided: Callable[[date], Outline], decision: dict[str, Any], as_of: date,
    days: Sequence[date],
) -> Clearing:
    """Outreach: the first open day, or, when time alone never opens it, the blocks that
    hold at the end of the horizon and since when (a turnover window can end after the
    champion has gone cold, for example)."""
    current = _blockers(decision["red_flags"], decision["gates"])
    since = as_of
    for day in days:
        plan = decided(day)
        now = _blockers(plan.red_flags, plan.gates)
        if not now:
            return Clearing("blocked", "", day, {}, current)
        if now != current:
            current, since = now, day
    return Clearing("blocked", since.isoformat(), None, {}, current)
