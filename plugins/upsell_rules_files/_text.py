"""Reading an input file as text, with errors that name the file and the place.

Two ways in: :func:`read_text` for a format that needs the whole file (a JSON array),
capped in size; and :class:`Lines`, which streams a file line by line in bounded memory
(CSV and JSON Lines), with a cap on the length of one record and of the whole file.
Both decode UTF-8, or the encoding the source declares (:mod:`upsell_rules.io.encoding`),
and name the line of the first byte that does not decode.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO

from upsell_rules.errors import InputError
from upsell_rules.io.encoding import (
    DEFAULT_ENCODING,
    bom_problem,
    decoding_problem,
    is_default,
    is_wide,
    misdeclared,
    reads_as_utf8,
    undecodable,
)
from upsell_rules.io.records import SPREADSHEET_HINT
from upsell_rules.limits import MB, describe_size

#: How spreadsheet workbooks start: a zip archive (xlsx, ods, numbers) or an OLE2
#: compound file (xls). Text exports never start so.
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _open(path: str, encoding: str = DEFAULT_ENCODING) -> BinaryIO:
    try:
        handle = open(path, "rb")  # noqa: SIM115 (returned open to the caller)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        # A Numbers document is a folder on macOS.
        hint = f"; a spreadsheet: {SPREADSHEET_HINT}" if path.lower().endswith(".numbers") else ""
        raise InputError(f"{path}: is a directory, not a data file{hint}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    start = handle.peek(8)[:8]
    if start.startswith(_WORKBOOK_MAGIC):
        handle.close()
        raise InputError(f"{path}:1: this is a spreadsheet workbook, not text: {SPREADSHEET_HINT}")
    problem = _bom_problem(start, encoding)
    if problem:
        handle.close()
        raise InputError(f"{path}:1: {problem}")
    return handle


def _bom_problem(start: bytes, encoding: str) -> str:
    """What a byte-order mark says against the declared ``encoding`` ("" when they agree);
    a UTF-16 file may also be a spreadsheet's text export, so the message says how to
    save it as CSV."""
    return bom_problem(start, encoding, hint=f", or {SPREADSHEET_HINT}")


def _megabytes(limit: int) -> str:
    """A byte limit set in MB, shown the way it was set (0.001 MB, not 0.000999451)."""
    return f"{limit / MB:.4g} MB"


def _check_size(path: str, handle: BinaryIO, limit: int, option: str) -> None:
    """Refuse a regular file above ``limit`` bytes before reading any of it."""
    if not limit:
        return
    try:
        size = os.fstat(handle.fileno()).st_size
    except OSError:
        return
    if size > limit:
        handle.close()
        raise InputError(
            f"{path}: the file is {describe_size(size)}, above the {_megabytes(limit)} limit "
            f"({option})"
        )


def open_binary(path: str, max_bytes: int = 0, option: str = "--max-input-mb") -> BinaryIO:
    """Open ``path`` for reading bytes, refusing a regular file above ``max_bytes``."""
    handle = _open(path)
    _check_size(path, handle, max_bytes, option)
    return handle


def over_input_limit(max_bytes: int, option: str = "--max-input-mb") -> str:
    """What to say when a streamed file goes past ``max_bytes`` (without the location)."""
    return f"more than {_megabytes(max_bytes)} ({option})"


def not_utf8_text(byte: int) -> str:
    """What to say of text holding ``byte``, which is not UTF-8 (without the location)."""
    return undecodable(byte, DEFAULT_ENCODING)


def not_utf8(path: str, line: int, byte: int) -> InputError:
    """The error for the first byte of a file that is not UTF-8, at its line."""
    return InputError(f"{path}:{line}: {not_utf8_text(byte)}")


class NotUtf8Line(Exception):
    """Line ``line`` does not decode in the file's encoding (UTF-8 unless declared).

    Raised by :class:`Lines` once the line is read, so reading can go on with the next
    one: a stray byte costs its record, not the rest of the file. ``reason`` says what
    is wrong (:func:`~upsell_rules.io.encoding.decoding_problem`: a byte that does not
    decode, or a UTF-8 line in a file declared in a code page).
    """

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(line, reason)
        self.line = line
        self.reason = reason

    @property
    def message(self) -> str:
        """What to tell the user (without the location)."""
        return self.reason

    def error(self, path: str) -> InputError:
        """The error that stops a file at this line (a header row, say)."""
        return InputError(f"{path}:{self.line}: {self.reason}")


def read_text(
    path: str, max_bytes: int = 0, option: str = "--max-input-mb",
    encoding: str = DEFAULT_ENCODING,
) -> str:
    """Return the whole file decoded as ``encoding`` (a leading byte-order mark is dropped).

    Raises :class:`InputError` naming the file when it cannot be opened or is larger
    than ``max_bytes`` (0: no limit; ``option`` names the setting that raises it), and
    naming the line when it does not decode, or is UTF-8 declared as a code page.
    """
    with _open(path, encoding) as handle:
        _check_size(path, handle, max_bytes, option)
        try:
            data = handle.read(max_bytes + 1) if max_bytes else handle.read()
        except OSError as exc:
            raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
        if max_bytes and len(data) > max_bytes:
            # Not a regular file (a pipe), so its size was unknown until now.
            raise InputError(f"{path}: more than {_megabytes(max_bytes)} ({option})")
    codec = "utf-8-sig" if is_default(encoding) else encoding
    try:
        text = data.decode(codec).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        if is_wide(encoding):
            line = data[: exc.start].decode(codec, "replace").count("\n") + 1
        raise InputError(f"{path}:{line}: {undecodable(data[exc.start], encoding)}") from None
    if reads_as_utf8(text, encoding):
        first = next(n for n, part in enumerate(text.split("\n"), 1) if not part.isascii())
        raise InputError(f"{path}:{first}: {misdeclared(text, encoding)}")
    return text


class RecordTooLong(Exception):
    """One record (a CSV row, a JSON Lines line) is longer than the limit.

    Raised by :class:`Lines` after it has skipped the rest of the offending line, so
    reading can go on with the next one. ``first_line`` is where the record started.
    """

    def __init__(self, first_line: int, limit: int) -> None:
        super().__init__(first_line, limit)
        self.first_line = first_line
        self.limit = limit

    @property
    def message(self) -> str:
        """What to tell the user (without the location)."""
        return f"longer than {self.limit:,} bytes (--max-line-bytes); skipped"


class Lines:
    """A UTF-8 text file as an iterator of lines, holding one line in memory at a time.

    Each line keeps its line ending (what :mod:`csv` wants). ``newline`` is ``""`` for
    universal line endings (CSV) or ``"\\n"`` to split on LF only (JSON Lines, whose
    strings may hold U+2028 and friends). ``line`` is the number of the last line
    returned. :meth:`mark` starts a new record: when the lines returned since the last
    mark exceed ``max_record_bytes``, :class:`RecordTooLong` is raised instead of the
    line, and the next call goes on after it; so is :class:`NotUtf8Line` for a line
    holding a byte that is not UTF-8. A file larger than ``max_bytes`` raises
    :class:`InputError` at its line. 0 turns a limit off. ``encoding`` is the file's
    declared encoding (UTF-8 by default); in a one-byte code page, a line that is UTF-8
    text raises :class:`NotUtf8Line` too, saying so (see :mod:`upsell_rules.io.encoding`).
    """

    def __init__(
        self,
        path: str,
        *,
        newline: str,
        max_record_bytes: int = 0,
        max_bytes: int = 0,
        size_option: str = "--max-input-mb",
        encoding: str = DEFAULT_ENCODING,
    ) -> None:
        self.path = path
        self.line = 0
        self._max_record = max_record_bytes
        self._max_bytes = max_bytes
        self._size_option = size_option
        self._record_start = 1
        self._record_bytes = 0
        self._total = 0
        raw = _open(path, encoding)
        _check_size(path, raw, max_bytes, size_option)
        self._encoding = encoding
        self._text = io.TextIOWrapper(
            raw, encoding="utf-8-sig" if is_default(encoding) else encoding,
            errors="surrogateescape", newline=newline,
        )
        self._ends = ("\n",) if newline == "\n" else ("\n", "\r")
        # Read at most one byte past the record limit per call: a line with no end
        # (a whole file without line breaks) never sits in memory.
        self._chunk = max_record_bytes + 1 if max_record_bytes else -1

    def __iter__(self) -> Lines:
        return self

    def mark(self) -> None:
        """The next line starts a new record."""
        self._record_start = self.line + 1
        self._record_bytes = 0

    def close(self) -> None:
        """Close the file."""
        self._text.close()

    def __next__(self) -> str:
        if self._text.closed:
            # The csv module asks again after reporting a quote left open at the end.
            raise StopIteration
        try:
            line = self._text.readline(self._chunk)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read the file: {exc.strerror or exc}") from None
        if not line:
            self.close()
            raise StopIteration
        self.line += 1
        if self.line == 1 and line.startswith("\ufeff"):
            line = line[1:]  # a byte-order mark under utf-16-le / -be
        ascii_only = line.isascii()
        size = len(line) if ascii_only else len(line.encode("utf-8", "surrogateescape"))
        self._total += size
        if self._max_bytes and self._total > self._max_bytes:
            self.close()
            raise InputError(
                f"{self.path}:{self.line}: {over_input_limit(self._max_bytes, self._size_option)}"
            )
        self._record_bytes += size
        if self._max_record and self._record_bytes > self._max_record:
            self._skip_rest(line)
            start = self._record_start
            self.mark()
            raise RecordTooLong(start, self._max_record)
        if not ascii_only:
            problem = decoding_problem(line, self._encoding)
            if problem:
                raise NotUtf8Line(self.line, problem)
        return line

    def _skip_rest(self, line: str) -> None:
        """Read past the end of the current line without keeping it."""
        while line and not line.endswith(self._ends):
            line = self._text.readline(self._chunk)
            self._total += len(line)


class LineTracker:
    """Turns character offsets into 1-based (line, column) pairs.

    Offsets are usually asked for in increasing order, so it counts newlines only
    between the previous offset and the new one, keeping a whole file linear.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._offset = 0
        self._line = 1
        self._line_start = 0

    def at(self, offset: int) -> tuple[int, int]:
        """The (line, column) of ``offset``, both counted from 1."""
        if offset < self._offset:
            self._offset, self._line, self._line_start = 0, 1, 0
        newlines = self._text.count("\n", self._offset, offset)
        if newlines:
            self._line += newlines
            self._line_start = self._text.rfind("\n", self._offset, offset) + 1
        self._offset = offset
        return self._line, offset - self._line_start + 1
