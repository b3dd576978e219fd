"""The columnar path of the ``duckdb`` engine: DuckDB reads, types and decides a whole file.

For one JSON Lines file of clean records (or a Parquet file whose columns are already of
their fields' types, ``engine/columnar_parquet.py``, or a plain CSV file of clean cells,
``engine/columnar_csv.py``), DuckDB's own reader loads every record, types its fields
as the data contract says, and one compiled query gives every derived signal and every
condition's outcome for all accounts at once (see
``sql/query.py``). For JSON Lines output the same query goes on to write each record's
line (``engine/record_sql.py``); for other output Python renders each record from those
columns, exactly as the Python engine does after its own reading and deriving.

Only data whose reading could not differ from the Python reader's takes this path: every
line a JSON object, every field already of its type (numbers as numbers, dates as
``YYYY-MM-DD`` text, lists as arrays), inside its ``min:``/``max:``, unique non-blank
ids, within the run's limits. Anything else (one odd cell is enough) and the file is
read and decided the ordinary way, so every message, warning and count stays the
reader's own. :func:`columnar_rows` says ``None`` then.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from upsell_rules.engine.columnar_csv import CsvShape, csv_shape, load_csv
from upsell_rules.engine.columnar_parquet import load_parquet, parquet_shape
from upsell_rules.engine.duck import available as duck_unavailable
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.jsonl_check import JsonlCheck, make_views, start_check
from upsell_rules.engine.parallel import Result
from upsell_rules.errors import Location
from upsell_rules.io.account import Account
from upsell_rules.io.fastjson import dumps_compact
from upsell_rules.io.formatters import EncodedBatch, EncodedDecision
from upsell_rules.io.records import AccountReader
from upsell_rules.io.source_choice import single_file
from upsell_rules.limits import MB
from upsell_rules.plugin.watchdog import PROGRESS
from upsell_rules.sql.errors import NotCompilable
from upsell_rules.sql.input_checks import (
    integer_bits,
)
from upsell_rules.sql.sandbox import names_one_file, sandboxed

if TYPE_CHECKING:
    from upsell_rules.sql.query import ValuesQuery

#: ``auto`` takes the columnar path from this file size up (JSON Lines output only, where
#: DuckDB writes the records); ``None``: never. Measured by ``bench/engines.py`` on the
#: 2-core machine the benchmarks run on: the path costs about 0.5 s more to start
#: (DuckDB, compiling the record query, two passes over the file) and then about a third
#: of the python engine's time per account, so the two meet near 10,000 accounts (about
#: 6 MB of generated accounts); below that ``python`` is faster.
AUTO_MIN_BYTES: int | None = 8 * MB
#: The same for a Parquet file, in rows (8 MB of generated JSON Lines hold about 13,000).
AUTO_MIN_ROWS = 13_000
#: The same for a CSV file (no keys: about 210 bytes per generated account). Measured
#: the same way: the same start-up, then about a third of the python engine's time per
#: account; the two meet near 10,000 accounts (2 MB), and 3 MB holds about 15,000.
AUTO_MIN_CSV_BYTES = 3 * MB
#: The view the record lines are written from: ``_accounts`` without telling integers
#: from other numbers, which no text shows.
LINES_SOURCE = "_typed"
#: Rows fetched from DuckDB at a time (memory stays flat on large files). About 1.5 MB of
#: record text: the strings of one fetch are made, written and freed while still in
#: the processor's cache; 4,096 at a time took about 2% longer end to end (paired runs,
#: 100,000 accounts; bench/README.md).
FETCH_ROWS = 1024
#: The columnar connection's settings. Rows come in file order. ``in_clause`` would make
#: each ``x IN (...)`` of the record query (plays with a message, outreach bands) a join,
#: and copy the text around it into several places: about 10% more work here.
CONNECTION: dict[str, str | bool | int | float | list[str]] = {
    "preserve_insertion_order": True, "disabled_optimizers": "in_clause"}
#: The columnar connection's own settings. The record query runs on every thread while
#: Python turns the lines it wrote into text (one thread): DuckDB's default buffer of
#: results (about 1 MB, under 1,000 records) would hold it back to that one thread's pace.
LOCAL = {"streaming_buffer_size": "64MB"}
#: The columns before the inputs: the line, and the bits of numbers written as integers.
LEADING = ("_row", "_ints")


@dataclass
class ColumnarPlan:
    """A file the columnar path may decide, and what it needs to know about it."""

    path: str
    #: Field -> type: what the reader would coerce (contract, ruleset, identity).
    types: dict[str, str]
    ranges: dict[str, tuple[float | None, float | None]]
    #: The query writing each record's JSON line (``None``: Python renders the records).
    lines: str | None = None
    #: The compiled query over each table it was needed for (the as-of date is written
    #: into it): ``_accounts`` when Python renders, ``_redo`` for the few accounts whose
    #: line only Python writes exactly. Compiled when first needed.
    queries: dict[str, ValuesQuery] = field(default_factory=dict)
    #: For a Parquet file, the Parquet column type of each field (``None``: JSON Lines).
    parquet: dict[str, str | None] | None = None
    #: For a CSV file, its separator and header (``None``: not CSV). Row ``n`` is on
    #: line ``n + 1``, after the header.
    csv: CsvShape | None = None
    #: For a JSON Lines file, its check, started with the plan (see ``jsonl_check.py``).
    checking: JsonlCheck | None = None


def values_query(evaluator: Evaluator, plan: ColumnarPlan, as_of: date, table: str
                 ) -> ValuesQuery:
    """The query giving the inputs, derived signals and outcomes of ``table``'s rows."""
    query = plan.queries.get(table)
    if query is None:
        from upsell_rules.sql.query import build_values_query

        query = build_values_query(evaluator.ruleset, evaluator.registry,
                                   evaluator.layout.conditions, as_of, table, plan.types,
                                   LEADING)
        plan.queries[table] = query
    return query


