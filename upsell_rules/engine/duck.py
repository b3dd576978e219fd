"""The ``duckdb`` engine: conditions compiled to SQL and run on embedded DuckDB.

The signals (inputs and derived) are computed in Python as for every engine; a batch of
accounts' signals goes into a DuckDB table and one query gives every condition's outcome
for every account. The decision records are then assembled by the core as for any
engine, so they are byte-identical by construction wherever the outcomes are (the
conformance tests hold the compiled conditions to the interpreter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from upsell_rules.expr.nodes import Node, names_in
from upsell_rules.plugin.types import BatchPredicate, Engine, Predicate

#: Column types: numbers as doubles (comparisons and arithmetic as in Python's floats).
_COLUMN = {
    "number": "DOUBLE", "integer": "DOUBLE", "boolean": "BOOLEAN", "string": "VARCHAR",
    "date": "DATE", "number_list": "DOUBLE[]", "integer_list": "DOUBLE[]",
    "string_list": "VARCHAR[]", "date_list": "DATE[]",
}


def available() -> str | None:
    """``None`` when DuckDB imports here, else why not."""
    try:
        import duckdb  # noqa: F401
    except ImportError as exc:  # pragma: no cover - duckdb is a dependency
        return f"the duckdb package does not import ({exc}); pip install duckdb"
    return None


class _Scope:
    """Every signal a condition reads is a column of the batch table."""

    dialect = "duckdb"
    #: The evaluation date is per account (``_as_of``): the query is compiled with this
    #: stand-in, then each of its literals becomes the ``_as_of`` column.
    as_of = date(9999, 12, 31)

    def __init__(self, types: Mapping[str, str]) -> None:
        self.types = types

    def signal(self, name: str) -> Any:
        from upsell_rules.sql.lists import ListValue
        from upsell_rules.sql.values import col

        column = col(name)
        return ListValue(column) if self.types.get(name, "").endswith("_list") else column

    def type_of(self, name: str) -> str:
        return self.types.get(name, "")


def _convert(kind: str) -> Any:
    if kind in ("number", "integer"):
        return lambda v: None if v is None else float(v)
    if kind in ("number_list", "integer_list"):
        return lambda v: None if v is None else [float(x) for x in v]
    return lambda v: v


def prepare_batch(conditions: Sequence[Node], types: Mapping[str, str]) -> BatchPredicate:
    """One DuckDB query giving every condition's outcome for a batch of accounts."""
    from sqlglot import exp

    from upsell_rules.sql.expressions import Conditions
    from upsell_rules.sql.lists import reset_aliases
    from upsell_rules.sql.sandbox import sandboxed
    from upsell_rules.sql.values import col, holds, lit

    names = list(dict.fromkeys(n for node in conditions for n in names_in(node)
                               if n in types))
    reset_aliases("duckdb")
    compiler = Conditions(_Scope(types))
    outcomes = [holds(compiler.truth(node)).as_(f"c{i}") for i, node in enumerate(conditions)]
    query = exp.select(*(outcomes or [exp.true()])).from_("batch").order_by(col("_row"))
    text = query.sql(dialect="duckdb").replace(lit(_Scope.as_of).sql(dialect="duckdb"),
                                               '"_as_of"')
    con = sandboxed()
    columns = ", ".join(['"_row" BIGINT', '"_as_of" DATE',
                         *(f'"{n}" {_COLUMN[types[n]]}' for n in names)])
    con.execute(f"CREATE TABLE batch ({columns})")
    insert = f"INSERT INTO batch VALUES ({', '.join('?' for _ in range(len(names) + 2))})"
    converters = [(n, _convert(types[n])) for n in names]
    width = len(conditions)

    def decide(batch: Sequence[Mapping[str, Any]]) -> list[tuple[bool, ...]]:
        if not batch:
            return []
        con.execute("DELETE FROM batch")
        rows = [[i, s.get("_as_of"), *(f(s.get(n)) for n, f in converters)]
                for i, s in enumerate(batch)]
        con.executemany(insert, rows)
        found = con.execute(text).fetchall()
        return [tuple(bool(v) for v in row[:width]) for row in found]

    return decide


def prepare(conditions: Sequence[Node], types: Mapping[str, str]) -> Predicate:
    """One account at a time (``explain``): a batch of one."""
    batch = prepare_batch(conditions, types)

    def predicate(signals: Mapping[str, Any]) -> tuple[bool, ...]:
        return batch([signals])[0]

    return predicate


DUCKDB_ENGINE = Engine(
    name="duckdb",
    description="Conditions compiled to SQL and run on embedded DuckDB, a batch at a time.",
    prepare=prepare,
    available=available,
    # A DuckDB connection must not be copied into forked worker processes.
    parallel_safe=False,
    prepare_batch=prepare_batch,
)
