"""Conditions in SQL, with the condition language's rules for missing values.

A missing value is ``NULL`` and SQL's three-valued logic is the language's: ``and``,
``or`` and ``not`` of an unknown are what the interpreter (``expr/interpret.py``) gives.
Where SQL differs, the compiler says it explicitly: division by zero is missing, text
is folded before it is compared, ``x in []`` is false, a call with a missing argument is
missing without calling anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from sqlglot import exp

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
from upsell_rules.sql.errors import NotCompilable
from upsell_rules.sql.lists import ListValue, contains
from upsell_rules.sql.values import any_of, case, dbl, fold, fold_text, is_null, lit, not_null

SqlValue = exp.Expr | ListValue


class Scope(Protocol):
    """What the condition compiler needs from the query being built."""

    dialect: str
    as_of: date

    def signal(self, name: str) -> Any:
        """The SQL value of a signal."""
        ...

    def type_of(self, name: str) -> str:
        """The declared type of a signal."""
        ...


_COMPARE = {
    "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE, "==": exp.EQ, "!=": exp.NEQ,
}
_ARITH = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}


def present(value: SqlValue) -> exp.Expr:
    """The condition under which a value is known."""
    return value.present() if isinstance(value, ListValue) else not_null(value)


class Conditions:
    """Compiles condition nodes against a scope of signals."""

    def __init__(self, scope: Scope, where: str = "") -> None:
        self.scope = scope
        self.where = where

    def truth(self, node: Node) -> exp.Expr:
        """The three-valued SQL boolean of a condition (``NULL``: unknown)."""
        if isinstance(node, And | Or):
            parts = [exp.paren(self.truth(item)) for item in node.items]
            joined: exp.Expr = parts[0]
            for part in parts[1:]:
                joined = (exp.And if isinstance(node, And) else exp.Or)(
                    this=joined, expression=part)
            return joined
        if isinstance(node, Not):
            return exp.Not(this=exp.paren(self.truth(node.operand)))
        if isinstance(node, Bool):
            return lit(node.value)
        if isinstance(node, Name | Call):
            value = self.value(node)
            assert not isinstance(value, ListValue)
            return value
        if isinstance(node, IsMissing):
            known = present(self.value(node.operand))
            return known if node.negated else exp.Not(this=exp.paren(known))
        if isinstance(node, Compare):
            left, right = self.value(node.left), self.value(node.right)
            assert not isinstance(left, ListValue) and not isinstance(right, ListValue)
            return _COMPARE[node.op](this=exp.paren(left), expression=exp.paren(right))
        if isinstance(node, In):
            return self._in(node)
        raise NotCompilable(f"not a condition: {node!r}")

    def _in(self, node: In) -> exp.Expr:
        item = self.value(node.item)
        assert not isinstance(item, ListValue)
        if isinstance(node.container, ListLit):
            folded = [lit(_folded(i.value)) for i in node.container.items  # type: ignore[union-attr]
                      ]
            if not folded:
                found: exp.Expr = case([(is_null(item), exp.null())], exp.false())
            else:
                found = exp.In(this=exp.paren(item), expressions=folded)
        else:
            container = self.value(node.container)
            if not isinstance(container, ListValue):
                raise NotCompilable(f"'in' needs a list on its right{self.where}")
            found = case([(is_null(item), exp.null())], contains(container, item))
        return exp.Not(this=exp.paren(found)) if node.negated else found

    def value(self, node: Node) -> SqlValue:
        """The value of an expression as conditions see it: text folded."""
        if isinstance(node, Num | Bool | DateLit):
            return lit(node.value)
        if isinstance(node, Str):
            return lit(fold_text(node.value))
        if isinstance(node, Name):
            return self._folded_signal(node.name)
        if isinstance(node, ListLit):
            raise NotCompilable(f"a list literal is only allowed after 'in'{self.where}")
        if isinstance(node, Call):
            value = self._call(node)
            returns = node.function.returns if node.function is not None else ""
            if returns == "string" and not isinstance(value, ListValue):
                return fold(value)
            if returns == "string_list" and isinstance(value, ListValue):
                return value.mapped(fold)
            return value
        if isinstance(node, Neg):
            operand = self.value(node.operand)
            assert not isinstance(operand, ListValue)
            return exp.Neg(this=exp.paren(operand))
        if isinstance(node, Arith):
            return self._arith(node)
        return self.truth(node)

    def _folded_signal(self, name: str) -> SqlValue:
        value: SqlValue = self.scope.signal(name)
        kind = self.scope.type_of(name)
        if kind == "string" and not isinstance(value, ListValue):
            return fold(value)
        if kind == "string_list" and isinstance(value, ListValue):
            return value.mapped(fold)
        return value

    def _arith(self, node: Arith) -> exp.Expr:
        left, right = self.value(node.left), self.value(node.right)
        assert not isinstance(left, ListValue) and not isinstance(right, ListValue)
        if node.op == "/":
            divided = exp.Div(this=dbl(exp.paren(left)), expression=dbl(exp.paren(right)))
            zero = exp.EQ(this=exp.paren(right), expression=lit(0))
            return case([(zero, exp.null())], divided)
        return _ARITH[node.op](this=exp.paren(left), expression=exp.paren(right))

    def _argument(self, node: Node) -> SqlValue:
        """A call argument as the function sees it: text keeps its case."""
        if isinstance(node, Str):
            return lit(node.value)
        if isinstance(node, Name):
            signal: SqlValue = self.scope.signal(node.name)
            return signal
        if isinstance(node, ListLit):
            return exp.Tuple(expressions=[lit(i.value) for i in node.items  # type: ignore[union-attr]
                                          ])
        return self.value(node)

    def _call(self, node: Call) -> SqlValue:
        function = node.function
        if function is None:
            raise NotCompilable(f"call to '{node.name}' was not checked")
        if function.sql is None:
            raise NotCompilable(
                f"function '{node.name}' (plugin '{function.plugin or 'unknown'}') has no SQL "
                f"form{self.where}"
            )
        args = [self._argument(arg) for arg in node.args]
        result: SqlValue = function.sql(args, self.scope)
        missing = [exp.Not(this=exp.paren(present(a))) for a, n in zip(args, node.args, strict=True)
                   if not isinstance(n, (*LITERALS, ListLit))]
        if not missing:
            return result
        if isinstance(result, ListValue):
            return ListValue(result.array, result.item, any_of(
                [m for m in (result.missing, *missing) if m is not None]))
        return case([(any_of(missing), exp.null())], result)


def _folded(value: Any) -> Any:
    return fold_text(value) if isinstance(value, str) else value


def compile_values(scope: Scope, nodes: Sequence[Node]) -> list[exp.Expr]:
    """Every condition's three-valued SQL boolean, in order."""
    compiler = Conditions(scope)
    return [compiler.truth(node) for node in nodes]