def plan_columnar(evaluator: Evaluator, reader: AccountReader, data: Sequence[str],
                  as_of: date, encoded: bool = False) -> ColumnarPlan | None:
    """The plan for ``data`` as of ``as_of``, or ``None`` when the columnar path does not
    apply.

    It applies to one JSON Lines, Parquet or CSV file read by the bundled file sources
    with no column mapping or formats and no encoding but UTF-8 declared, a ruleset that
    compiles to SQL, and DuckDB importable here.
    With ``encoded`` (JSON Lines output) DuckDB also writes the records where the
    ruleset's text compiles. Under ``--engine auto`` the path is taken only then, and for
    a file large enough to gain from it.
    """
    if evaluator.auto and (AUTO_MIN_BYTES is None or not encoded):
        return None
    if evaluator.engine.name != "duckdb" and not evaluator.auto:
        return None
    found = single_file(reader.registry, tuple(data), ("lines",), ("parquet", "csv"))
    if found is None or reader.mapping_for(found[0]) or not reader.reads_utf8(found[0]):
        return None
    spec, size = data[0], found[1]
    if not names_one_file(spec):  # DuckDB would read other files: the reader reads this one
        return None
    if reader.limits.input_bytes and size > reader.limits.input_bytes:
        return None
    # A Parquet file's rows are counted below; any other file too small for auto stops
    # here, before DuckDB is imported.
    least = {"parquet": 0, "csv": AUTO_MIN_CSV_BYTES}.get(found[0].columnar,
                                                         AUTO_MIN_BYTES or 0)
    if (evaluator.auto and size < least) or duck_unavailable() is not None:
        return None
    plan = ColumnarPlan(spec, dict(reader.types), dict(reader.ranges))
    if found[0].columnar == "parquet":
        shape = parquet_shape(spec, plan.types)
        if shape is None:
            return None
        plan.parquet, rows = shape
        if evaluator.auto and AUTO_MIN_BYTES is not None and rows < AUTO_MIN_ROWS:
            return None
    elif found[0].columnar == "csv":
        plan.csv = csv_shape(spec, reader.context(found[0]).options.get("delimiter"),
                             reader.limits.line_bytes)
        if plan.csv is None:
            return None
    if not found[0].columnar:  # JSON Lines: checked while the query is compiled
        plan.checking = start_check(spec, plan.types, plan.ranges, reader.limits)
    compiled = False
    try:
        compiled = _compile(evaluator, plan, as_of, encoded)
    finally:
        if not compiled and plan.checking is not None:
            plan.checking.cancel()
    return plan if compiled else None


def _compile(evaluator: Evaluator, plan: ColumnarPlan, as_of: date, encoded: bool) -> bool:
    """Compile what the plan runs; ``False`` when the python engine should decide."""
    import duckdb

    try:
        if encoded:
            plan.lines = _line_sql(evaluator, plan.types, as_of)
        if plan.lines is None:
            if evaluator.auto:
                return False  # Python renders as fast as it decides: python decides
            values_query(evaluator, plan, as_of, "_accounts")
    except NotCompilable as exc:
        # A derivation or function without a SQL form: python decides, and says why.
        if evaluator.auto:
            evaluator.fallback = f"not duckdb: {exc}"
        return False
    except duckdb.Error:  # a query DuckDB will not bind (nested too deep, say): python reads
        return False
    return True


