"""When a block, a cap or a preparatory step clears, if nothing but the calendar moves.

The engine is asked, day by day, how it would decide the same account on later dates:
whatever the ruleset says about time (a 90-day turnover window, a contract-long cap) is
then read exactly as the ruleset has it, with no second copy of those rules here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from upsell_rules.engine.evaluate import Evaluator
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


def _first_day(check: Any, as_of: date) -> date | None:
    for offset in range(1, HORIZON_DAYS + 1):
        day = as_of + timedelta(days=offset)
        if check(day):
            return day
    return None


def clearings(
    evaluator: Evaluator, account: Account, decision: dict[str, Any], as_of: date
) -> list[Clearing]:
    """For every rule that holds the account back today, when it would stop."""
    rs = evaluator.ruleset
    out: list[Clearing] = []

    def holds(cond: Condition, day: date) -> bool:
        result, _trace = evaluate(cond.node, evaluator.signals(account, day), cond.source)
        return result is True

    fired = {f["id"] for f in decision["red_flags"]}
    for flag in rs.red_flags:
        if flag.id in fired:
            day = _first_day(lambda d, c=flag.when: not holds(c, d), as_of)
            out.append(Clearing("red_flag", flag.id, day, input_dates(rs, flag.when, account)))
    failed = {g["id"] for g in decision["gates"] if not g["passed"]}
    for gate in rs.gates:
        if gate.id in failed:
            day = _first_day(lambda d, c=gate.require: holds(c, d), as_of)
            out.append(Clearing("gate", gate.id, day, input_dates(rs, gate.require, account)))
    if decision["blocked"]:
        out.extend(_blocked_spells(evaluator, account, decision, as_of))
    if decision["capped_at"] is not None:
        day = _first_day(lambda d: evaluator.decide(account, d)["capped_at"] is None, as_of)
        dates: dict[str, date] = {}
        for flag in rs.red_flags:
            if flag.effect == "cap":
                dates.update(input_dates(rs, flag.when, account))
        out.append(Clearing("cap", "", day, dates))
    return out


def _blockers(decision: dict[str, Any]) -> tuple[str, ...]:
    flags = [f["id"] for f in decision["red_flags"] if f["effect"] == "block"]
    gates = [g["id"] for g in decision["gates"]
             if not g["passed"] and g.get("severity") == "hard"]
    return tuple(flags + gates)


def _blocked_spells(
    evaluator: Evaluator, account: Account, decision: dict[str, Any], as_of: date
) -> list[Clearing]:
    """Outreach: the first open day, or, when time alone never opens it, the blocks that
    hold at the end of the horizon and since when (a turnover window can end after the
    champion has gone cold, for example)."""
    current = _blockers(decision)
    since = as_of
    for offset in range(1, HORIZON_DAYS + 1):
        day = as_of + timedelta(days=offset)
        now = _blockers(evaluator.decide(account, day))
        if not now:
            return [Clearing("blocked", "", day, {}, current)]
        if now != current:
            current, since = now, day
    return [Clearing("blocked", since.isoformat(), None, {}, current)]
