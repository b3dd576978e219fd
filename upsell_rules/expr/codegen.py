"""Compile checked conditions into one Python predicate function.

Negations are pushed down to the leaves first (De Morgan, inverted comparisons), so every
leaf is a plain true/false test in which a missing value makes the leaf false. For
and/or trees without negation this is exactly the three-valued (SQL-like) semantics the
interpreter implements with "unknown counts as false" at the top.

The generated source is built only from our own AST: signal names are validated
identifiers, and literal values are emitted with ``repr`` of ints, floats, strings and
dates. No text from a ruleset ever reaches the compiler as code.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from upsell_rules.expr.interpret import interpreted_predicate
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
from upsell_rules.expr.runtime import guarded_call

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_FLIP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}

Predicate = Callable[[Mapping[str, Any]], tuple[bool, ...]]


def negate(node: Node) -> Node:
    """The negation of a condition, pushed down to its leaves."""
    if isinstance(node, Not):
        return node.operand
    if isinstance(node, And):
        return Or(tuple(negate(i) for i in node.items), node.span)
    if isinstance(node, Or):
        return And(tuple(negate(i) for i in node.items), node.span)
    if isinstance(node, Compare):
        return Compare(_FLIP[node.op], node.left, node.right, node.span)  # type: ignore[arg-type]
    if isinstance(node, In):
        return In(node.item, node.container, not node.negated, node.span)
    if isinstance(node, IsMissing):
        return IsMissing(node.operand, not node.negated, node.span)
    if isinstance(node, Bool):
        return Bool(not node.value, node.span)
    # A bare boolean name: "not flag" holds when flag is known to be false.
    return Compare("==", node, Bool(False, node.span), node.span)


def to_nnf(node: Node) -> Node:
    """Remove every :class:`Not` by pushing it to the leaves."""
    if isinstance(node, Not):
        return to_nnf(negate(to_nnf(node.operand)))
    if isinstance(node, And):
        return And(tuple(to_nnf(i) for i in node.items), node.span)
    if isinstance(node, Or):
        return Or(tuple(to_nnf(i) for i in node.items), node.span)
    return node


class _Emitter:
    def __init__(self, types: Mapping[str, str]) -> None:
        self.types = types
        self.names: dict[str, str] = {}
        self.consts: dict[str, Any] = {}
        self.temps = 0
        self._infinity: str | None = None

    def var(self, name: str) -> str:
        # The prefix keeps a signal named like a Python keyword (``from``) a valid local.
        if not _IDENT.match(name):
            raise ValueError(f"not an identifier: {name!r}")
        local = "v_" + name
        self.names[name] = local
        return local

    def infinity(self) -> str:
        """The constant holding ``math.inf`` (one per predicate)."""
        if self._infinity is None:
            self._infinity = self.const(math.inf)
        return self._infinity

    def const(self, value: Any) -> str:
        key = f"K{len(self.consts)}"
        self.consts[key] = value
        return key

    def literal(self, node: Node) -> str:
        if isinstance(node, Num):
            return repr(node.value)
        if isinstance(node, Str):
            return repr(node.value.casefold())
        if isinstance(node, Bool):
            return "True" if node.value else "False"
        if isinstance(node, DateLit):
            return self.const(node.value)
        raise ValueError(f"not a literal: {node!r}")

    def is_string(self, node: Node) -> bool:
        if isinstance(node, Str):
            return True
        if isinstance(node, Call):
            return node.function is not None and node.function.returns == "string"
        return isinstance(node, Name) and self.types.get(node.name) == "string"

    def argument(self, node: Node, guards: list[str]) -> str:
        """Python code for a call argument: like :meth:`value`, but text keeps its case
        (a function sees the values as they are)."""
        if isinstance(node, Str):
            return repr(node.value)
        if isinstance(node, Name):
            local = self.var(node.name)
            guards.append(f"{local} is not None")
            return local
        if isinstance(node, ListLit):
            return self.const(tuple(item.value for item in node.items))  # type: ignore[union-attr]
        return self.value(node, guards)

    def call(self, node: Call, guards: list[str]) -> str:
        """A call's value: computed once into a temporary, known when not ``None``."""
        function = node.function
        if function is None:
            raise ValueError(f"call to '{node.name}' was not checked")
        args = [self.argument(arg, guards) for arg in node.args]
        if function.needs_as_of:
            args.append("as_of=s.get('_as_of')")
        target = self.const(guarded_call(function))
        temp = f"c{self.temps}"
        self.temps += 1
        guards.append(f"({temp} := {target}({', '.join(args)})) is not None")
        return f"{temp}.casefold()" if function.returns == "string" else temp

    def value(self, node: Node, guards: list[str]) -> str:
        """Python code for a value; appends the conditions under which it is known."""
        if isinstance(node, LITERALS):
            return self.literal(node)
        if isinstance(node, Name):
            local = self.var(node.name)
            guards.append(f"{local} is not None")
            if self.types.get(node.name) == "string":
                return f"{local}.casefold()"
            return local
        if isinstance(node, Neg):
            return f"(-{self.value(node.operand, guards)})"
        if isinstance(node, Arith):
            left = self.value(node.left, guards)
            right = self.value(node.right, guards)
            if node.op == "/":
                guards.append(f"{right} != 0")
            # Computed once into a temporary, and known only when finite: an overflow
            # to inf (or inf - inf = nan) is missing, as in the interpreter.
            temp = f"a{self.temps}"
            self.temps += 1
            infinity = self.infinity()
            guards.append(f"-{infinity} < ({temp} := ({left} {node.op} {right})) < {infinity}")
            return temp
        if isinstance(node, ListLit):
            values: list[Any] = []
            for item in node.items:
                if isinstance(item, Str):
                    values.append(item.value.casefold())
                else:
                    values.append(item.value)  # type: ignore[union-attr]
            return self.const(frozenset(values))
        if isinstance(node, Call):
            return self.call(node, guards)
        # A condition used as a boolean value (e.g. "flag == (a > b)").
        # Known only when the condition or its negation holds (three-valued, like
        # the interpreter); otherwise the value is missing.
        nnf = to_nnf(node)
        positive = self.condition(nnf)
        negative = self.condition(to_nnf(negate(nnf)))
        guards.append(f"({positive} or {negative})")
        return f"({positive})"

    def condition(self, node: Node) -> str:
        """Python code for a condition in negation normal form."""
        if isinstance(node, And):
            return "(" + " and ".join(self.condition(i) for i in node.items) + ")"
        if isinstance(node, Or):
            return "(" + " or ".join(self.condition(i) for i in node.items) + ")"
        if isinstance(node, Bool):
            return "True" if node.value else "False"
        if isinstance(node, Name):
            return f"({self.var(node.name)} is True)"
        if isinstance(node, Call):
            call_guards: list[str] = []
            result = self.call(node, call_guards)
            return "(" + " and ".join([*call_guards, f"{result} is True"]) + ")"
        if isinstance(node, IsMissing):
            guards: list[str] = []
            self.value(node.operand, guards)
            known = " and ".join(guards) if guards else "True"
            return f"({known})" if node.negated else f"(not ({known}))"
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, In):
            return self.membership(node)
        if isinstance(node, Not):
            return self.condition(to_nnf(node))
        raise ValueError(f"not a condition: {node!r}")

    def compare(self, node: Compare) -> str:
        # Booleans compare by identity so that a missing value never equals False.
        if isinstance(node.right, Bool) and isinstance(node.left, Name):
            local = self.var(node.left.name)
            want = node.right.value if node.op == "==" else not node.right.value
            return f"({local} is {want})"
        if isinstance(node.left, Bool) and isinstance(node.right, Name):
            return self.compare(Compare(node.op, node.right, node.left, node.span))
        guards: list[str] = []
        left = self.value(node.left, guards)
        right = self.value(node.right, guards)
        test = f"{left} {node.op} {right}"
        return "(" + " and ".join([*guards, test]) + ")"

    def membership(self, node: In) -> str:
        guards: list[str] = []
        item = self.value(node.item, guards)
        container_is_signal = isinstance(node.container, Name | Call)
        container = self.value(node.container, guards)
        if container_is_signal and self.is_string(node.item):
            # List signals keep their original case; compare case-insensitively.
            container = f"[_x.casefold() for _x in {container}]"
        test = f"{item} {'not in' if node.negated else 'in'} {container}"
        return "(" + " and ".join([*guards, test]) + ")"


