"""SQL building blocks shared by the compiler and the plugins' SQL forms.

Every value is a SQLGlot expression. Numbers that are not whole become ``CAST(... AS
DOUBLE)`` (a bare ``0.8`` is a DECIMAL in most dialects, and decimal arithmetic would
not give the Python engine's float results); text compared in conditions is folded with
:func:`fold`, the SQL counterpart of ``str.casefold``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlglot import exp

DOUBLE = exp.DataType.build("DOUBLE")
BIGINT = exp.DataType.build("BIGINT")
DATE = exp.DataType.build("DATE")
TEXT = exp.DataType.build("VARCHAR")
BOOLEAN = exp.DataType.build("BOOLEAN")


def lit(value: Any) -> exp.Expr:
    """A literal for a Python value (``None`` is ``NULL``)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value) if value >= 0 else exp.Neg(
            this=exp.Literal.number(-value)
        )
    if isinstance(value, float):
        text = repr(abs(value))
        cast = exp.cast(exp.Literal.number(text), DOUBLE)
        return exp.Neg(this=exp.paren(cast)) if value < 0 or text == "-0.0" else cast
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), DATE)
    return exp.Literal.string(str(value))


def dbl(value: exp.Expr) -> exp.Expr:
    """``value`` as a DOUBLE (integer division and decimals would change results)."""
    return exp.cast(value, DOUBLE)


def fold(value: exp.Expr) -> exp.Expr:
    """Text folded for comparison: lower case, ``ß`` as ``ss`` (``str.casefold`` for
    the letters business data holds; other special foldings are not applied)."""
    lowered = exp.Lower(this=value)
    return exp.func("REPLACE", lowered, exp.Literal.string("ß"), exp.Literal.string("ss"))


def fold_text(text: str) -> str:
    """What :func:`fold` makes of a constant, computed at compile time."""
    return text.lower().replace("ß", "ss")


def case(
    whens: Sequence[tuple[exp.Expr, exp.Expr]], default: exp.Expr | None = None
) -> exp.Expr:
    """``CASE WHEN c1 THEN v1 ... ELSE default END`` (``default`` alone without whens)."""
    if not whens:
        return default if default is not None else exp.null()
    out = exp.Case()
    for condition, value in whens:
        out = out.when(condition, value)
    if default is not None:
        out = out.else_(default)
    return out


def is_null(value: exp.Expr) -> exp.Expr:
    """``value IS NULL``."""
    return exp.Is(this=value, expression=exp.null())


def not_null(value: exp.Expr) -> exp.Expr:
    """``value IS NOT NULL``."""
    return exp.Not(this=is_null(value))


def any_of(items: Sequence[exp.Expr]) -> exp.Expr:
    """``a OR b OR ...`` (``FALSE`` for none)."""
    if not items:
        return exp.false()
    out = items[0]
    for item in items[1:]:
        out = exp.Or(this=out, expression=item)
    return out


def all_of(items: Sequence[exp.Expr]) -> exp.Expr:
    """``a AND b AND ...`` (``TRUE`` for none)."""
    if not items:
        return exp.true()
    out = items[0]
    for item in items[1:]:
        out = exp.And(this=out, expression=item)
    return out


def holds(condition: exp.Expr) -> exp.Expr:
    """TRUE when the condition is known to hold, FALSE otherwise (unknown included)."""
    return exp.Coalesce(this=exp.paren(condition), expressions=[exp.false()])


def null_unless(present: exp.Expr, value: exp.Expr) -> exp.Expr:
    """``CASE WHEN present THEN value END``: missing unless ``present`` holds."""
    return exp.Case().when(present, value)


def days_between(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    """Whole days from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    return exp.DateDiff(this=end, expression=start, unit=exp.var("DAY"))


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference (signal names may be SQL keywords)."""
    return exp.column(name, table=table, quoted=True)


def days_before(day: exp.Expr, days: int) -> exp.Expr:
    """The date ``days`` days before ``day``.

    A SQL form writes ``days_before(lit(scope.as_of), n)`` rather than computing the date
    in Python: the as-of literal then stays the only place the date appears, which the
    dbt model turns into a variable.
    """
    shifted = exp.DateSub(this=day, expression=exp.Literal.number(days), unit=exp.var("DAY"))
    return exp.cast(shifted, DATE)


def days_after(day: exp.Expr, days: int) -> exp.Expr:
    """The date ``days`` days after ``day``."""
    shifted = exp.DateAdd(this=day, expression=exp.Literal.number(days), unit=exp.var("DAY"))
    return exp.cast(shifted, DATE)
