"""The columnar path of the ``duckdb`` engine: DuckDB reads, types and decides a whole file.

For one JSON Lines file of clean records, DuckDB's own reader loads every record, types
its fields as the data contract says, and one compiled query gives every derived signal
and every condition's outcome for all accounts at once (see ``sql/query.py``). Python
then only renders each decision record from those columns (evidence, window, message,
narrative), exactly as the Python engine does after its own reading and deriving.

Only data whose reading could not differ from the Python reader's takes this path: every
line a JSON object, every field already of its type (numbers as numbers, dates as
``YYYY-MM-DD`` text, lists as arrays), inside its ``min:``/``max:``, unique non-blank
ids, within the run's limits. Anything else (one odd cell is enough) and the file is
read and decided the ordinary way, so every message, warning and count stays the
reader's own. :func:`columnar_rows` says ``None`` then.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from upsell_rules.engine.duck import available as duck_unavailable
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.parallel import Result
from upsell_rules.errors import Location
from upsell_rules.io.account import Account
from upsell_rules.io.records import AccountReader
from upsell_rules.io.source_choice import single_file
from upsell_rules.plugin.watchdog import PROGRESS
from upsell_rules.sql.expressions import NotCompilable
from upsell_rules.sql.input_checks import (
    accounts_view_sql,
    check_sql,
    colons_sql,
    integer_bits,
)
from upsell_rules.sql.query import ValuesQuery, build_values_query

#: ``auto`` takes the columnar path from this file size up; ``None``: never. Measured by
#: ``bench/engines.py`` on the 2-core machine the benchmarks run on, the columnar path is
#: no faster than the python engine at any size (DuckDB's typing and checking of every
#: field, then fetching ~100 columns into Python, cost what Python's own reading and
#: deriving cost; rendering the records is the same work either way), so ``auto`` stays
#: with ``python`` until that changes.
AUTO_MIN_BYTES: int | None = None
#: Rows fetched from DuckDB at a time (memory stays flat on large files).
FETCH_ROWS = 4096
_BOM = b"\xef\xbb\xbf"
#: The columns before the inputs: the line, and the bits of numbers written as integers.
LEADING = ("_row", "_ints")


@dataclass(frozen=True)
class ColumnarPlan:
    """A file the columnar path may decide, and what it needs to know about it."""

    path: str
    #: Field -> type: what the reader would coerce (contract, ruleset, identity).
    types: dict[str, str]
    ranges: dict[str, tuple[float | None, float | None]]
    #: The compiled query over ``_accounts`` (the as-of date is written into it).
    query: ValuesQuery


def plan_columnar(evaluator: Evaluator, reader: AccountReader, data: Sequence[str],
                  as_of: date) -> ColumnarPlan | None:
    """The plan for ``data`` as of ``as_of``, or ``None`` when the columnar path does not
    apply.

    It applies to one JSON Lines file read by the bundled file source with no column
    mapping or formats, a ruleset that compiles to SQL, and DuckDB importable here.
    Under ``--engine auto`` the file must also be large enough to gain from it.
    """
    if evaluator.auto and AUTO_MIN_BYTES is None:
        return None
    if evaluator.engine.name != "duckdb" and not evaluator.auto:
        return None
    found = single_file(reader.registry, tuple(data), ("lines",))
    if found is None or reader.mapping_for(found[0]):
        return None
    spec, size = data[0], found[1]
    if evaluator.auto and AUTO_MIN_BYTES is not None and size < AUTO_MIN_BYTES:
        return None
    if reader.limits.input_bytes and size > reader.limits.input_bytes:
        return None
    if duck_unavailable() is not None:
        return None
    types = dict(reader.types)
    try:
        query = build_values_query(evaluator.ruleset, evaluator.registry,
                                   evaluator.layout.conditions, as_of, "_accounts", types,
                                   LEADING)
    except NotCompilable:
        return None  # a derivation or function without a SQL form: python decides
    return ColumnarPlan(spec, types, dict(reader.ranges), query)


def _count_lines(path: str, max_line: int, max_records: int) -> tuple[int, int] | None:
    """The number of lines and of colons in them, or ``None`` unless every line is within
    ``max_line`` bytes, no line is blank (row numbers are then line numbers), there is no
    byte order mark, no NaN or Infinity (which DuckDB reads and the reader refuses) and
    there are at most ``max_records`` lines: what the reader takes without a word."""
    count = colons = 0
    with open(path, "rb") as handle:
        if handle.read(3) == _BOM:
            return None
        handle.seek(0)
        for line in handle:
            count += 1
            if (max_line and len(line) > max_line) or not line.strip():
                return None
            if b"NaN" in line or b"Infinity" in line:
                return None
            colons += line.count(b":")
    return None if max_records and count > max_records else (count, colons)


def _load(con: Any, plan: ColumnarPlan, lines: int, colons: int) -> bool:
    """Check every record of the plan's file and, when all are clean, make the view
    ``_accounts`` over it (``_row``, ``_ints``, the typed fields; see
    ``sql/input_checks.py``). The file is read twice and held nowhere."""
    import duckdb

    try:
        found = con.execute(check_sql(plan.path, plan.types, plan.ranges)).fetchone()
        assert found is not None
        rows, unclean, fields, distinct = found
        # DuckDB cuts lines at a lone carriage return too: its rows must be the reader's lines.
        if unclean or distinct != rows or rows != lines:
            return False
        if fields != colons and con.execute(colons_sql(plan.path)).fetchone()[0]:
            return False
        con.execute(accounts_view_sql(plan.path, plan.types))
    except duckdb.Error:
        return False  # not JSON Lines as DuckDB reads it: the reader says where and why
    return True


def columnar_rows(evaluator: Evaluator, plan: ColumnarPlan, as_of: date,
                  limits: Any) -> Iterator[Result] | None:
    """``(False, decision)`` for every account of the plan's file, in file order, or
    ``None`` when some record needs the reader's own handling (nothing was decided)."""
    counted = _count_lines(plan.path, limits.line_bytes, limits.records)
    if counted is None:
        return None
    import duckdb

    con = duckdb.connect()
    if not _load(con, plan, *counted):
        con.close()
        return None
    return _decide(evaluator, plan, as_of, con)