def generate_source(
    conditions: Sequence[Node], types: Mapping[str, str]
) -> tuple[str, dict[str, Any]]:
    """Python source of ``def predicate(s)`` returning one bool per condition."""
    emitter = _Emitter(types)
    bodies = [emitter.condition(to_nnf(c)) for c in conditions]
    lines = ["def predicate(s):"]
    for name, local in sorted(emitter.names.items()):
        lines.append(f"    {local} = s.get({name!r})")
    lines.append("    try:")
    if len(bodies) == 1:
        lines.append(f"        return ({bodies[0]},)")
    else:
        lines.append("        return (")
        lines.extend(f"            {body}," for body in bodies)
        lines.append("        )")
    # Integers too large for a float raise OverflowError when divided or mixed with a
    # fraction. That is rare enough to hand the whole account to the interpreter,
    # which treats such a value as missing; the try costs nothing when nothing raises.
    arithmetic_error = emitter.const(ArithmeticError)
    fallback = emitter.const(interpreted_predicate(conditions))
    lines.append(f"    except {arithmetic_error}:")
    lines.append(f"        return {fallback}(s)")
    return "\n".join(lines) + "\n", emitter.consts


def compile_predicate(conditions: Sequence[Node], types: Mapping[str, str]) -> Predicate:
    """Compile checked conditions into ``predicate(signals) -> tuple[bool, ...]``."""
    source, consts = generate_source(conditions, types)
    namespace: dict[str, Any] = {"__builtins__": {}, "datetime": datetime, **consts}
    code = compile(source, "<upsell-rules conditions>", "exec")
    exec(code, namespace)  # source generated from our AST only, see module docstring
    predicate: Predicate = namespace["predicate"]
    return predicate
