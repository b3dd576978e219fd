"""Type checking of conditions against the ruleset's declared signals and constants.

The checker returns a possibly rewritten AST (a string literal compared with a date
signal becomes a date literal, constants become literals) and every problem found,
each with its 0-based offset in the condition text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from upsell_rules.errors import did_you_mean
from upsell_rules.expr.nodes import (
    LITERALS,
    And,
    Arith,
    Bool,
    Call,
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

if TYPE_CHECKING:
    from upsell_rules.plugin.types import Function

SCALARS = ("number", "boolean", "string", "date")


def base_type(signal_type: str) -> str:
    """Fold integer types into number: the language compares them alike."""
    return signal_type.replace("integer", "number")


#: How to turn a value of each type into a condition, for the E102 advice.
_EXAMPLES = {
    "number": "'>= 10'",
    "integer": "'>= 10'",
    "string": "'== \"value\"'",
    "date": "'is present', or compare it with a date",
    "number_list": "'is present', or count it with a function",
    "integer_list": "'is present', or count it with a function",
    "string_list": "'\"value\" in' the list",
    "date_list": "'is present', or count it with a function",
}


@dataclass(frozen=True)
class Problem:
    """A type or name error at ``offset`` in the condition text."""

    offset: int
    code: str
    message: str


def _literal_for(value: Any, span: tuple[int, int]) -> Node:
    if isinstance(value, bool):
        return Bool(value, span)
    if isinstance(value, int | float):
        return Num(value, span)
    return Str(str(value), span)


def _parse_date(text: str) -> date | None:
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class _Checker:
    def __init__(
        self,
        types: Mapping[str, str],
        constants: Mapping[str, Any],
        functions: Mapping[str, Function] | None = None,
    ) -> None:
        # Folded on lookup: a ruleset checks dozens of conditions against one mapping.
        self.types = types
        self.constants = constants
        self.functions = functions or {}
        self.problems: list[Problem] = []

    def fail(self, node: Node, code: str, message: str) -> None:
        self.problems.append(Problem(node.span[0], code, message))

    def value(self, node: Node) -> tuple[Node, str | None]:
        """Check a value expression; return the rewritten node and its type."""
        if isinstance(node, Num):
            return node, "number"
        if isinstance(node, Str):
            return node, "string"
        if isinstance(node, Bool):
            return node, "boolean"
        if isinstance(node, DateLit):
            return node, "date"
        if isinstance(node, Name):
            if node.name in self.constants:
                literal = _literal_for(self.constants[node.name], node.span)
                return self.value(literal)
            if node.name in self.types:
                return node, base_type(self.types[node.name])
            known = sorted([*self.types, *self.constants])
            self.fail(
                node,
                "E101",
                f"unknown signal '{node.name}'{did_you_mean(node.name, known)}",
            )
            return node, None
        if isinstance(node, ListLit):
            items: list[Node] = []
            kinds: set[str] = set()
            for item in node.items:
                checked, kind = self.value(item)
                if not isinstance(checked, LITERALS):
                    self.fail(item, "E102", "list items must be literal values or constants")
                items.append(checked)
                if kind:
                    kinds.add(kind)
            if len(kinds) > 1:
                self.fail(node, "E102", f"list mixes types: {', '.join(sorted(kinds))}")
                return replace(node, items=tuple(items)), None
            kind = next(iter(kinds), "string")
            return replace(node, items=tuple(items)), f"{kind}_list"
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Arith):
            left, lt = self.value(node.left)
            right, rt = self.value(node.right)
            for side, kind in ((node.left, lt), (node.right, rt)):
                if kind is not None and kind != "number":
                    self.fail(side, "E102", f"'{node.op}' needs numbers, got {kind}")
            return replace(node, left=left, right=right), "number"
        if isinstance(node, Neg):
            operand, kind = self.value(node.operand)
            if kind is not None and kind != "number":
                self.fail(node, "E102", f"'-' needs a number, got {kind}")
            return replace(node, operand=operand), "number"
        # A condition used where a value is expected: it is a boolean value.
        return self.condition(node), "boolean"

    def condition(self, node: Node) -> Node:
        """Check a node used as a condition (must be boolean)."""
        if isinstance(node, And | Or):
            return replace(node, items=tuple(self.condition(i) for i in node.items))
        if isinstance(node, Not):
            return replace(node, operand=self.condition(node.operand))
        if isinstance(node, IsMissing):
            operand, _ = self.value(node.operand)
            return replace(node, operand=operand)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, In):
            return self.membership(node)
        checked, kind = self.value(node)
        # A type that is not a signal type was already reported where it was declared.
        if kind is not None and kind != "boolean" and kind in _EXAMPLES:
            what = f"signal '{node.name}'" if isinstance(node, Name) else "this value"
            if isinstance(node, Call):
                what = f"'{node.name}(...)'"
            self.fail(
                node,
                "E102",
                f"{what} is a {kind}, not a condition: compare it (for example "
                f"{_EXAMPLES[kind]})",
            )
        return checked

    def call(self, node: Call) -> tuple[Node, str | None]:
        """Check a call: the function must be registered and its arguments fit it."""
        args: list[Node] = []
        kinds: list[str | None] = []
        for arg in node.args:
            checked, kind = self.value(arg)
            args.append(checked)
            kinds.append(kind)
        function = self.functions.get(node.name)
        if function is None:
            if node.name in self.types or node.name in self.constants:
                message = f"'{node.name}' is a signal or constant, not a function"
            elif self.functions:
                hint = did_you_mean(node.name, sorted(self.functions))
                message = f"unknown function '{node.name}'{hint}"
            else:
                message = f"unknown function '{node.name}' (no installed plugin provides functions)"
            self.fail(node, "E104", message)
            return replace(node, args=tuple(args)), None
        if len(args) != len(function.args):
            self.fail(
                node,
                "E104",
                f"'{node.name}' takes {len(function.args)} argument(s), got {len(args)} "
                f"({function.signature()})",
            )
            return replace(node, args=tuple(args)), base_type(function.returns)
        for index, wanted in enumerate(function.args):
            want = base_type(wanted)
            arg, kind = args[index], kinds[index]
            if want == "date" and isinstance(arg, Str):
                arg, kind = self._to_date(arg)
            elif want == "date_list" and isinstance(arg, ListLit):
                fixed = [self._to_date(i)[0] if isinstance(i, Str) else i for i in arg.items]
                arg, kind = replace(arg, items=tuple(fixed)), "date_list"
            args[index] = arg
            empty_list = isinstance(arg, ListLit) and not arg.items and want.endswith("_list")
            if kind is not None and kind != want and not empty_list:
                self.fail(
                    arg,
                    "E102",
                    f"argument {index + 1} of '{node.name}' must be {want}, got {kind} "
                    f"({function.signature()})",
                )
        return replace(node, args=tuple(args), function=function), base_type(function.returns)

    def compare(self, node: Compare) -> Node:
        left, lt = self.value(node.left)
        right, rt = self.value(node.right)
        # A string literal next to a date becomes a date literal.
        if lt == "date" and isinstance(right, Str):
            right, rt = self._to_date(right)
        elif rt == "date" and isinstance(left, Str):
            left, lt = self._to_date(left)
        if lt is not None and rt is not None:
            if lt != rt:
                self.fail(
                    node,
                    "E102",
                    f"type mismatch: cannot compare {lt} with {rt} "
                    f"('{_describe(node.left)}' {node.op} '{_describe(node.right)}')",
                )
            elif node.op not in ("==", "!=") and lt not in ("number", "date"):
                self.fail(node, "E102", f"'{node.op}' needs numbers or dates, got {lt}")
            elif lt.endswith("_list"):
                self.fail(node, "E102", f"cannot compare lists with '{node.op}'; use 'in'")
        return replace(node, left=left, right=right)

    def membership(self, node: In) -> Node:
        item, it = self.value(node.item)
        container, ct = self.value(node.container)
        if ct is not None and not ct.endswith("_list"):
            self.fail(node.container, "E102", f"'in' needs a list on the right, got {ct}")
        elif it is not None and ct is not None:
            element = ct[: -len("_list")]
            if element == "date" and isinstance(item, Str):
                item, it = self._to_date(item)
            if isinstance(container, ListLit) and element == "string" and it == "date":
                items = []
                for entry in container.items:
                    fixed = self._to_date(entry)[0] if isinstance(entry, Str) else entry
                    items.append(fixed)
                container = replace(container, items=tuple(items))
                element = "date"
            if it != element and container_has_items(container):
                self.fail(node, "E102", f"type mismatch: {it} 'in' a list of {element}")
        return replace(node, item=item, container=container)

    def _to_date(self, node: Str) -> tuple[Node, str | None]:
        parsed = _parse_date(node.value)
        if parsed is None:
            self.fail(node, "E102", f"'{node.value}' is not a date (expected YYYY-MM-DD)")
            return node, None
        return DateLit(parsed, node.span), "date"


def container_has_items(node: Node) -> bool:
    """False for an empty list literal (whose element type is unknown)."""
    return not (isinstance(node, ListLit) and not node.items)


def _describe(node: Node) -> str:
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Call):
        return f"{node.name}(...)"
    if isinstance(node, Num) and node.percent:
        return f"{node.value * 100:g}%"
    if isinstance(node, LITERALS):
        return str(node.value)
    return "expression"


def check(
    node: Node,
    types: Mapping[str, str],
    constants: Mapping[str, Any],
    functions: Mapping[str, Function] | None = None,
) -> tuple[Node, list[Problem]]:
    """Type-check a condition; return the rewritten AST and the problems found.

    ``functions`` are the registered expression functions calls may name; a checked
    :class:`~upsell_rules.expr.nodes.Call` carries its function.
    """
    checker = _Checker(types, constants, functions)
    checked = checker.condition(node)
    return checked, checker.problems