def _line_sql(evaluator: Evaluator, types: Mapping[str, str], as_of: date) -> str | None:
    """The query writing every record's JSON line (``engine/record_sql.py``), or ``None`` when
    some part of the records' text has no SQL form (:class:`NotCompilable` when the
    decision itself has none). The text functions depend on the DuckDB types of the
    derived signals, asked of DuckDB over an empty table of the inputs."""
    from upsell_rules.engine.record_sql import record_chain, record_query
    from upsell_rules.sql.signals import sql_type

    chain = record_chain(evaluator.ruleset, evaluator.registry, evaluator.layout.conditions,
                         as_of, LINES_SOURCE, types)
    schema = ", ".join(["_ints BIGINT",
                        *(f'"{name}" {sql_type(kind).sql(dialect="duckdb")}'
                          for name, kind in types.items())])
    con = sandboxed()
    try:
        con.execute(f"CREATE TABLE {LINES_SOURCE} ({schema})")
        described = con.execute(f"DESCRIBE {chain.sql}").fetchall()
    finally:
        con.close()
    column_types = {str(row[0]): str(row[1]) for row in described}
    try:
        return record_query(evaluator.ruleset, evaluator.registry, evaluator.layout, chain,
                            column_types, evaluator.inputs_used, as_of)
    except NotCompilable:
        return None


def _load(con: Any, plan: ColumnarPlan, limits: Any) -> bool:
    """Check every record of a Parquet or CSV file and, when all are clean, make the views
    the query reads (``_accounts``; ``_typed`` too for the record lines); for a JSON Lines
    file make the views, its check (started with the plan) being finished by
    :func:`columnar_rows`. The file is read twice and held nowhere."""
    lines_view = LINES_SOURCE if plan.lines is not None else None
    if plan.parquet is not None:
        return load_parquet(con, plan.path, plan.types, plan.ranges, plan.parquet,
                            limits.records, lines_view)
    if plan.csv is not None:
        return load_csv(con, plan.path, plan.csv, plan.types, plan.ranges, limits, lines_view)
    import duckdb

    try:
        make_views(con, plan.path, plan.types, lines_view)
    except duckdb.Error:
        return False
    return True


def columnar_rows(evaluator: Evaluator, plan: ColumnarPlan, as_of: date,
                  limits: Any) -> Iterator[Result] | None:
    """``(False, decision)`` for every account of the plan's file, in file order, or
    ``None`` when some record needs the reader's own handling (nothing was decided).

    With a plan that has :attr:`~ColumnarPlan.lines` the decisions are JSON text written
    by DuckDB (see ``engine/record_sql.py``), a run at a time (:class:`EncodedBatch`).
    For a JSON Lines file that query starts while the file's check finishes: nothing it
    reads is passed on unless the check passes."""
    import duckdb

    check = plan.checking
    if check is None and plan.parquet is None and plan.csv is None:
        check = start_check(plan.path, plan.types, plan.ranges, limits)
    plan.checking = None
    con = sandboxed([plan.path], CONNECTION, LOCAL)
    try:
        loaded = _load(con, plan, limits)
        started: Any = plan.lines
        if loaded and check is not None and plan.lines is not None:
            check.count_soon()
            try:
                started = con.execute(plan.lines)
            except duckdb.Error as exc:  # raised when read, if the check passes
                started = exc
        if check is not None:
            loaded = check.passed() and loaded
    except BaseException:  # Ctrl-C, SIGTERM: neither database is left running
        if check is not None:
            check.cancel()
        con.close()
        raise
    if not loaded:
        con.close()
        return None
    if started is not None:
        return _lines(evaluator, plan, as_of, con, started)
    return _decide(evaluator, plan, as_of, con)


