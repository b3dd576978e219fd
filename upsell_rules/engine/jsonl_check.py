"""Checking a JSON Lines file for the columnar path, started before the query is compiled.

DuckDB reads every record's fields as the Python reader would take them
(``sql/input_checks.py``), on one thread of its own, as soon as the file is known to be
a candidate: it lets go of the interpreter while it works, so it runs while Python
compiles the record query, and leaves the other core to the compiler. Python counts the
lines and their colons when the check is finished (:meth:`JsonlCheck.finish`), while
DuckDB may still be reading; counting beside the compiler would only take turns with it
for the interpreter. :func:`start_check` starts the check; :meth:`JsonlCheck.finish`
says whether every record is clean (and then makes the views the query reads);
:meth:`JsonlCheck.cancel` stops it when the query turns out not to compile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from upsell_rules.sql.input_checks import accounts_view_sql, check_sql, colons_sql

_BOM = b"\xef\xbb\xbf"
_ESCAPED_COMMA = re.compile(rb"\\u002[cC]")


@dataclass
class JsonlCheck:
    """A check under way over one file, on connection ``con``."""

    con: Any
    path: str
    types: Mapping[str, str]
    limits: Any
    pool: ThreadPoolExecutor
    found: Future[tuple[Any, ...] | None]

    def finish(self, lines_view: str | None) -> bool:
        """Whether every record is clean, with the views over the file made when it is
        (as for Parquet and CSV): ``_accounts``, and ``lines_view`` when given (numbers
        read as doubles: see :func:`accounts_view_sql`)."""
        import duckdb

        counted = count_lines(self.path, self.limits.line_bytes, self.limits.records)
        found = self.found.result()
        self.pool.shutdown()
        self.con.execute("RESET threads")
        if counted is None or found is None:
            return False
        lines, colons, commas = counted
        rows, unclean, fields, clean_commas, distinct = found
        # DuckDB cuts lines at a lone carriage return too: its rows must be the lines.
        if unclean or distinct != rows or rows != lines:
            return False
        con = self.con
        try:
            if ((fields != colons or commas != clean_commas)
                    and con.execute(colons_sql(self.path)).fetchone()[0]):
                return False
            con.execute(accounts_view_sql(self.path, self.types))
            if lines_view is not None:
                con.execute(accounts_view_sql(self.path, self.types, lines_view,
                                              integers=False))
        except duckdb.Error:
            return False
        return True

    def cancel(self) -> None:
        """Stop DuckDB's pass and close the connection."""
        self.con.interrupt()
        self.pool.shutdown(wait=True)
        self.con.close()


def start_check(con: Any, path: str, types: Mapping[str, str],
                ranges: Mapping[str, tuple[float | None, float | None]], limits: Any
                ) -> JsonlCheck:
    """Start checking ``path`` on ``con`` (DuckDB, in a thread of its own); the lines are
    counted when the check is finished."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upsell-rules-check")
    con.execute("SET threads = 1")
    found = pool.submit(_run, con, check_sql(path, types, ranges))
    return JsonlCheck(con, path, types, limits, pool, found)


def _run(con: Any, sql: str) -> tuple[Any, ...] | None:
    import duckdb

    try:
        row = con.execute(sql).fetchone()
    except duckdb.Error:
        return None  # not JSON Lines as DuckDB reads it (or stopped): the reader says why
    return tuple(row) if row is not None else None


def count_lines(path: str, max_line: int, max_records: int) -> tuple[int, int, int] | None:
    """The number of lines and of colons and commas in them, or ``None`` unless every
    line is within ``max_line`` bytes, no line is blank (row numbers are then line
    numbers), there is no byte order mark, no NaN or Infinity (which DuckDB reads and
    the reader refuses), no vertical tab or form feed (DuckDB takes them as spaces
    around a line's object), no comma written as an escape (the commas could no longer
    tell a trailing one: see ``colons_sql``) and there are at most ``max_records``
    lines: what the reader takes without a word."""
    count = colons = commas = 0
    with open(path, "rb") as handle:
        if handle.read(3) == _BOM:
            return None
        handle.seek(0)
        for line in handle:
            count += 1
            if (max_line and len(line) > max_line) or not line.strip():
                return None
            if b"NaN" in line or b"Infinity" in line or b"\x0b" in line or b"\x0c" in line:
                return None
            if b"\\u002" in line and _ESCAPED_COMMA.search(line):
                return None
            colons += line.count(b":")
            commas += line.count(b",")
    return None if max_records and count > max_records else (count, colons, commas)


__all__ = ["JsonlCheck", "count_lines", "start_check"]
