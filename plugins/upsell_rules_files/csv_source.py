"""CSV accounts: one header row, then one account per row (lists written as ``a|b|c``).

Cells are separated by commas, or by tabs in a ``.tsv`` / ``.tab`` file; a ruleset may
declare another separator for its CSV source (``sources: {csv: {delimiter: ";"}}``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io.contract import TOTALS_ROW_ID
from upsell_rules.io.encoding import DEFAULT_ENCODING, codec_name
from upsell_rules.io.mapping import mapped_columns
from upsell_rules.limits import current as current_limits
from upsell_rules.plugin.types import RawRecord, SourceContext

from ._text import Lines, NotUtf8Line, RecordTooLong

ID_COLUMN = "account_id"
_TOTALS_ROW = re.compile(TOTALS_ROW_ID)
#: File endings the CSV source reads, and the separator each implies.
SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
#: The separators a ruleset may declare (``delimiter:``), by the name it may give them.
DELIMITERS = {",": ",", ";": ";", "|": "|", "\t": "\t", "tab": "\t"}


def matches_csv(path: str) -> bool:
    """True for ``.csv``, ``.tsv`` and ``.tab`` files (any letter case)."""
    return path.lower().endswith(tuple(SUFFIXES))


def delimiter_for(path: str, declared: object = None) -> str:
    """The cell separator: the declared one, else the file ending's (a comma for others)."""
    if declared is not None and str(declared) in DELIMITERS:
        return DELIMITERS[str(declared)]
    lowered = path.lower()
    return next((sep for end, sep in SUFFIXES.items() if lowered.endswith(end)), ",")


def delimiter_problems(value: object) -> list[tuple[str, str]]:
    """Why ``value`` is not a separator the CSV source reads (empty when it is one)."""
    if str(value) in DELIMITERS:
        return []
    return [("", f"delimiter {value!r} is not one of ',', ';', '|', tab (written \"\\t\" "
                 "or tab)")]


def read_csv_with_context(path: str, context: SourceContext) -> Iterator[RawRecord | RecordError]:
    """:func:`read_csv` for a source with options: the id column may be mapped.

    With a column mapping (``columns:`` or a ``preset:``), the column mapped to
    ``account_id`` is the one the header must have; the core renames and converts. The
    ``encoding`` option names the file's text encoding (UTF-8 by default).
    """
    columns = mapped_columns(context.options) if context.options else {}
    id_column = next((c for c, f in columns.items() if f == ID_COLUMN), ID_COLUMN)
    encoding = codec_name(context.options.get("encoding") or DEFAULT_ENCODING)
    return read_csv(path, id_column, delimiter_for(path, context.options.get("delimiter")),
                    encoding)


