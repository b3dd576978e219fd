"""The days on which a decision can change if nothing but the calendar moves.

``explain`` finds when a block or a cap clears by deciding the account again on later
days (:mod:`~upsell_rules.engine.clearing`). Between two days on which no condition of
the ruleset can change its outcome every decision is the same, so deciding only on the
days listed here (and the first day) finds exactly the dates a day-by-day search finds.

The days come from the ruleset's conditions and what each derivation declares about
time (``Derivation.over_time``): a day count such as ``days_since_x`` compared with a
number (``days_since_x <= 90`` can change only when the count reaches 90 or 91), and
the days a derivation names itself (a date leaving a 14-day window). Anything else that
could move with the calendar (a derivation that declares nothing, a function that reads
the date, a day count used in arithmetic or compared with another signal) makes
:meth:`ChangeDays.of` answer ``None``: decide every day.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from upsell_rules.engine.derive import all_conditions, resolved_params
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.expr import nodes as n
from upsell_rules.plugin.types import OverTime
from upsell_rules.ruleset.model import Condition, Ruleset


class Unknown(Exception):
    """Some value may move with the calendar in a way the ruleset does not declare."""


@dataclass
class Reads:
    """What one condition reads, as far as time goes (the same for every account).

    ``plain``: signals read as they are (any change of theirs may change the outcome);
    ``compared``: a signal compared with a number (``days_since_x <= 90``);
    ``missing``: a signal only tested for being missing. ``unknown``: something whose
    time behaviour is not known (a function reading the date), always.
    """

    plain: set[str] = field(default_factory=set)
    compared: set[tuple[str, int | Fraction]] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    unknown: bool = False

    def walk(self, node: n.Node, numbers: dict[str, Any]) -> None:
        """Add what ``node`` reads; ``numbers``: the ruleset's numeric constants."""
        if isinstance(node, n.LITERALS):
            return
        if isinstance(node, n.Name):
            if node.name.startswith("_"):
                self.unknown = True
            self.plain.add(node.name)
            return
        if isinstance(node, n.Compare):
            for side, other in ((node.left, node.right), (node.right, node.left)):
                number = _number(other, numbers)
                if isinstance(side, n.Name) and number is not None:
                    self.compared.add((side.name, number))
                    return
        if isinstance(node, n.IsMissing) and isinstance(node.operand, n.Name):
            self.missing.add(node.operand.name)
            return
        for child in self._children(node):
            self.walk(child, numbers)

    def _children(self, node: n.Node) -> tuple[n.Node, ...]:
        if isinstance(node, n.Call):
            if node.function is None or node.function.needs_as_of:
                self.unknown = True
            return node.args
        if isinstance(node, n.Arith | n.Compare):
            return (node.left, node.right)
        if isinstance(node, n.In):
            return (node.item, node.container)
        if isinstance(node, n.Neg | n.Not | n.IsMissing):
            return (node.operand,)
        if isinstance(node, n.ListLit | n.And | n.Or):
            return node.items
        self.unknown = True
        return ()


def _number(node: n.Node, numbers: dict[str, Any]) -> int | Fraction | None:
    """The number ``node`` stands for, exactly (a whole number as an ``int``): a literal
    or a constant of the ruleset."""
    if isinstance(node, n.Num):
        value: Any = node.value
    elif isinstance(node, n.Name):
        value = numbers.get(node.name)
    else:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return None
    exact = Fraction(value)
    return int(exact) if exact.denominator == 1 else exact


@dataclass
class _Plan:
    """A ruleset's conditions and derivations as the search reads them (built once)."""

    ruleset: Ruleset
    conditions: dict[int, Reads]  # by id() of the Condition
    derived: dict[str, tuple[OverTime | None, tuple[str, ...], dict[str, Any]]]


_PLANS: weakref.WeakKeyDictionary[Evaluator, _Plan] = weakref.WeakKeyDictionary()


def _plan(evaluator: Evaluator) -> _Plan:
    plan = _PLANS.get(evaluator)
    if plan is None or plan.ruleset is not evaluator.ruleset:
        rs, registry = evaluator.ruleset, evaluator.registry
        numbers = {k: v for k, v in rs.constants.items() if k not in rs.signals}
        conditions: dict[int, Reads] = {}
        named = [s.when for s in rs.signals.values() if s.when is not None]
        for cond in [*all_conditions(rs), *named]:
            reads = conditions[id(cond)] = Reads()
            reads.walk(cond.node, numbers)
        derived = {}
        for sig in rs.signals.values():
            if sig.derive is not None:
                derivation = registry.derivations[sig.derive]
                params = resolved_params(registry, sig)
                derived[sig.name] = (derivation.over_time, derivation.reads(params), params)
        plan = _PLANS[evaluator] = _Plan(rs, conditions, derived)
    return plan


