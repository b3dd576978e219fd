"""Checking a JSON Lines file for the columnar path, started before the query is compiled.

DuckDB reads every record's fields as the Python reader would take them
(``sql/input_checks.py``), in a database of its own, as soon as the file is known to be
a candidate: it lets go of the interpreter while it works, so it runs while Python
compiles the record query. The record query itself then starts in the run's own
database while the check finishes (``engine/columnar.py``); nothing of it is passed on
unless the check passes, so on a large file the records wait for the check: it runs on
two threads (1,000,000 accounts: about a fifth less time end to end than on one, since
the record query no longer holds DuckDB to one thread; bench/README.md).
:func:`start_check` starts the check; :meth:`JsonlCheck.count_soon` counts the lines in
a thread of the check's (while DuckDB plans the record query); :meth:`JsonlCheck.passed`
says whether every record is clean; :meth:`JsonlCheck.cancel` stops it when the query turns
out not to compile. :func:`make_views` makes the views the query reads.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from upsell_rules.sql.input_checks import accounts_view_sql, check_sql, colons_sql
from upsell_rules.sql.sandbox import sandboxed

_BOM = b"\xef\xbb\xbf"
_ESCAPED_COMMA = re.compile(rb"\\u002[cC]")
#: Bytes read at a time (then to the end of the line) when counting lines.
_BLOCK = 1 << 19
#: The checking database's settings: two threads, and the lines in file order.
CHECK_CONNECTION: dict[str, str | bool | int | float | list[str]] = {
    "threads": 2, "preserve_insertion_order": True}


@dataclass
class JsonlCheck:
    """A check under way over one file, in its own database (connection ``con``)."""

    con: Any
    path: str
    limits: Any
    pool: ThreadPoolExecutor
    found: Future[tuple[Any, ...] | None]
    closed: bool = False
    #: The line count, once :meth:`count_soon` started it.
    counting: Future[tuple[int, int, int] | None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def count_soon(self) -> None:
        """Count the lines in a thread of the check's own. Python holds the interpreter
        while it counts: the caller starts it just before handing DuckDB work that lets go
        of it (planning the record query), not while Python compiles."""
        if self.counting is None and not self.closed:
            self.counting = self.pool.submit(count_lines, self.path, self.limits.line_bytes,
                                             self.limits.records, self.stop)

    def passed(self) -> bool:
        """Whether every record is clean; the check's database is closed after."""
        import duckdb

        try:
            self.count_soon()  # not under way yet (no record query was started): now
            counted = self.counting.result() if self.counting is not None else None
            found = self.found.result()
            if counted is None or found is None:
                return False
            lines, colons, commas = counted
            rows, unclean, fields, clean_commas, distinct = found
            # DuckDB cuts lines at a lone carriage return too: its rows must be the lines.
            if unclean or distinct != rows or rows != lines:
                return False
            if fields == colons and commas == clean_commas:
                return True
            more = self.con.execute(colons_sql(self.path)).fetchone()
            return more is not None and not more[0]
        except duckdb.Error:
            return False
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop DuckDB's pass (if still under way) and close the check's database."""
        if self.closed:
            return
        self.closed = True
        self.stop.set()
        self.con.interrupt()
        self.pool.shutdown(wait=True)
        self.con.close()


def start_check(path: str, types: Mapping[str, str],
                ranges: Mapping[str, tuple[float | None, float | None]], limits: Any
                ) -> JsonlCheck:
    """Start checking ``path`` (DuckDB, in a thread of its own); the lines are counted
    when :meth:`JsonlCheck.count_soon` says, or else when the verdict is asked for."""
    con = sandboxed([path], CHECK_CONNECTION)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="upsell-rules-check")
    found = pool.submit(_run, con, check_sql(path, types, ranges))
    return JsonlCheck(con, path, limits, pool, found)


def make_views(con: Any, path: str, types: Mapping[str, str], lines_view: str | None
               ) -> None:
    """The views over a JSON Lines file the compiled queries read (as the Parquet and CSV
    loaders make theirs): ``_accounts``, and ``lines_view`` when given (numbers read as
    doubles: see :func:`accounts_view_sql`). Right only once the check has passed."""
    con.execute(accounts_view_sql(path, types))
    if lines_view is not None:
        con.execute(accounts_view_sql(path, types, lines_view, lines=True))


def _run(con: Any, sql: str) -> tuple[Any, ...] | None:
    import duckdb

    try:
        row = con.execute(sql).fetchone()
    except duckdb.Error:
        return None  # not JSON Lines as DuckDB reads it (or stopped): the reader says why
    return tuple(row) if row is not None else None


def count_lines(path: str, max_line: int, max_records: int,
                stop: threading.Event | None = None) -> tuple[int, int, int] | None:
    """The number of lines and of colons and commas in them, or ``None`` unless every
    line is within ``max_line`` bytes, there is no byte order mark, no vertical tab or
    form feed (DuckDB takes them as spaces around a line's object, the reader refuses
    the line), no comma written as an escape (the commas could then hide a trailing
    one: see ``colons_sql``) and there are at most ``max_records`` lines. ``None`` too
    once ``stop`` is set (the check was cancelled).

    Lines end at ``\\n`` only, as Python's binary file iteration splits them. The file
    is read into one buffer, reused (a fresh block per read made the system map new
    memory each time: about 6,000 page faults at 100,000 accounts), and the lines it
    holds whole are tested, each test one scan in C: a search for one byte wherever it
    can be (``memchr``), the longer searches only in a block holding a backslash. The
    start of a line cut by the end of a read is moved to the front for the next.

    Left to DuckDB's side of the check (:meth:`JsonlCheck.passed`), which sees them
    anyway: a blank line (DuckDB skips it, so its rows are fewer than these lines), and
    NaN or Infinity, which the reader refuses and DuckDB reads (as a field's value the
    field's check refuses it; anywhere else it comes with a key, whose colon sends the
    file to ``colons_sql``; after a line's object DuckDB refuses the line).
    """
    count = colons = commas = 0
    buffer = bytearray(_BLOCK)
    held = 0  # bytes of a line begun in the last read, moved to the front
    first = True
    with open(path, "rb", buffering=0) as handle:
        while True:
            if stop is not None and stop.is_set():
                return None
            if held == len(buffer):  # one line fills the buffer: longer than a block
                if max_line and held > max_line:
                    return None
                buffer.extend(bytes(len(buffer)))
            got = handle.readinto(memoryview(buffer)[held:])
            filled = held + got
            if not filled:
                break
            # The lines wholly read; at the end of the file, the last one too.
            end = filled if not got else buffer.rfind(b"\n", 0, filled) + 1
            if not end:
                held = filled
                continue
            if first and buffer.startswith(_BOM, 0, end):
                return None
            first = False
            if buffer.find(b"\x0b", 0, end) >= 0 or buffer.find(b"\x0c", 0, end) >= 0:
                return None
            if buffer.find(b"\\", 0, end) >= 0 and _ESCAPED_COMMA.search(buffer, 0, end):
                return None
            if max_line and end > max_line and _longest_line(buffer, end) > max_line:
                return None
            count += buffer.count(b"\n", 0, end) + (buffer[end - 1] != 10)
            colons += buffer.count(b":", 0, end)
            commas += buffer.count(b",", 0, end)
            if max_records and count > max_records:
                return None
            held = filled - end
            buffer[:held] = buffer[end:filled]
    return count, colons, commas


def _longest_line(buffer: bytearray, end: int) -> int:
    """The longest line in ``buffer[:end]``, its newline included."""
    longest = start = 0
    while start < end:
        newline = buffer.find(b"\n", start, end)
        stop = end if newline < 0 else newline + 1
        longest = max(longest, stop - start)
        start = stop
    return longest


__all__ = ["JsonlCheck", "count_lines", "make_views", "start_check"]