def read_csv(
    path: str, id_column: str = ID_COLUMN, delimiter: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> Iterator[RawRecord | RecordError]:
    """Yield one record per data row of a CSV file, streaming it.

    ``delimiter`` separates the cells: by default a tab in a ``.tsv`` / ``.tab`` file,
    else a comma (:func:`delimiter_for`). ``encoding`` is the file's declared encoding
    (a codec name, :func:`~upsell_rules.io.encoding.codec_name`).

    The first non-blank row is the header. Cells are stripped of surrounding whitespace
    and kept as text (the core coerces them); empty cells are left out, so they read as
    missing. A record's location is the line its row starts on, which is right even when
    a quoted cell spans several lines. Blank rows, and rows whose cells are all empty,
    are skipped. A quote left open never swallows the rows after it: the row fails on
    its own with its line range (see :func:`physical_records`) and reading goes on.
    A row with more non-empty cells than the header has columns is reported
    as a :class:`RecordError` and reading goes on; trailing empty cells are tolerated
    because spreadsheet exports often add them. So is a row longer than the current
    :mod:`~upsell_rules.limits` allow (``line_bytes``); reading resumes on the next line.

    The file is read one line at a time, never whole. Raises :class:`InputError` when
    the file cannot be read, is larger than the ``input_mb`` limit, has a header row that
    does not decode (a data row that does not fails alone), has no header, has no
    ``account_id`` column, or names a column twice.
    """
    limits = current_limits()
    lines = Lines(
        path, newline="", max_record_bytes=limits.line_bytes, max_bytes=limits.input_bytes,
        encoding=encoding,
    )
    try:
        yield from _rows(path, lines, id_column, delimiter or delimiter_for(path))
    finally:
        lines.close()


#: A quoted cell may span lines (a note with line breaks), but a record longer than this
#: many lines fails on its own: a quote left open must not swallow the rest of the file.
MAX_RECORD_LINES = 50


def scan_line(line: str, quoted: bool, sep: str = ",") -> tuple[bool, int]:
    """Follow one physical line through the reader's dialect.

    ``quoted`` says whether the line starts inside a quoted cell. Returns whether it
    ends inside one, and how many cell separators it holds outside quotes plus one (the
    cells it has, when it starts a record). A quote opens a quoted cell only as the first
    character of a cell (after leading spaces); ``""`` inside one is a literal quote.
    """
    if '"' not in line:
        return quoted, line.count(sep) + 1
    cells = 1
    at_start = not quoted
    i = 0
    length = len(line)
    while i < length:
        char = line[i]
        i += 1
        if quoted:
            if char == '"':
                if i < length and line[i] == '"':
                    i += 1
                else:
                    quoted = False
            continue
        if char == sep:
            cells += 1
            at_start = True
        elif char == '"' and at_start:
            quoted = True
            at_start = False
        elif char != " ":
            at_start = False
    return quoted, cells


def closes_cell(line: str, sep: str = ",") -> bool:
    """True when ``line``, read inside an open quoted cell, closes it the way a writer does.

    That is a quote (not a doubled one) followed by a separator or the end of the line:
    the tail of a cell that really spans lines. A stray quote left open meets the next
    row's first quote followed by text, or no quote at all.
    """
    i = 0
    length = len(line)
    while True:
        i = line.find('"', i)
        if i < 0:
            return False
        if i + 1 < length and line[i + 1] == '"':
            i += 2
            continue
        rest = line[i + 1 : i + 2]
        return rest in ("", sep, "\r", "\n")


class _Feed:
    """The lines of one record at a time, for a csv reader that outlives the records."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        if not self.lines:
            raise StopIteration
        return self.lines.pop(0)


def physical_records(
    lines: Lines, width: int, sep: str = ","
) -> Iterator[tuple[int, int, list[str] | str]]:
    """Group the lines after the header into records: ``(first, last, lines or error)``.

    A record is one line, or several when a quoted cell holds line breaks. While a
    quote is open, a line that on its own reads as a complete record (its quotes closed
    and at least ``width`` cells) starts a new record, and the open one fails with its
    line range; so does one that goes past :data:`MAX_RECORD_LINES` lines or the end of
    the file. Every line is in exactly one record, so nothing is lost silently.
    """
    pending: str | None = None
    while True:
        lines.mark()
        if pending is None:
            try:
                line = next(lines)
            except StopIteration:
                return
            except RecordTooLong as exc:
                yield exc.first_line, lines.line, f"the row is {exc.message}"
                continue
            except NotUtf8Line as exc:
                yield exc.line, exc.line, f"the row is {exc.message}"
                continue
        else:
            line, pending = pending, None
        first = lines.line
        group = [line]
        if '"' not in line:
            yield first, first, group
            continue
        quoted, _ = scan_line(line, False, sep)
        while quoted:
            if len(group) >= MAX_RECORD_LINES:
                yield first, lines.line, (
                    f"a quote opened in the row is still open after {MAX_RECORD_LINES} "
                    "lines; close it (a quote inside a cell is written \"\")"
                )
                break
            try:
                line = next(lines)
            except StopIteration:
                yield first, lines.line, (
                    "a quote opened in the row is never closed (a quote inside a cell "
                    'is written "")'
                )
                break
            except (RecordTooLong, NotUtf8Line) as exc:
                why = (f"line {exc.line} of the row is {exc.message}"
                       if isinstance(exc, NotUtf8Line) else f"the row is {exc.message}")
                # The rest of its quoted cell belongs to the failed row, not to new ones.
                last, pending = _rest_of_cell(lines, width, sep, len(group) + 1)
                yield first, last, why
                break
            if _reads_as_a_row(line, width, sep):
                pending = line
                yield first, lines.line - 1, (
                    f"a quote opened in the row is not closed before line {lines.line}, "
                    "which reads as a new row (a quote inside a cell is written \"\")"
                )
                break
            quoted, _ = scan_line(line, True, sep)
            group.append(line)
        else:
            yield first, lines.line, group


def _reads_as_a_row(line: str, width: int, sep: str) -> bool:
    """Whether ``line``, met while a quoted cell is open, reads on its own as a complete
    row (quotes closed, at least ``width`` cells) rather than as the cell's next line."""
    alone, cells = scan_line(line, False, sep)
    return not alone and cells >= width and bool(line.strip()) and not closes_cell(line, sep)


def _rest_of_cell(lines: Lines, width: int, sep: str, taken: int) -> tuple[int, str | None]:
    """Read past the rest of an open quoted cell whose row already failed: through the
    line that closes it, or up to a line that reads as a new row (returned, to be read as
    one), within :data:`MAX_RECORD_LINES` lines in all (``taken`` so far). Returns the
    failed row's last line and that new row's line, if any."""
    while taken < MAX_RECORD_LINES:
        try:
            line = next(lines)
        except StopIteration:
            break
        except (RecordTooLong, NotUtf8Line):
            taken += 1
            continue
        if _reads_as_a_row(line, width, sep):
            return lines.line - 1, line
        taken += 1
        if closes_cell(line, sep):
            break
    return lines.line, None


def _rows(
    path: str, lines: Lines, id_column: str, sep: str
) -> Iterator[RawRecord | RecordError]:
    header = _read_header(path, lines, id_column, sep)
    width = len(header)
    # Columns with an empty name (a trailing comma in the header) carry nothing.
    columns = [(index, name) for index, name in enumerate(header) if name]
    every_named = len(columns) == width
    id_index = header.index(id_column)

    feed = _Feed()
    # skipinitialspace lets `a, "b, c"` quote its second cell the way people mean it.
    reader = csv.reader(feed, skipinitialspace=True, delimiter=sep)
    for first, last, group in physical_records(lines, width, sep):
        where = Location(path, first)
        span = f" (lines {first}-{last})" if last > first else ""
        if isinstance(group, str):
            yield RecordError(where, group + span)
            continue
        text = group[0]
        ends_open = not group[-1].endswith(("\n", "\r"))  # the file ends in this row
        if len(group) == 1 and '"' not in text and "\0" not in text:
            # No quote: the reader would split at the commas (and the cells are stripped
            # below), so split here, several times faster.
            row = text.rstrip("\r\n").split(sep) if text.strip() else []
        else:
            feed.lines = group
            try:
                row = next(reader, [])
            except csv.Error as exc:
                feed.lines = []
                yield RecordError(where, f"cannot parse the row{span}: {exc}")
                continue
        if not row:
            continue
        if len(row) == 1 < width and row[0].strip():
            # No writer leaves out every separator of an account's row; a line of one
            # cell is text under the data (Salesforce's report footer, a note). Read as
            # an account, its text would become an account id and be decided.
            yield RecordError(where, f"row has 1 cell, the header has {width}{span}: "
                              f"not an account row (a report footer or a note?); "
                              f"remove it from the export")
            continue
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            account_id = row[id_index].strip()
            yield RecordError(
                where,
                f"row has {len(row)} cells, the header has {width}{span}",
                account_id=account_id,
            )
            continue
        if len(row) < width and ends_open:
            # A short row that the file ends in: most likely an export still being
            # written (watch mode sees such files). Deciding it would read its missing
            # cells as missing values.
            yield RecordError(
                where,
                f"row has {len(row)} cells, the header has {width}, and the file ends "
                f"inside it{span}: is the file still being written?",
                account_id=row[id_index].strip() if id_index < len(row) else "",
            )
            continue
        values: dict[str, str]
        if every_named:
            # zip stops at the shorter: a short row, or trailing empty cells past the header.
            cells = zip(header, map(str.strip, row), strict=False)
            values = {name: cell for name, cell in cells if cell}
        else:
            values = {}
            cell_count = len(row)
            for index, name in columns:
                if index < cell_count:
                    cell = row[index].strip()
                    if cell:
                        values[name] = cell
        account_id = values.get(id_column, "")
        if account_id[:1] in "GgTtSs" and _TOTALS_ROW.fullmatch(account_id):
            yield RecordError(where, f"{id_column} {account_id!r} is a report's totals row, "
                              f"not an account{span}; remove it from the export")
        elif values:
            yield RawRecord(values=values, location=where)
        elif any(cell.strip() for cell in row):
            yield RecordError(where, f"the row has no value under a named column{span}")


class _Recorder:
    """Passes lines through to the csv reader and keeps those of the current row."""

    def __init__(self, lines: Lines) -> None:
        self.lines = lines
        self.kept: list[str] = []

    def __iter__(self) -> _Recorder:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.kept.append(line)
        return line


def _read_header(
    path: str, lines: Lines, id_column: str = ID_COLUMN, sep: str = ","
) -> list[str]:
    """Read and check the header row; return its names, stripped."""
    recorder = _Recorder(lines)
    # A reader of its own: it stops at the end of the header row, and the data rows
    # are read without the recorder in the way.
    reader = csv.reader(recorder, skipinitialspace=True, delimiter=sep)
    previous_end = 0
    row: list[str] = []
    try:
        while True:
            lines.mark()
            recorder.kept.clear()
            row = next(reader, [])
            if not row and lines.line == previous_end:
                break  # end of file
            if any(cell.strip() for cell in row):
                break
            previous_end = lines.line
            row = []
    except csv.Error as exc:
        raise InputError(f"{path}:{previous_end + 1}: cannot parse the header row: {exc}") from None
    except RecordTooLong as exc:
        raise InputError(f"{path}:{exc.first_line}: the header row is {exc.message}") from None
    except NotUtf8Line as exc:
        raise exc.error(path) from None
    if not row:
        raise InputError(f"{path}:1: no header row")
    line = previous_end + 1
    names = [cell.strip() for cell in row]
    starts = cell_starts("".join(recorder.kept), sep)

    def where(index: int) -> Location:
        # The scanner and the csv module agree on the default dialect; should they not,
        # fall back to the header's line without a column rather than fail.
        if index >= len(starts):
            return Location(path, line)
        lines_down, col = starts[index]
        return Location(path, line + lines_down, col)

    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            continue
        if name in seen:
            first = where(seen[name])
            raise InputError(
                f"{where(index)}: duplicate column '{name}' in the header "
                f"(first at {first.line}:{first.col})"
            )
        seen[name] = index

    if id_column not in seen:
        raise InputError(f"{path}:{line}: {_missing_id_message(names, id_column, sep)}")
    return names


def _missing_id_message(names: list[str], id_column: str = ID_COLUMN, sep: str = ",") -> str:
    """Explain a header without ``account_id``, with a hint for the usual causes."""
    message = f"the header has no '{id_column}' column"
    if id_column != ID_COLUMN:
        message += " (the column the mapping reads as account_id)"
    near = [name for name in names if name.lower() == id_column.lower() and name != id_column]
    if near:
        return f"{message} (found '{near[0]}'; column names are case-sensitive)"
    others = [s for s in (",", ";", "\t", "|") if s != sep and s in names[0]]
    if len(names) == 1 and others:
        shown = "tabs" if others[0] == "\t" else repr(others[0])
        rename = {"\t": ", or name the file .tsv", ",": ", or name the file .csv"}
        written = "tab" if others[0] == "\t" else f"'{others[0]}'"
        return (f"{message} (the file looks separated by {shown}: declare it in the ruleset, "
                f"sources: {{csv: {{delimiter: {written}}}}}{rename.get(others[0], '')})")
    return message


def cell_starts(raw: str, sep: str = ",") -> list[tuple[int, int]]:
    """Where each cell of one CSV row starts, as (lines after the row's first line, col).

    Follows the reader's dialect: a quote opens a quoted cell only as the first
    character of a cell (after any leading spaces), ``""`` inside a quoted cell is a
    literal quote, and a line break ends the row unless it is inside a quoted cell.
    """
    starts = [(0, 1)]
    line, col = 0, 1
    at_cell_start = True
    quoted = False
    i = 0
    length = len(raw)
    while i < length:
        char = raw[i]
        i += 1
        if char in "\r\n":
            if not quoted:
                break
            if char == "\n":
                line, col = line + 1, 1
            continue
        if quoted:
            if char == '"':
                if i < length and raw[i] == '"':
                    i += 1
                    col += 1
                else:
                    quoted = False
        elif char == '"' and at_cell_start:
            quoted = True
        elif char == " " and at_cell_start:
            col += 1
            continue
        elif char == sep:
            starts.append((line, col + 1))
            col += 1
            at_cell_start = True
            continue
        at_cell_start = False
        col += 1
    return starts
