"""List signals in SQL: per-cycle series, date lists, text lists.

A list is an array column (or an array a derivation maps element by element). Every
helper reads it through ``UNNEST(array) WITH ORDINALITY`` in a scalar subquery and
compares ordinals only with each other, never with a fixed first index, so the same
query is right whether a dialect counts from 0 or 1. Derivations' SQL forms (see
docs/plugins.md) build their values with these.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlglot import exp

from upsell_rules.sql.values import all_of, any_of, case, holds, is_null, lit, not_null

Item = Callable[[exp.Expr], exp.Expr]

_COUNTER: ContextVar[list[int] | None] = ContextVar("sql_alias_counter", default=None)
_DIALECT: ContextVar[str] = ContextVar("sql_dialect", default="")


def reset_aliases(dialect: str = "") -> None:
    """Start alias numbering again (each compiled query numbers its own from 1), for a
    query in ``dialect``: DuckDB and Spark (Databricks too: its SQL is Spark SQL) get
    their list functions instead of subqueries (the same results, planned in a fraction
    of the time; Spark cannot resolve a column of the outer row inside the subqueries'
    ``POSEXPLODE`` at all)."""
    _COUNTER.set([0])
    _DIALECT.set(dialect)


#: Dialects whose SQL is Spark SQL: Databricks SQL runs on Spark, and SQLGlot's
#: databricks dialect is its spark dialect plus Databricks' own syntax.
SPARK_FAMILY = ("spark", "databricks")
#: DuckDB's list functions -> Spark SQL's (higher-order functions, Spark 3.3+).
_SPARK = {"LIST_EXTRACT": "TRY_ELEMENT_AT", "LEN": "SIZE", "LIST_FILTER": "FILTER",
          "LIST_TRANSFORM": "TRANSFORM", "LIST_MAX": "ARRAY_MAX"}


def _native() -> bool:
    return _DIALECT.get() == "duckdb" or _spark()


def _spark() -> bool:
    return _DIALECT.get() in SPARK_FAMILY


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    if _spark():
        if name == "LIST_EXTRACT":
            # Index 0 is an error in Spark even for TRY_ELEMENT_AT; in DuckDB it is NULL.
            args = (args[0], exp.Nullif(this=args[1], expression=lit(0)))
        name = _SPARK.get(name, name)
    return exp.Anonymous(this=name, expressions=list(args))


def _lambda(body: Callable[..., exp.Expr], arity: int = 1) -> exp.Expr:
    names = [f"_{_alias()}" for _ in range(arity)]
    columns: list[exp.Expr] = [exp.column(n) for n in names]
    if arity == 2 and _spark():
        # The position is 1-based in DuckDB's LIST_TRANSFORM, 0-based in Spark's TRANSFORM.
        columns[1] = exp.paren(exp.Add(this=columns[1], expression=lit(1)))
    return exp.Lambda(this=body(*columns), expressions=[exp.to_identifier(n) for n in names])


def _at(values: ListValue, index: exp.Expr) -> exp.Expr:
    """DuckDB: the element at ``index`` (1-based; negative from the end), mapped."""
    return values.item(_fn("LIST_EXTRACT", values.array.copy(), index))


def _alias() -> str:
    counter = _COUNTER.get()
    if counter is None:
        counter = [0]
        _COUNTER.set(counter)
    counter[0] += 1
    return f"u{counter[0]}"


def _same(value: exp.Expr) -> exp.Expr:
    return value


@dataclass(frozen=True)
class ListValue:
    """A list-valued signal: an array, a per-element mapping, and when it is missing.

    ``missing`` is an extra condition under which the whole list is missing (a derived
    list whose divisor is 0, say); a NULL array is always missing.
    """

    array: exp.Expr
    item: Item = field(default=_same)
    missing: exp.Expr | None = None

    def present(self) -> exp.Expr:
        """The condition under which the list is known."""
        absent = is_null(self.array)
        if self.missing is not None:
            absent = any_of([absent, exp.paren(self.missing)])
        return exp.Not(this=exp.paren(absent))

    def mapped(self, item: Item, missing: exp.Expr | None = None) -> ListValue:
        """This list with ``item`` applied to every element (and one more missing case)."""
        inner = self.item
        misses = [m for m in (self.missing, missing) if m is not None]
        return ListValue(
            self.array,
            lambda v: item(inner(v)),
            any_of([exp.paren(m) for m in misses]) if misses else None,
        )


@dataclass(frozen=True)
class _Rows:
    """``FROM UNNEST(array) WITH ORDINALITY AS uN(v, i)``: element and ordinal."""

    source: exp.Expr
    value: exp.Expr
    ordinal: exp.Expr


def _rows(values: ListValue) -> _Rows:
    name = _alias()
    unnest = exp.Unnest(
        expressions=[values.array.copy()],
        alias=exp.TableAlias(this=exp.to_identifier(name), columns=[exp.to_identifier("v")]),
        offset=exp.to_identifier("i"),
    )
    return _Rows(unnest, values.item(exp.column("v", table=name)), exp.column("i", table=name))


def _scalar(values: ListValue, query: exp.Select) -> exp.Expr:
    """A scalar subquery, missing when the list is."""
    return case([(values.present(), exp.Subquery(this=query))])


def _missing_unless(values: ListValue, value: exp.Expr) -> exp.Expr:
    if values.missing is None:
        return value
    return case([(values.present(), value)])


def _length(values: ListValue) -> exp.Expr:
    return _fn("LEN", values.array.copy())


def whole_list(values: ListValue) -> exp.Expr:
    """DuckDB: the list itself, every element mapped; missing when the list is."""
    array = values.array.copy()
    if values.item is not _same:
        array = _fn("LIST_TRANSFORM", array, _lambda(values.item))
    return _missing_unless(values, array)

def last(values: ListValue) -> exp.Expr:
    """The newest (last) element; missing for an empty or missing list."""
    return from_end(values, 0)


def from_end(values: ListValue, back: int) -> exp.Expr:
    """The element ``back`` places before the newest (0: the newest); missing if none."""
    if _native():
        return _missing_unless(values, _at(values, lit(-1 - back)))
    rows = _rows(values)
    query = exp.select(rows.value).from_(rows.source).order_by(exp.Ordered(
        this=rows.ordinal, desc=True)).limit(1)
    if back:
        query = query.offset(back)
    return _scalar(values, query)


def window_start(values: ListValue, cycles: int) -> exp.Expr:
    """The element at the start of the last ``cycles`` (the oldest if fewer)."""
    if _native():
        start = exp.Sub(this=_length(values), expression=lit(cycles - 1))
        index = case([(exp.LT(this=start, expression=lit(1)), lit(1))], start.copy())
        return _missing_unless(values, _at(values, index))
    rows = _rows(values)
    inner = exp.select(rows.value.as_("w"), rows.ordinal.as_("o")).from_(rows.source).order_by(
        exp.Ordered(this=rows.ordinal, desc=True)).limit(cycles)
    name = _alias()
    query = exp.select(exp.column("w", table=name)).from_(
        exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(name)))
    ).order_by(exp.column("o", table=name)).limit(1)
    return _scalar(values, query)


def length(values: ListValue) -> exp.Expr:
    """How many elements; missing for a missing list."""
    if _native():
        return _missing_unless(values, _length(values))
    rows = _rows(values)
    return _scalar(values, exp.select(exp.Count(this=exp.Star())).from_(rows.source))


def count_where(values: ListValue, test: Item) -> exp.Expr:
    """How many elements pass ``test``; missing for a missing list."""
    if _native():
        kept = _fn("LIST_FILTER", values.array.copy(),
                   _lambda(lambda x: holds(test(values.item(x)))))
        return _missing_unless(values, _fn("LEN", kept))
    rows = _rows(values)
    query = exp.select(exp.Count(this=exp.Star())).from_(rows.source).where(test(rows.value))
    return _scalar(values, query)


def contains(values: ListValue, wanted: exp.Expr) -> exp.Expr:
    """Whether an element equals ``wanted`` (both already folded as needed)."""
    if _native():
        found_at = _fn("LEN", _fn("LIST_FILTER", values.array.copy(), _lambda(
            lambda x: holds(exp.EQ(this=values.item(x), expression=wanted.copy())))))
        hit = exp.GT(this=found_at, expression=lit(0))
        return case([(exp.Not(this=exp.paren(values.present())), exp.null())], hit)
    rows = _rows(values)
    query = exp.select(exp.Count(this=exp.Star())).from_(rows.source).where(
        exp.EQ(this=rows.value, expression=wanted))
    found = exp.GT(this=exp.Subquery(this=query), expression=lit(0))
    return case([(exp.Not(this=exp.paren(values.present())), exp.null())], found)


def trailing_run(values: ListValue, stops: Item) -> exp.Expr:
    """How many of the newest elements in a row do not ``stop`` the run."""
    if _native():
        marks = _fn("LIST_TRANSFORM", values.array.copy(), _lambda(lambda x, i: case(
            [(holds(stops(values.item(x))), i)], lit(0)), arity=2))
        stopped = exp.Coalesce(this=_fn("LIST_MAX", marks), expressions=[lit(0)])
        return _missing_unless(values, exp.Sub(this=_length(values), expression=stopped))
    last_stop = _rows(values)
    stop_at = exp.select(exp.Max(this=last_stop.ordinal)).from_(last_stop.source).where(
        stops(last_stop.value))
    rows = _rows(values)
    after = exp.GT(this=rows.ordinal, expression=exp.Coalesce(
        this=exp.Subquery(this=stop_at), expressions=[lit(-1)]))
    query = exp.select(exp.Count(this=exp.Star())).from_(rows.source).where(after)
    return _scalar(values, query)


def trailing_pair_run(
    values: ListValue, stops: Callable[[exp.Expr, exp.Expr], exp.Expr]
) -> exp.Expr:
    """How many of the newest (previous, current) pairs in a row do not ``stop`` the run.

    Missing when the list has fewer than two elements.
    """
    if _native():
        def mark(x: exp.Expr, i: exp.Expr) -> exp.Expr:
            previous = values.item(_fn("LIST_EXTRACT", values.array.copy(),
                                       exp.Sub(this=i.copy(), expression=lit(1))))
            stop = exp.And(this=exp.GT(this=i, expression=lit(1)),
                           expression=holds(stops(previous, values.item(x))))
            return case([(stop, i.copy())], lit(1))

        marks = _fn("LIST_TRANSFORM", values.array.copy(), _lambda(mark, arity=2))
        run = exp.Sub(this=_length(values), expression=exp.Coalesce(
            this=_fn("LIST_MAX", marks), expressions=[lit(1)]))
        enough = all_of([values.present(), exp.GTE(this=_length(values), expression=lit(2))])
        return case([(enough, run)])

    def pairs(query_of: Callable[[exp.Expr, _Rows], exp.Select]) -> exp.Select:
        current, previous = _rows(values), _rows(values)
        joined = query_of(stops(previous.value, current.value), current)
        return joined.join(previous.source).where(
            exp.EQ(this=previous.ordinal, expression=exp.Sub(
                this=current.ordinal, expression=lit(1))))

    stop_at = pairs(lambda stop, cur: exp.select(exp.Max(this=cur.ordinal)).from_(
        cur.source).where(stop))
    inner_rows: list[_Rows] = []

    def counted(stop: exp.Expr, cur: _Rows) -> exp.Select:
        inner_rows.append(cur)
        return exp.select(exp.Count(this=exp.Star())).from_(cur.source).where(
            exp.GT(this=cur.ordinal, expression=exp.Coalesce(
                this=exp.Subquery(this=stop_at), expressions=[lit(-1)])))

    query = pairs(counted)
    enough = all_of([values.present(), exp.GTE(this=length(values), expression=lit(2))])
    return case([(enough, exp.Subquery(this=query))])


__all__ = [
    "ListValue",
    "contains",
    "count_where",
    "from_end",
    "last",
    "length",
    "maximum",
    "not_null",
    "reset_aliases",
    "single",
    "trailing_pair_run",
    "trailing_run",
    "window_start",
]


def maximum(items: list[exp.Expr]) -> exp.Expr:
    """The largest of ``items``, ignoring the missing ones; missing only when all are.

    (``GREATEST`` treats NULL differently from one dialect to the next.)
    """
    if _native():
        return _fn("LIST_MAX", exp.Array(expressions=[i.copy() for i in items]))
    rows = _rows(ListValue(exp.Array(expressions=[i.copy() for i in items])))
    return exp.Subquery(this=exp.select(exp.Max(this=rows.value)).from_(rows.source))


def single(value: exp.Expr) -> ListValue:
    """A one-element list of ``value`` (missing when it is): a derivation that expects a
    list reads a single value as one."""
    return ListValue(exp.Array(expressions=[value]), missing=is_null(value.copy()))
