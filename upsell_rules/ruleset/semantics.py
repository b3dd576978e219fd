"""Static checks on compiled rules: tiers that can never decide, conditions that never hold.

These are deliberately syntactic (no solver): a condition is unsatisfiable when its
top-level ``and`` bounds one signal to an empty range, and a tier is unreachable when
its score cannot beat the category default, or when another tier with at least the same
score matches whenever it does (its conditions are a subset of this tier's).
"""

from __future__ import annotations

import math
from typing import Any

from upsell_rules.errors import Diagnostic
from upsell_rules.expr.nodes import And, Bool, Compare, DateLit, Name, Node, Num
from upsell_rules.ruleset.model import Condition, Ruleset


def canonical(node: Node) -> Any:
    """A hashable form of a condition that ignores spans and whitespace."""
    if isinstance(node, Num | Bool | DateLit):
        return (type(node).__name__, node.value)
    fields: list[Any] = [type(node).__name__]
    for name, value in vars(node).items():
        if name == "span":
            continue
        if isinstance(value, tuple) and value and not isinstance(value[0], int | str):
            fields.append(tuple(canonical(v) for v in value))
        elif hasattr(value, "span"):
            fields.append(canonical(value))
        else:
            fields.append(value)
    return tuple(fields)


def conjuncts(node: Node) -> set[Any]:
    """The canonical forms of a condition's top-level ``and`` parts."""
    if isinstance(node, And):
        out: set[Any] = set()
        for item in node.items:
            out |= conjuncts(item)
        return out
    return {canonical(node)}


_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def unsatisfiable(node: Node) -> bool:
    """True when the top-level ``and`` bounds a signal to an empty range."""
    items = node.items if isinstance(node, And) else (node,)
    bounds: dict[str, list[float]] = {}
    strict: dict[str, list[bool]] = {}
    for item in items:
        if isinstance(item, Bool) and not item.value:
            return True
        if not isinstance(item, Compare):
            continue
        op, left, right = item.op, item.left, item.right
        if isinstance(left, Num) and isinstance(right, Name):
            op, left, right = _MIRROR[op], right, left  # type: ignore[assignment]
        if not (isinstance(left, Name) and isinstance(right, Num)):
            continue
        value = float(right.value)
        low, high = bounds.setdefault(left.name, [-math.inf, math.inf])
        low_strict, high_strict = strict.setdefault(left.name, [False, False])
        if op in (">", ">=", "==") and (value > low or (value == low and op == ">")):
            bounds[left.name][0] = value
            strict[left.name][0] = op == ">"
        if op in ("<", "<=", "==") and (value < high or (value == high and op == "<")):
            bounds[left.name][1] = value
            strict[left.name][1] = op == "<"
    for name, (low, high) in bounds.items():
        low_strict, high_strict = strict[name]
        if low > high or (low == high and (low_strict or high_strict)):
            return True
    return False


def unreachable_findings(ruleset: Ruleset) -> list[Diagnostic]:
    """Warnings for tiers that never decide a score and rules that can never fire."""
    findings: list[Diagnostic] = []
    for category in ruleset.categories:
        parts = [conjuncts(t.when.node) for t in category.tiers]
        for index, tier in enumerate(category.tiers):
            where = f"scoring.categories.{category.name}.tiers[{index}] ({tier.id})"
            if unsatisfiable(tier.when.node):
                findings.append(
                    Diagnostic(tier.when.location, "W122", f"{where}: condition can never hold")
                )
                continue
            if tier.score <= category.otherwise:
                findings.append(
                    Diagnostic(
                        tier.when.location,
                        "W122",
                        f"{where}: score {tier.score:g} cannot beat the category default "
                        f"{category.otherwise:g}, so this tier never decides",
                    )
                )
                continue
            for other_index, other in enumerate(category.tiers):
                if other_index == index:
                    continue
                same = parts[other_index] == parts[index]
                dominated = parts[other_index] <= parts[index] and (
                    other.score > tier.score
                    or (other.score == tier.score and (not same or other_index < index))
                )
                if dominated:
                    findings.append(
                        Diagnostic(
                            tier.when.location,
                            "W122",
                            f"{where}: unreachable: tier '{other.id}' (score "
                            f"{other.score:g}) matches whenever this one does",
                        )
                    )
                    break
    rules: list[tuple[str, Condition]] = [
        *((f"gates.{g.id}", g.require) for g in ruleset.gates),
        *((f"red_flags.{f.id}", f.when) for f in ruleset.red_flags),
        *((f"triggers.{t.id}", t.when) for t in ruleset.triggers),
    ]
    for where, cond in rules:
        if unsatisfiable(cond.node):
            findings.append(Diagnostic(cond.location, "W123", f"{where}: condition can never hold"))
    return findings
