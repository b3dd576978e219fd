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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from upsell_rules.engine.derive import resolved_params
from upsell_rules.expr.nodes import (
    LITERALS,
    And,
    Arith,
    Call,
    Compare,
    In,
    IsMissing,
    ListLit,
    Name,
    Neg,
    Node,
    Not,
    Num,
    Or,
)
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.model import Condition, Ruleset


class Unknown(Exception):
    """Some value may move with the calendar in a way the ruleset does not declare."""


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

    def __init__(self, ruleset: Ruleset, registry: Registry, values: dict[str, Any],
                 as_of: date, horizon: int) -> None:
        self.ruleset = ruleset
        self.registry = registry
        self.values = values
        self.as_of = as_of
        self.horizon = horizon
        self.shapes: dict[str, Shape] = {}

    def shape(self, name: str) -> Shape:
        """How signal ``name`` moves (a constant, or a name no signal has: not at all)."""
        known = self.shapes.get(name)
        if known is None:
            known = self.shapes[name] = self._shape(name)
        return known

    def _shape(self, name: str) -> Shape:
        signal = self.ruleset.signals.get(name)
        if signal is None:
            if name.startswith("_"):
                raise Unknown(name)
            return FIXED
        if signal.when is not None:
            return Shape(self.condition(signal.when.node))
        if signal.derive is None:
            return FIXED
        derivation = self.registry.derivations[signal.derive]
        params = resolved_params(self.registry, signal)
        inputs = [self.shape(read) for read in derivation.reads(params)]
        over_time = derivation.over_time
        if over_time == "fixed":
            if any(s.step for s in inputs):
                raise Unknown(name)
            return Shape(frozenset().union(*(s.days for s in inputs)))
        if any(s != FIXED for s in inputs) or over_time is None:
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

    def condition(self, node: Node) -> frozenset[int]:
        """The offsets on which ``node``'s value may differ from the day before."""
        if isinstance(node, LITERALS):
            return frozenset()
        if isinstance(node, Name):
            shape = self.shape(node.name)
            if shape.step:
                raise Unknown(node.name)  # a day count outside a comparison with a number
            return shape.days
        if isinstance(node, Compare):
            crossing = self._crossing(node.left, node.right)
            if crossing is None:
                crossing = self._crossing(node.right, node.left)
            if crossing is not None:
                return crossing
            return self.condition(node.left) | self.condition(node.right)
        if isinstance(node, IsMissing) and isinstance(node.operand, Name):
            # A day count is missing on every day or on none.
            shape = self.shape(node.operand.name)
            return frozenset() if shape.step else shape.days
        return frozenset().union(*(self.condition(child) for child in _children(node)))

    def _crossing(self, side: Node, other: Node) -> frozenset[int] | None:
        """For a day count compared with a number: the offsets where the outcome may flip
        (where the number lies between the count on the day before and on the day)."""
        number = self._number(other)
        if not isinstance(side, Name) or number is None:
            return None
        shape = self.shape(side.name)
        if not shape.step:
            return None
        # count(o) = value + step * o; it passes the number between o - 1 and o.
        start = shape.step * (Fraction(number) - shape.value)
        first, last = max(1, math.ceil(start)), min(self.horizon, math.floor(start + 1))
        return frozenset(range(first, last + 1))

    def _number(self, node: Node) -> int | float | None:
        """The number ``node`` stands for: a literal or a constant of the ruleset."""
        if isinstance(node, Num):
            value: Any = node.value
        elif isinstance(node, Name) and node.name not in self.ruleset.signals:
            value = self.ruleset.constants.get(node.name)
        else:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value if math.isfinite(value) else None


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Call):
        if node.function is None or node.function.needs_as_of:
            raise Unknown(node.name)
        return node.args
    if isinstance(node, Arith):
        return (node.left, node.right)
    if isinstance(node, In):
        return (node.item, node.container)
    if isinstance(node, Neg | Not | IsMissing):
        return (node.operand,)
    if isinstance(node, ListLit | And | Or):
        return node.items
    raise Unknown(type(node).__name__)


def all_conditions(ruleset: Ruleset) -> list[Condition]:
    """Every condition a decision reads (named conditions are read through these)."""
    return [
        *(t.when for c in ruleset.categories for t in c.tiers),
        *(g.require for g in ruleset.gates),
        *(f.when for f in ruleset.red_flags),
        *(t.when for t in ruleset.triggers),
        *(r.when for rules in ruleset.owners.values() for r in rules if r.when is not None),
    ]


class ChangeDays:
    """The days after ``as_of`` (up to ``horizon`` days) on which conditions' outcomes may
    differ from the day before, for one account.

    ``values``: the account's signals on ``as_of`` (:meth:`Evaluator.signals`).
    """

    def __init__(self, ruleset: Ruleset, registry: Registry, values: dict[str, Any],
                 as_of: date, horizon: int) -> None:
        self._search = _Search(ruleset, registry, values, as_of, horizon)

    def of(self, conditions: Sequence[Condition]) -> list[date] | None:
        """The days on which one of ``conditions`` may change, the first day always
        included; ``None`` when they cannot be known (decide every day)."""
        search = self._search
        offsets = {1}
        try:
            for cond in conditions:
                offsets |= search.condition(cond.node)
        except Unknown:
            return None
        return [search.as_of + timedelta(days=o) for o in sorted(offsets)]