@dataclass(frozen=True)
class Shape:
    """How a signal's value moves over the days searched.

    ``step`` +1 / -1: a whole number of days, one more / one less each day (``value``
    on the as-of date). Otherwise ``days``: the days on which it may differ from the day
    before (none: it stays as it is).
    """

    days: frozenset[int] = frozenset()  # offsets from the as-of date
    step: int = 0
    value: int = 0


FIXED = Shape()


class _Search:
    """The shapes of one account's signals, offsets 1..``horizon`` after ``as_of``."""

    def __init__(self, plan: _Plan, values: dict[str, Any], as_of: date, horizon: int
                 ) -> None:
        self.plan = plan
        self.values = values
        self.as_of = as_of
        self.horizon = horizon
        self.shapes: dict[str, Shape] = {}
        self.seen: dict[int, set[int]] = {}  # by id() of the Condition

    def shape(self, name: str) -> Shape:
        """How signal ``name`` moves (a constant, or a name no signal has: not at all)."""
        known = self.shapes.get(name)
        if known is None:
            known = self.shapes[name] = self._shape(name)
        return known

    def _shape(self, name: str) -> Shape:
        signal = self.plan.ruleset.signals.get(name)
        if signal is None:
            return FIXED
        if signal.when is not None:
            return Shape(frozenset(self.condition(signal.when)))
        if signal.derive is None:
            return FIXED
        over_time, reads, params = self.plan.derived[name]
        inputs = [self.shape(read) for read in reads]
        if over_time == "fixed":
            if any(s.step for s in inputs):
                raise Unknown(name)
            return Shape(frozenset().union(*(s.days for s in inputs)))
        if over_time is None or any(s != FIXED for s in inputs):
            raise Unknown(name)
        if over_time in ("days_since", "days_until"):
            value = self.values.get(name)
            if value is None:
                return FIXED
            if type(value) is not int:
                raise Unknown(name)
            return Shape(step=1 if over_time == "days_since" else -1, value=value)
        if isinstance(over_time, str):
            raise Unknown(name)
        try:
            listed = list(over_time(params, self.values))
        except Exception as exc:  # a plugin's bug: decide every day instead
            raise Unknown(name) from exc
        return Shape(frozenset(self._offsets(listed)))

    def _offsets(self, days: list[Any]) -> list[int]:
        out = []
        for day in days:
            if not isinstance(day, date):
                raise Unknown(repr(day))
            offset = (day - self.as_of).days
            if 1 <= offset <= self.horizon:
                out.append(offset)
        return out

    def condition(self, cond: Condition) -> set[int]:
        """The offsets on which ``cond``'s outcome may differ from the day before."""
        known = self.seen.get(id(cond))
        if known is None:
            known = self.seen[id(cond)] = self._condition(cond)
        return known

    def _condition(self, cond: Condition) -> set[int]:
        reads = self.plan.conditions[id(cond)]
        if reads.unknown:
            raise Unknown(cond.source)
        found: set[int] = set()
        for name in reads.plain:
            shape = self.shape(name)
            if shape.step:
                raise Unknown(name)  # a day count outside a comparison with a number
            found |= shape.days
        for name in reads.missing:
            found |= self.shape(name).days  # a day count is missing on every day or none
        for name, number in reads.compared:
            shape = self.shape(name)
            if not shape.step:
                found |= shape.days
                continue
            # count(o) = value + step * o passes the number between o - 1 and o.
            start = shape.step * (number - shape.value)
            found.update(range(max(1, math.ceil(start)),
                               min(self.horizon, math.floor(start + 1)) + 1))
        return found


class ChangeDays:
    """The days after ``as_of`` (up to ``horizon`` days) on which conditions' outcomes may
    differ from the day before, for one account.

    ``values``: the account's signals on ``as_of`` (:meth:`Evaluator.signals`).
    """

    def __init__(self, evaluator: Evaluator, values: dict[str, Any], as_of: date,
                 horizon: int) -> None:
        self._search = _Search(_plan(evaluator), values, as_of, horizon)

    def of(self, conditions: Sequence[Condition]) -> list[date] | None:
        """The days on which one of ``conditions`` may change, the first day always
        included; ``None`` when they cannot be known (decide every day)."""
        search = self._search
        offsets = {1}
        try:
            for cond in conditions:
                offsets |= search.condition(cond)
        except Unknown:
            return None
        return [search.as_of + timedelta(days=o) for o in sorted(offsets)]
