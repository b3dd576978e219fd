"""A tree-walking, three-valued interpreter for conditions, with a trace.

``explain`` uses it to show every comparison with its actual values, and the test suite
uses it as the reference the compiled predicates must agree with. ``None`` is the third
truth value ("unknown": a signal it needs is missing); a condition whose result is unknown
does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from upsell_rules.expr.nodes import (
    And,
    Arith,
    Bool,
    Compare,
    DateLit,
    In,
    IsMissing,
    ListLit,
    Name,
    Neg,
    Node,
    Not,
    Num,
    Or,
    Str,
)


@dataclass
class Step:
    """One leaf test: its source text, the values it saw, and its outcome."""

    text: str
    values: dict[str, Any]
    result: bool | None


@dataclass
class Trace:
    """Every leaf test evaluated, in order."""

    steps: list[Step] = field(default_factory=list)


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _value(node: Node, signals: Mapping[str, Any], seen: dict[str, Any]) -> Any:
    if isinstance(node, Num | Str | Bool | DateLit):
        return _fold(node.value)
    if isinstance(node, Name):
        value = signals.get(node.name)
        seen[node.name] = value
        return _fold(value)
    if isinstance(node, ListLit):
        return [_value(item, signals, seen) for item in node.items]
    if isinstance(node, Neg):
        operand = _value(node.operand, signals, seen)
        return None if operand is None else -operand
    if isinstance(node, Arith):
        left = _value(node.left, signals, seen)
        right = _value(node.right, signals, seen)
        if left is None or right is None:
            return None
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        return None if right == 0 else left / right
    return _truth(node, signals, None, "")


_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _truth(node: Node, signals: Mapping[str, Any], trace: Trace | None, text: str) -> bool | None:
    if isinstance(node, And):
        results = [_truth(i, signals, trace, text) for i in node.items]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    if isinstance(node, Or):
        results = [_truth(i, signals, trace, text) for i in node.items]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if isinstance(node, Not):
        inner = _truth(node.operand, signals, trace, text)
        return None if inner is None else not inner
    seen: dict[str, Any] = {}
    result: bool | None
    if isinstance(node, Bool):
        result = node.value
    elif isinstance(node, Name):
        value = signals.get(node.name)
        seen[node.name] = value
        result = None if value is None else bool(value)
    elif isinstance(node, IsMissing):
        present = _value(node.operand, signals, seen) is not None
        result = present if node.negated else not present
    elif isinstance(node, Compare):
        left = _value(node.left, signals, seen)
        right = _value(node.right, signals, seen)
        result = None if left is None or right is None else bool(_OPS[node.op](left, right))
    elif isinstance(node, In):
        item = _value(node.item, signals, seen)
        container = _value(node.container, signals, seen)
        if item is None or container is None:
            result = None
        else:
            found = item in [_fold(c) for c in container]
            result = (not found) if node.negated else found
    else:
        raise ValueError(f"not a condition: {node!r}")
    if trace is not None:
        trace.steps.append(Step(text[node.span[0] : node.span[1]], seen, result))
    return result


def evaluate(node: Node, signals: Mapping[str, Any], text: str = "") -> tuple[bool | None, Trace]:
    """Evaluate a condition; return its three-valued result and the trace of leaf tests."""
    trace = Trace()
    return _truth(node, signals, trace, text), trace


def holds(node: Node, signals: Mapping[str, Any]) -> bool:
    """True only when the condition is known to hold."""
    return _truth(node, signals, None, "") is True