def _decide(evaluator: Evaluator, plan: ColumnarPlan, as_of: date, con: Any
            ) -> Iterator[Result]:
    query = plan.query
    inputs = list(plan.types)
    numbers = integer_bits(plan.types)
    first_derived = 2 + len(inputs)
    first_outcome = first_derived + len(query.derived) + len(query.lists)
    derived_names = [*query.derived, *query.lists]
    base = evaluator.base_values()
    assemble = evaluator.assemble_guarded
    progress = PROGRESS
    where = plan.path
    try:
        cursor = con.execute(query.sql)
        while True:
            batch = cursor.fetchmany(FETCH_ROWS)
            if not batch:
                return
            for row in batch:
                progress[0] += 1
                account = _account(row, inputs, numbers, first_derived, where)
                values = dict(base)
                values.update(account.values)
                values.update(zip(derived_names, row[first_derived:first_outcome], strict=True))
                values["_as_of"] = as_of
                yield False, assemble(account, values, tuple(row[first_outcome:]), as_of)
    finally:
        con.close()


def _account(row: tuple[Any, ...], inputs: list[str], numbers: list[tuple[int, str]],
             first_derived: int, where: str) -> Account:
    """The account of one result row: its present fields, typed as the reader types
    them (a number written without a fraction stays an integer)."""
    present = {n: v for n, v in zip(inputs, row[2:first_derived], strict=True)
               if v is not None}
    ints = row[1]
    if ints:
        for bit, name in numbers:
            if ints & bit:
                present[name] = int(present[name])
    return Account(present["account_id"], _text(present, "account_name"),
                   _text(present, "owner"), present, Location(where, row[0]))


def _text(values: Mapping[str, Any], name: str) -> str:
    return str(values.get(name, ""))


__all__ = ["AUTO_MIN_BYTES", "ColumnarPlan", "columnar_rows", "plan_columnar"]
