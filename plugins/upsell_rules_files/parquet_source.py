"""Parquet accounts, read by DuckDB: one record per row, located at its row number.

Parquet columns carry their own types. What the reader expects is what a JSON export
gives, so values are handed over that way: a DATE as ``YYYY-MM-DD`` text, a TIMESTAMP at
midnight as its date (any other time of day as ISO text, which the reader then reports
as not a date), a DECIMAL as a number, lists item by item. Every check after that (types,
ranges, duplicates, the record limit) is the reader's, as for CSV and JSON Lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.limits import current as current_limits
from upsell_rules.plugin.types import RawRecord
from upsell_rules.sql.input_checks import quote_text
from upsell_rules.sql.sandbox import names_one_file, sandboxed

from ._text import open_binary

#: Rows fetched from DuckDB at a time.
_BATCH = 4096
_MAGIC = b"PAR1"


def matches_parquet(path: str) -> bool:
    """True for ``.parquet`` and ``.pq`` files."""
    return path.lower().endswith((".parquet", ".pq"))


def plain(value: Any) -> Any:
    """A Parquet value as a JSON export would hold it (see the module docstring)."""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def read_parquet(path: str) -> Iterator[RawRecord | RecordError]:
    """Yield one record per row of a Parquet file, in file order (NULLs left out).

    The file may not exceed ``input_mb``; a file that is not Parquet is an
    :class:`InputError` naming it.
    """
    limits = current_limits()
    with open_binary(path, limits.input_bytes) as handle:
        if handle.read(4) != _MAGIC:
            raise InputError(f"{path}: not a Parquet file (it does not start with PAR1)")
    if not names_one_file(path):
        raise InputError(f"{path}: DuckDB, which reads Parquet files, would take this name as a "
                         "pattern of file names (*, ? or [): rename the file")
    import duckdb

    con = sandboxed([path])
    try:
        try:
            cursor = con.execute(f"SELECT * FROM read_parquet({quote_text(path)})")
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise InputError(f"{path}: DuckDB cannot read this Parquet file: {first}") from None
        names = [column[0] for column in cursor.description]
        number = 0
        while batch := cursor.fetchmany(_BATCH):
            for row in batch:
                number += 1
                values = {name: plain(value) for name, value in zip(names, row, strict=True)
                          if value is not None}
                yield RawRecord(values=values, location=Location(path, number))
    finally:
        con.close()