def _lines(evaluator: Evaluator, plan: ColumnarPlan, as_of: date, con: Any, started: Any
           ) -> Iterator[Result]:
    """Every record as DuckDB wrote it, a run of lines at a time (:class:`EncodedBatch`);
    a line it left NULL is decided the Python way and passed on alone, in its place.
    ``started``: the record query, its cursor once under way, or the error it raised.

    The rows come in file order (see ``typed_view_sql``) and are numbered here as they
    come, as ``_accounts`` numbers them (``_redo`` finds a row by that number)."""
    progress = PROGRESS
    try:
        if isinstance(started, Exception):
            raise started
        cursor = con.execute(started) if isinstance(started, str) else started
        last = 0
        for batch in _fetched(cursor):
            bands, lines = zip(*batch, strict=True)
            first, last = last + 1, last + len(batch)
            # A line is never empty: only a NULL one (Python writes it) is false.
            unsure = [] if all(lines) else [i for i, line in enumerate(lines) if line is None]
            redone = _redo(evaluator, plan, as_of, con, [first + i for i in unsure])
            start = 0
            for index in unsure:
                if index > start:
                    progress[0] += index - start
                    yield False, EncodedBatch(lines[start:index], bands[start:index])
                yield False, redone[first + index]  # counted as it was decided
                start = index + 1
            if start < len(batch):
                progress[0] += len(batch) - start
                yield False, EncodedBatch(lines[start:], bands[start:])
    finally:
        con.close()


def _fetched(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    """The cursor's rows, :data:`FETCH_ROWS` at a time (memory stays flat)."""
    while batch := cursor.fetchmany(FETCH_ROWS):
        yield batch


def _redo(evaluator: Evaluator, plan: ColumnarPlan, as_of: date, con: Any, rows: list[int]
          ) -> dict[int, Any]:
    """The decisions of ``rows`` the Python way (as JSON text, or the account's error)."""
    if not rows:
        return {}
    query = values_query(evaluator, plan, as_of, "_redo")
    other = con.cursor()
    try:
        # _accounts reads the file each time: kept in a table the first time it is needed.
        other.execute("CREATE TABLE IF NOT EXISTS _kept AS SELECT * FROM _accounts")
        other.execute("CREATE OR REPLACE VIEW _redo AS SELECT * FROM _kept WHERE _row IN "
                      f"({', '.join(str(int(r)) for r in rows)})")
        out: dict[int, Any] = {}
        for row, (_read_error, result) in zip(
                rows, _decided_rows(evaluator, plan, query, as_of, other), strict=True):
            if isinstance(result, dict):
                result = EncodedDecision(dumps_compact(result), result["band"],
                                         result["account_id"])
            out[row] = result
        return out
    finally:
        other.close()


def _decide(evaluator: Evaluator, plan: ColumnarPlan, as_of: date, con: Any
            ) -> Iterator[Result]:
    try:
        query = values_query(evaluator, plan, as_of, "_accounts")
        yield from _decided_rows(evaluator, plan, query, as_of, con)
    finally:
        con.close()


def _decided_rows(evaluator: Evaluator, plan: ColumnarPlan, query: ValuesQuery, as_of: date,
                  con: Any) -> Iterator[Result]:
    """Each row of ``query`` rendered by the Python engine, in ``_row`` order."""
    inputs = list(plan.types)
    numbers = integer_bits(plan.types)
    first_derived = 2 + len(inputs)
    first_outcome = first_derived + len(query.derived) + len(query.lists)
    derived_names = [*query.derived, *query.lists]
    base = evaluator.base_values()
    assemble = evaluator.assemble_guarded
    progress = PROGRESS
    where = plan.path
    header = 0 if plan.csv is None else 1
    cursor = con.execute(query.sql)
    while True:
        batch = cursor.fetchmany(FETCH_ROWS)
        if not batch:
            return
        for row in batch:
            progress[0] += 1
            account = _account(row, inputs, numbers, first_derived, where, header)
            values = dict(base)
            values.update(account.values)
            values.update(zip(derived_names, row[first_derived:first_outcome], strict=True))
            values["_as_of"] = as_of
            yield False, assemble(account, values, tuple(row[first_outcome:]), as_of)


def _account(row: tuple[Any, ...], inputs: list[str], numbers: list[tuple[int, str]],
             first_derived: int, where: str, header: int = 0) -> Account:
    """The account of one result row: its present fields, typed as the reader types
    them (a number written without a fraction stays an integer), located on its line
    (``header``: the lines before the first row)."""
    present = {n: v for n, v in zip(inputs, row[2:first_derived], strict=True)
               if v is not None}
    ints = row[1]
    if ints:
        for bit, name in numbers:
            if ints & bit:
                present[name] = int(present[name])
    return Account(present["account_id"], _text(present, "account_name"),
                   _text(present, "owner"), present, Location(where, row[0] + header))


def _text(values: Mapping[str, Any], name: str) -> str:
    return str(values.get(name, ""))


__all__ = ["AUTO_MIN_BYTES", "ColumnarPlan", "columnar_rows", "plan_columnar"]
