"""The columnar path for a CSV file: DuckDB reads and checks it, when its shape is plain.

DuckDB's CSV reader and the CSV source agree on a file only where it has the plainest
shape, so Python checks that shape (it reads the file's lines while DuckDB checks the
cells; the two passes overlap): the first line is the header, its names distinct, with
no quote or space around them, ``account_id`` among them; then exactly one row per line,
none blank; every row with as many cells as the header; a quote only around a whole
cell, closed on its line (``""`` inside for a quote); line ends ``\\n`` or ``\\r\\n``;
UTF-8 (a byte order mark first is fine: both readers drop it); no line longer than
``--max-line-bytes`` and no more rows than ``--max-records``. Row ``n`` is then line
``n + 1``. What DuckDB checks in each cell is in ``sql/csv_inputs.py``. Any other file is
read by the CSV source and the Python reader, as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from upsell_rules.sql.csv_inputs import csv_check_sql, csv_view_sql

_BOM = b"\xef\xbb\xbf"
#: The separators the CSV source takes (``delimiter:``), by the names a ruleset gives them.
_SEPARATORS = {",": ",", ";": ";", "|": "|", "\t": "\t", "tab": "\t"}
_TABBED = (".tsv", ".tab")


@dataclass(frozen=True)
class CsvShape:
    """How DuckDB reads one CSV file: its cell separator and the header's names."""

    separator: str
    names: tuple[str, ...]


def csv_separator(path: str, declared: object) -> str | None:
    """The separator the CSV source reads ``path`` with (its ``delimiter`` option, else a
    tab for ``.tsv`` / ``.tab``, else a comma), or ``None`` for a declared one it refuses."""
    if declared is not None:
        return _SEPARATORS.get(str(declared))
    return "\t" if path.lower().endswith(_TABBED) else ","


def _line_end_ok(line: bytes) -> bool:
    """No carriage return but one before the final line feed (the reader ends a line at a
    lone one too, DuckDB may not)."""
    return b"\r" not in line or (line.endswith(b"\r\n") and line.count(b"\r") == 1)


def csv_shape(path: str, declared: object, max_line: int) -> CsvShape | None:
    """The shape of ``path`` when its header is plain (see the module's docstring)."""
    separator = csv_separator(path, declared)
    if separator is None:
        return None
    try:
        with open(path, "rb") as handle:
            line = handle.readline(max_line + 1 if max_line else -1)
    except OSError:
        return None
    if (max_line and len(line) > max_line) or not _line_end_ok(line):
        return None
    line = line.removeprefix(_BOM)
    if b'"' in line or b"\0" in line:
        return None
    try:
        names = tuple(line.decode("utf-8").rstrip("\r\n").split(separator))
    except UnicodeDecodeError:
        return None
    plain = all(name and name == name.strip() for name in names)
    if not plain or len(set(names)) != len(names) or "account_id" not in names:
        return None
    return CsvShape(separator, names)


def _row_pattern(separator: str, width: int) -> re.Pattern[bytes]:
    sep = re.escape(separator.encode())
    cell = b'(?:[^"' + sep + rb'\r\n]*|"(?:[^"\r\n]|"")*")'
    return re.compile(cell + b"(?:" + sep + cell + b"){" + str(width - 1).encode() +
                      rb"}(?:\r?\n)?")


def count_rows(path: str, shape: CsvShape, max_line: int, max_records: int) -> int | None:
    """The rows after the header, or ``None`` unless every line is one plain row."""
    width = len(shape.names)
    separator = shape.separator.encode()
    cuts = width - 1
    quoted = _row_pattern(shape.separator, width)
    rows = 0
    with open(path, "rb") as handle:
        handle.readline()
        for line in handle:
            rows += 1
            if (max_line and len(line) > max_line) or not _line_end_ok(line) or b"\0" in line:
                return None
            if b'"' in line:
                if quoted.fullmatch(line) is None:
                    return None
            elif line.count(separator) != cuts or (width == 1 and not line.strip()):
                return None
            if not line.isascii():
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None if max_records and rows > max_records else rows


def load_csv(con: Any, path: str, shape: CsvShape, types: Mapping[str, str],
             ranges: Mapping[str, tuple[float | None, float | None]], limits: Any,
             lines_view: str | None) -> bool:
    """Check every row and, when all are clean, make the views over the file (as
    ``_load`` does for JSON Lines): ``_accounts``, and ``lines_view`` when given."""
    import duckdb

    with ThreadPoolExecutor(max_workers=1) as pool:
        counting = pool.submit(count_rows, path, shape, limits.line_bytes, limits.records)
        try:
            found = con.execute(csv_check_sql(path, shape.names, shape.separator, types,
                                              ranges)).fetchone()
        except duckdb.Error:
            found = None  # a row DuckDB cannot read: the reader says where and why
        counted = counting.result()
    if counted is None or found is None:
        return False
    rows, unclean, distinct = found
    if unclean or distinct != rows or rows != counted:
        return False
    try:
        con.execute(csv_view_sql(path, shape.names, shape.separator, types, "_accounts"))
        if lines_view is not None:
            con.execute(csv_view_sql(path, shape.names, shape.separator, types, lines_view,
                                     lines=True))
    except duckdb.Error:
        return False
    return True
