"""Translate checked conditions into durable-rules condition documents.

durable-rules matches facts (JSON objects) against conditions written as JSON documents
(what its ``m.x > 5`` DSL produces). This module turns each of our conditions into such
a document and says how to build the fact for an account. It never imports durable, so
the translation can be tested anywhere.

Three-valued logic without negation: for every condition we build two positive
formulas, ``T`` (the condition is known to hold) and ``F`` (it is known not to hold).
``not x`` swaps them, ``and``/``or`` combine them by De Morgan, and a leaf's ``F`` is the
leaf with its comparison flipped. durable never matches a test on a key the fact does
not have, and facts leave missing values out, so a leaf on a missing value is neither
``T`` nor ``F``: exactly "unknown", which does not hold.

What durable 2.0.28 cannot express faithfully is precomputed in Python, with the
reference interpreter's own functions, as *helper fields* on the fact:

- arithmetic, negation of a signal, and function calls (durable's ``$add``/``$mul``
  work on its own number type, and would not round like Python): helper *values*;
- ``is missing`` / ``is present``: a helper *boolean* (durable's ``$nex`` crashed the
  process in our tests when it decided a match);
- membership in a list *signal*, except a literal item found in it (``"P1" in
  tickets`` is durable's ``$iany``): durable's ``$iall`` does not hold for an empty list,
  where ``x not in []`` does, so the negative side is a helper *truth*;
- a comparison that is not ``==``/``!=`` between conditions used as values, and a
  condition that is a function call: a helper *truth* of the whole leaf.

Values are encoded so that durable's comparisons mean what Python's do: numbers become
fixed-width strings whose byte order is numeric order (durable's number parser rejects
plain JSON such as ``0.00001`` and ``1e-05``), dates become ISO strings (their byte
order is date order), text is case-folded (our string tests ignore case), booleans stay
JSON booleans. Each value type has its own prefix, so values of different types never
compare equal.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.expr.interpret import truth, value_of
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

#: A translated condition: a durable condition document, or a constant.
Formula = bool | dict[str, Any]

#: Every fact carries this key set to true, so a rule can match unconditionally.
ALWAYS = "c_"

_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
_FLIP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_CONDITIONS = (And, Or, Not, Compare, In, IsMissing)
_SIGN = 1 << 63
_ALL_BITS = (1 << 64) - 1


def encode(value: Any) -> Any:
    """A value as durable should see it (``None`` stays ``None``: leave the key out)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return "S" + value.casefold()
    if isinstance(value, date):
        return "D" + value.isoformat()
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return "S" + str(value).casefold()


def _number(value: float) -> str:
    # IEEE 754 bits, sign-adjusted, read as an unsigned integer grow with the number;
    # as 16 hex digits their byte order is numeric order. Python compares an int with
    # a float exactly; this goes through float, so ints beyond 2**53 may round.
    number = float(value)
    if number == 0:
        number = 0.0  # -0.0 == 0.0
    bits: int = struct.unpack(">Q", struct.pack(">d", number))[0]
    bits = bits ^ _ALL_BITS if bits & _SIGN else bits | _SIGN
    return f"N{bits:016x}"


@dataclass(frozen=True)
class Helper:
    """A field precomputed in Python: ``kind`` is value, truth or present."""

    key: str
    kind: str
    node: Node


@dataclass
class Translation:
    """Conditions as durable formulas, and what a fact for them must hold."""

    formulas: list[Formula]
    fields: dict[str, str] = field(default_factory=dict)  # signal name -> fact key
    helpers: list[Helper] = field(default_factory=list)

    def fact_builder(self) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        """A function from an account's signals to its fact (no ``id``/``sid`` yet)."""
        fields = tuple(self.fields.items())
        helpers = tuple(self.helpers)

        def build(signals: Mapping[str, Any]) -> dict[str, Any]:
            fact: dict[str, Any] = {ALWAYS: True}
            for name, key in fields:
                value = signals.get(name)
                if value is not None:
                    fact[key] = encode(value)
            for helper in helpers:
                if helper.kind == "present":
                    fact[helper.key] = value_of(helper.node, signals) is not None
                    continue
                if helper.kind == "truth":
                    result: Any = truth(helper.node, signals)
                else:
                    result = encode(value_of(helper.node, signals))
                if result is not None:
                    fact[helper.key] = result
            return fact

        return build


def translate(conditions: Sequence[Node], types: Mapping[str, str]) -> Translation:
    """Translate every condition (checked ASTs) into its ``T`` formula."""
    translator = _Translator(types)
    formulas = [translator.condition(node, True) for node in conditions]
    return Translation(formulas, translator.fields, translator.helpers)


def _all(items: list[Formula]) -> Formula:
    parts: list[dict[str, Any]] = []
    for item in items:
        if item is False:
            return False
        if item is True:
            continue
        assert isinstance(item, dict)
        parts.extend(item["$and"] if "$and" in item and len(item) == 1 else [item])
    if not parts:
        return True
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _any(items: list[Formula]) -> Formula:
    parts: list[dict[str, Any]] = []
    for item in items:
        if item is True:
            return True
        if item is False:
            continue
        assert isinstance(item, dict)
        parts.extend(item["$or"] if "$or" in item and len(item) == 1 else [item])
    if not parts:
        return False
    return parts[0] if len(parts) == 1 else {"$or": parts}


