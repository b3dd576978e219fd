"""Unit checks on conditions: a fraction compared with a number meant as a percentage,
and the other way round.

``seat_utilization >= 85`` validates (the types fit) and then never fires, because the
signal is a fraction (0.85 is 85%). A comparison of a signal whose unit is a fraction or
ratio with a bare number above 1 is warning W260 at the condition, with the fix.
``health_score >= 75%`` is the mirror image: 75% is 0.75, and a score in points is
above that for almost every account. A signal with any other declared unit compared with
a percentage is warning W261.
"""

from __future__ import annotations

from collections.abc import Iterator

from upsell_rules.errors import Diagnostic
from upsell_rules.expr.nodes import And, Compare, Name, Neg, Node, Not, Num, Or
from upsell_rules.ruleset.model import Condition, Ruleset

#: Units that mean "a share of one": 0.85 is 85%.
FRACTION_UNITS = frozenset({"fraction", "ratio", "share", "percent", "%"})


def _conditions(rs: Ruleset) -> Iterator[tuple[str, Condition]]:
    for c in rs.categories:
        for t in c.tiers:
            yield f"scoring.categories.{c.name}.tiers.{t.id}", t.when
    for g in rs.gates:
        yield f"gates.{g.id}", g.require
    for f in rs.red_flags:
        yield f"red_flags.{f.id}", f.when
    for trigger in rs.triggers:
        yield f"triggers.{trigger.id}", trigger.when
    for name, sig in rs.signals.items():
        if sig.when is not None:
            yield f"signals.{name}", sig.when
    for group, rules in rs.owners.items():
        for rule in rules:
            if rule.when is not None:
                yield f"owners.{group}", rule.when


def _compares(node: Node) -> Iterator[Compare]:
    if isinstance(node, Compare):
        yield node
    elif isinstance(node, And | Or):
        for item in node.items:
            yield from _compares(item)
    elif isinstance(node, Not):
        yield from _compares(node.operand)


def _number(node: Node) -> float | None:
    if isinstance(node, Num) and not node.percent:
        return float(node.value)
    if isinstance(node, Neg):
        inner = _number(node.operand)
        return -inner if inner is not None else None
    return None


def _percent(node: Node) -> float | None:
    if isinstance(node, Num) and node.percent:
        return float(node.value)
    if isinstance(node, Neg):
        inner = _percent(node.operand)
        return -inner if inner is not None else None
    return None


def _counted_as_percent(where: str, name: str, unit: str, other: Node, cond: Condition
                        ) -> Diagnostic | None:
    """W261 when a signal in a counted unit is compared with a percentage literal."""
    share = _percent(other)
    if share is None:
        return None
    shown = f"{share * 100:.6g}"
    return Diagnostic(
        cond.location, "W261",
        f"{where}: {name} is counted in {unit}, compared with {shown}%, which is "
        f"{share:g}; write {shown} if you mean {shown} {unit}",
    )


def unit_findings(ruleset: Ruleset) -> list[Diagnostic]:
    """W260 for each fraction signal compared with a bare number above 1; W261 for each
    signal in another declared unit compared with a percentage."""
    units = {n: s.unit.strip().lower() for n, s in ruleset.signals.items()}
    out: list[Diagnostic] = []
    for where, cond in _conditions(ruleset):
        for compare in _compares(cond.node):
            for side, other in ((compare.left, compare.right), (compare.right, compare.left)):
                if not isinstance(side, Name) or not units.get(side.name):
                    continue
                if units[side.name] not in FRACTION_UNITS:
                    counted = _counted_as_percent(where, side.name, units[side.name], other,
                                                  cond)
                    out += [counted] if counted is not None else []
                    continue
                value = _number(other)
                if value is None or abs(value) <= 1:
                    continue
                out.append(Diagnostic(
                    cond.location, "W260",
                    f"{where}: {side.name} is a {units[side.name]} (0.85 is 85%), compared "
                    f"with {value:g}, which it never reaches; write {value:g}% "
                    f"(or {value / 100:g})",
                ))
    return out
