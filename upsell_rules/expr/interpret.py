"""A tree-walking, three-valued interpreter for conditions, with a trace.

``explain`` uses it to show every comparison with its actual values, and the test suite
uses it as the reference the compiled predicates must agree with. ``None`` is the third
truth value ("unknown": a signal it needs is missing); a condition whose result is unknown
does not hold.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from upsell_rules.expr.nodes import (
    LITERALS,
    And,
    Arith,
    Bool,
    Call,
    Compare,
    In,
    IsMissing,
    ListLit,
    Name,
    Neg,
    Node,
    Not,
    Or,
    Str,
)
from upsell_rules.expr.runtime import guarded_call


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
    if isinstance(node, LITERALS):
        return _fold(node.value)
    if isinstance(node, Name):
        value = signals.get(node.name)
        seen[node.name] = value
        return _fold(value)
    if isinstance(node, ListLit):
        return [_value(item, signals, seen) for item in node.items]
    if isinstance(node, Call):
        return _fold(_call(node, signals, seen))
    if isinstance(node, Neg):
        operand = _value(node.operand, signals, seen)
        return None if operand is None else -operand
    if isinstance(node, Arith):
        left = _value(node.left, signals, seen)
        right = _value(node.right, signals, seen)
        if left is None or right is None or (node.op == "/" and right == 0):
            return None
        try:
            result = _ARITH[node.op](left, right)
        except ArithmeticError:  # an integer too large for a float, divided or mixed
            return None
        # Overflow to inf, or inf - inf = nan, is not a number anyone can act on.
        return result if not isinstance(result, float) or math.isfinite(result) else None
    return _truth(node, signals, None, "")


def _argument(node: Node, signals: Mapping[str, Any], seen: dict[str, Any]) -> Any:
    """A call argument as the function sees it: text keeps its case."""
    if isinstance(node, Str):
        return node.value
    if isinstance(node, Name):
        value = signals.get(node.name)
        seen[node.name] = value
        return value
    if isinstance(node, ListLit):
        return tuple(item.value for item in node.items)  # type: ignore[union-attr]
    return _value(node, signals, seen)


def _call(node: Call, signals: Mapping[str, Any], seen: dict[str, Any]) -> Any:
    """A call's value; missing (``None``) when any argument is, without calling it."""
    function = node.function
    if function is None:
        raise ValueError(f"call to '{node.name}' was not checked")
    args = [_argument(arg, signals, seen) for arg in node.args]
    result = None
    if all(arg is not None for arg in args):
        call = guarded_call(function)
        kwargs = {"as_of": signals.get("_as_of")} if function.needs_as_of else {}
        result = call(*args, **kwargs)
    seen[f"{node.name}(...)"] = result
    return result


_ARITH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}

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
    elif isinstance(node, Call):
        value = _call(node, signals, seen)
        result = None if value is None else value is True
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


def truth(node: Node, signals: Mapping[str, Any]) -> bool | None:
    """The three-valued result of a condition: ``None`` when it cannot be decided."""
    return _truth(node, signals, None, "")


def value_of(node: Node, signals: Mapping[str, Any]) -> Any:
    """The value of an expression as conditions see it (text case-folded), or ``None``.

    Engines that cannot compute an expression themselves (arithmetic, calls) use this to
    precompute it, so its meaning is exactly the interpreter's.
    """
    return _value(node, signals, {})


def interpreted_predicate(
    conditions: Sequence[Node],
) -> Callable[[Mapping[str, Any]], tuple[bool, ...]]:
    """The reference interpreter as a predicate: one outcome per condition, in order."""
    nodes = tuple(conditions)

    def interpreted(signals: Mapping[str, Any]) -> tuple[bool, ...]:
        return tuple(holds(node, signals) for node in nodes)

    return interpreted