class _Translator:
    def __init__(self, types: Mapping[str, str]) -> None:
        self.types = types
        self.fields: dict[str, str] = {}
        self.helpers: list[Helper] = []
        self.sources: dict[str, Node] = {}  # fact key -> what it holds
        self.present: dict[str, str] = {}  # fact key -> key of its presence helper

    # --- operands -------------------------------------------------------------------

    def field_of(self, name: str) -> str:
        key = self.fields.get(name)
        if key is None:
            key = self.fields[name] = f"s_{len(self.fields)}"
            self.sources[key] = Name(name, (0, 0))
        return key

    def helper(self, kind: str, node: Node) -> str:
        key = f"h_{len(self.helpers)}"
        self.helpers.append(Helper(key, kind, node))
        self.sources[key] = node
        return key

    def presence(self, key: str) -> str:
        """A helper boolean: does the fact have ``key`` (a signal or a helper value)?"""
        found = self.present.get(key)
        if found is None:
            node = self.sources[key]
            found = self.present[key] = self.helper("present", node)
        return found

    def operand(self, node: Node) -> tuple[str, Any]:
        """``("lit", encoded)`` or ``("key", fact key)`` for a value."""
        if isinstance(node, Num | Str | Bool | DateLit):
            return "lit", encode(value_of(node, {}))
        if isinstance(node, Name):
            return "key", self.field_of(node.name)
        if _constant(node):
            # A constant expression such as -5 or 2 * 3: fold it now.
            return "lit", encode(value_of(node, {}))
        return "key", self.helper("value", node)

    # --- conditions -----------------------------------------------------------------

    def condition(self, node: Node, positive: bool) -> Formula:
        """``T`` (positive) or ``F`` of a condition."""
        if isinstance(node, And):
            parts = [self.condition(item, positive) for item in node.items]
            return _all(parts) if positive else _any(parts)
        if isinstance(node, Or):
            parts = [self.condition(item, positive) for item in node.items]
            return _any(parts) if positive else _all(parts)
        if isinstance(node, Not):
            return self.condition(node.operand, not positive)
        if isinstance(node, Bool):
            return node.value if positive else not node.value
        if isinstance(node, Name):
            return {self.field_of(node.name): positive}
        if isinstance(node, IsMissing):
            present = node.negated == positive
            return {self.helper("present", node.operand): present}
        if isinstance(node, Compare):
            return self.compare(node, positive)
        if isinstance(node, In):
            return self.membership(node, positive)
        return self.truth_helper(node, positive)

    def truth_helper(self, node: Node, positive: bool) -> Formula:
        return {self.helper("truth", node): positive}

    def compare(self, node: Compare, positive: bool) -> Formula:
        left, right = node.left, node.right
        if isinstance(left, _CONDITIONS) or isinstance(right, _CONDITIONS):
            if node.op not in ("==", "!="):
                return self.truth_helper(node, positive)
            lt, lf = self.boolean(left)
            rt, rf = self.boolean(right)
            same = _any([_all([lt, rt]), _all([lf, rf])])
            differ = _any([_all([lt, rf]), _all([lf, rt])])
            equal_wanted = (node.op == "==") == positive
            return same if equal_wanted else differ
        op = node.op if positive else _FLIP[node.op]
        lkind, lvalue = self.operand(left)
        rkind, rvalue = self.operand(right)
        if (lkind == "lit" and lvalue is None) or (rkind == "lit" and rvalue is None):
            return False  # a constant that is unknown itself, such as 1 / 0
        if lkind == "lit" and rkind == "lit":
            return truth(node, {}) is positive
        if lkind == "lit":
            lkind, lvalue, rkind, rvalue = rkind, rvalue, lkind, lvalue
            op = _MIRROR[op]
        if rkind == "key":
            # durable treats a missing right-hand key as a value (false == missing
            # holds), so both sides are checked for presence first.
            test = {lvalue: {"$m": rvalue}} if op == "==" else {_OPS[op]: {lvalue: {"$m": rvalue}}}
            return _all([{self.presence(lvalue): True}, {self.presence(rvalue): True}, test])
        if op == "==":
            return {lvalue: rvalue}
        return {_OPS[op]: {lvalue: rvalue}}

    def boolean(self, node: Node) -> tuple[Formula, Formula]:
        """(T, F) of a boolean-valued operand: a condition, a literal or a flag."""
        if isinstance(node, (*_CONDITIONS, Bool, Name)):
            return self.condition(node, True), self.condition(node, False)
        key = self.helper("value", node)
        return {key: True}, {key: False}

    def membership(self, node: In, positive: bool) -> Formula:
        # T of "x not in c" is F of "x in c", and the other way round.
        want_found = positive != node.negated
        item, container = node.item, node.container
        if isinstance(item, _CONDITIONS):
            return self.truth_helper(node, positive)
        if isinstance(container, ListLit):
            tests = [Compare("==", item, lit, node.span) for lit in container.items]
            if want_found:
                return _any([self.compare(test, True) for test in tests])
            if not tests:
                return {self.helper("present", item): True}
            return _all([self.compare(test, False) for test in tests])
        if (
            want_found
            and isinstance(item, Num | Str | Bool | DateLit)
            and isinstance(container, Name)
        ):
            key = self.field_of(container.name)
            return {"$iany": {key: {"$i": encode(value_of(item, {}))}}}
        found = In(item, container, False, node.span)
        return {self.helper("truth", found): want_found}


def _constant(node: Node) -> bool:
    """True for arithmetic on literals only (no signal, no function call)."""
    if isinstance(node, Num | Str | Bool | DateLit):
        return True
    if isinstance(node, Neg):
        return _constant(node.operand)
    if isinstance(node, Arith):
        return _constant(node.left) and _constant(node.right)
    return False
