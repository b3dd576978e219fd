"""JSON and JSON Lines accounts, each record located at its real line and column."""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io import fastjson
from upsell_rules.io.encoding import DEFAULT_ENCODING, codec_name, is_default
from upsell_rules.io.fastjson import loads_or_none
from upsell_rules.limits import current as current_limits
from upsell_rules.plugin.types import RawRecord, SourceContext
from upsell_rules.safetext import printable

from ._text import (
    Lines,
    LineTracker,
    NotUtf8Line,
    RecordTooLong,
    not_utf8_text,
    open_binary,
    over_input_limit,
    read_text,
)

_WHITESPACE = re.compile(r"[ \t\n\r]*")
#: The key of the account array in a file that is one object (``records_key:`` names another).
ACCOUNTS_KEY = "accounts"
_STOPPED = "; the rest of the file was not read"
_TOO_DEEP = "nested too deeply"
#: A JSON string (escapes included) or a bracket: what finding a value's end needs.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_BOM = b"\xef\xbb\xbf"


class _NonStandardConstant(ValueError):
    """``NaN`` or ``Infinity``: Python's json accepts them, the JSON standard does not."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _HugeNumber(_NonStandardConstant):
    """An integer longer than Python converts (4,300 digits): that record fails."""


#: Python refuses to convert longer integer text (CVE-2020-10735); such a record fails.
MAX_INT_DIGITS = 4300


def _reject_constant(name: str) -> Any:
    raise _NonStandardConstant(name)


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise _HugeNumber(f"a number of {len(text.lstrip('-')):,} digits")
    return int(text)


_STRICT = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int)
# Used only to find where a rejected value ends, so reading can go on after it.
_LENIENT = json.JSONDecoder(parse_int=lambda text: 0)

_Records = Generator[RawRecord | RecordError, None, int | None]


def matches_json(path: str) -> bool:
    """True for ``.json`` files (any letter case)."""
    return path.lower().endswith(".json")


def matches_jsonl(path: str) -> bool:
    """True for ``.jsonl`` and ``.ndjson`` files (any letter case)."""
    lowered = path.lower()
    return lowered.endswith((".jsonl", ".ndjson"))


def json_kind(value: Any) -> str:
    """The JSON name of a decoded value's type (object, array, string, ...)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def file_encoding(context: SourceContext) -> str:
    """The codec of the source's ``encoding`` option (UTF-8 when none is declared)."""
    return codec_name(context.options.get("encoding") or DEFAULT_ENCODING)


def read_jsonl_with_context(path: str, context: SourceContext) -> Iterator[RawRecord | RecordError]:
    """:func:`read_jsonl` in the encoding the source's options declare."""
    return read_jsonl(path, file_encoding(context))


def read_json_with_context(path: str, context: SourceContext) -> Iterator[RawRecord | RecordError]:
    """:func:`read_json` in the encoding the source's options declare, the accounts under
    the ``records_key`` they name (``accounts`` by default)."""
    key = context.options.get("records_key") or ACCOUNTS_KEY
    return read_json(path, file_encoding(context), str(key))


def read_jsonl(path: str, encoding: str = DEFAULT_ENCODING) -> Iterator[RawRecord | RecordError]:
    """Yield one record per non-blank line of a JSON Lines file, streaming it.

    Each line must hold one JSON object. A line that is not valid JSON, is JSON but not
    an object, or is longer than the current :mod:`~upsell_rules.limits` allow
    (``line_bytes``) becomes a :class:`RecordError` at that line and reading goes on.
    The file is read one line at a time, never whole; it may not exceed ``input_mb``.
    ``encoding`` is a codec name; UTF-8 (the default) is read fastest.
    """
    if not fastjson.AVAILABLE or not is_default(encoding):
        return _read_jsonl_text(path, encoding)
    return _read_jsonl_bytes(path)


def _read_jsonl_bytes(path: str) -> Iterator[RawRecord | RecordError]:
    """:func:`read_jsonl` on raw bytes: orjson decodes each line without a text copy.

    A line orjson declines (not an object, not UTF-8, a long integer, anything odd) is
    decoded and handled exactly as :func:`_read_jsonl_text` would, errors included.
    """
    limits = current_limits()
    max_line, max_bytes = limits.line_bytes, limits.input_bytes
    handle = open_binary(path, max_bytes)
    # Read at most one byte past the line limit per call: a line with no end never
    # sits in memory whole.
    chunk = max_line + 1 if max_line else -1
    readline = handle.readline
    fast = fastjson.loads_bytes_or_none
    number = 0
    total = 0
    try:
        while True:
            line = readline(chunk)
            if not line:
                return
            number += 1
            if number == 1 and line.startswith(_BOM):
                line = line[len(_BOM):]
            size = len(line)
            total += size
            if max_bytes and total > max_bytes:
                raise InputError(f"{path}:{number}: {over_input_limit(max_bytes)}")
            if max_line and size > max_line:
                while line and not line.endswith(b"\n"):
                    line = readline(chunk)
                    total += len(line)
                yield RecordError(
                    Location(path, number), f"the line is {RecordTooLong(number, max_line).message}"
                )
                continue
            values = fast(line)
            if type(values) is dict:
                if line.count(b":") > len(values) and duplicate_keys(line):
                    yield duplicate_record(Location(path, number), values, line)
                    continue
                yield RawRecord(values=values, location=Location(path, number))
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                # A stray byte costs its line, not the rest of the file.
                yield RecordError(Location(path, number), not_utf8_text(line[exc.start]))
                continue
            if text.strip():
                yield _jsonl_record(path, number, text)
    finally:
        handle.close()


def _read_jsonl_text(
    path: str, encoding: str = DEFAULT_ENCODING
) -> Iterator[RawRecord | RecordError]:
    """:func:`read_jsonl` through :class:`Lines` (where orjson is not installed, or the
    file is declared in another encoding than UTF-8)."""
    limits = current_limits()
    # Split on "\n" only: JSON strings may hold U+2028 and friends, which
    # str.splitlines() would treat as line breaks.
    lines = Lines(
        path, newline="\n", max_record_bytes=limits.line_bytes, max_bytes=limits.input_bytes,
        encoding=encoding,
    )
    try:
        while True:
            lines.mark()
            try:
                line = next(lines)
            except StopIteration:
                return
            except RecordTooLong as exc:
                yield RecordError(Location(path, exc.first_line), f"the line is {exc.message}")
                continue
            except NotUtf8Line as exc:
                yield RecordError(Location(path, exc.line), exc.message)
                continue
            if line.strip():
                yield _jsonl_record(path, lines.line, line)
    finally:
        lines.close()


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(value: Any) -> str | None:
    """The first text in ``value`` that holds a lone surrogate (no UTF-8 form), or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(
        value, list) else ()
    for key, item in items:
        found = _lone_surrogate(key) if isinstance(key, str) else None
        found = found or _lone_surrogate(item)
        if found is not None:
            return found
    return None


def _surrogate_error(location: Location, raw: str, value: Any) -> RecordError | None:
    """A record error when ``value`` (decoded from ``raw``) holds a lone surrogate.

    Such text (``"\\ud800"``) is valid JSON but cannot be written as UTF-8: the record
    fails here instead of the output failing half-way. Only text holding a surrogate
    escape is scanned, so ordinary records cost one search.
    """
    if _SURROGATE_ESCAPE.search(raw) is None:
        return None
    found = _lone_surrogate(value)
    if found is None:
        return None
    shown = found.encode("utf-8", "backslashreplace").decode("ascii", "replace")[:60]
    return RecordError(location, f"not valid text: a lone surrogate in '{shown}' (a \\uD800-"
                                 "\\uDFFF escape without its pair); fix the export")


def _jsonl_record(path: str, number: int, line: str) -> RawRecord | RecordError:
    # The fast decoder takes the usual case, an object; json decodes (and reports)
    # everything else.
    fast = loads_or_none(line)
    if type(fast) is dict:
        if line.count(":") > len(fast) and duplicate_keys(line):
            return duplicate_record(Location(path, number), fast, line)
        return RawRecord(values=fast, location=Location(path, number))
    try:
        value = _STRICT.decode(line)
    except json.JSONDecodeError as exc:
        problem = _problem(exc)
        if exc.msg == "Extra data":  # json's words for text after a whole value
            problem = ("more text after the record ends (two records on one line? each "
                       "record goes on a line of its own)")
        return RecordError(Location(path, number, exc.colno), f"not valid JSON: {problem}")
    except _NonStandardConstant as exc:
        return RecordError(Location(path, number), _constant_message(exc.name))
    except RecursionError:
        return RecordError(Location(path, number), "not valid JSON: nested too deeply")
    if isinstance(value, dict):
        if line.count(":") > len(value) and duplicate_keys(line):
            return duplicate_record(Location(path, number), value, line)
        bad = _surrogate_error(Location(path, number), line, value)
        return bad or RawRecord(values=value, location=Location(path, number))
    return RecordError(Location(path, number), f"expected a JSON object, got {json_kind(value)}")


def duplicate_keys(text: str | bytes) -> list[str]:
    """Keys written twice in one object of ``text`` (JSON itself keeps the last silently).

    Callers first compare the colons in the text with the keys decoded, so only a
    record that may hold a duplicate is decoded again.
    """
    found: list[str] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen and key not in found:
                found.append(key)
            seen.add(key)
        return dict(pairs)

    try:
        json.loads(text, object_pairs_hook=pairs_hook)
    except (ValueError, RecursionError):
        return []
    return found


def duplicate_record(location: Location, values: dict[str, Any], text: str | bytes) -> RecordError:
    """The error for a record with a key written twice: it fails, never last-wins."""
    keys = duplicate_keys(text)
    account = values.get("account_id")
    return RecordError(
        location,
        f"key {', '.join(repr(k) for k in keys)} appears twice in the record; JSON would keep "
        "the last value without a word, so the record is not used (remove one)",
        field=keys[0] if keys else "",
        account_id=account if isinstance(account, str) else "",
    )


def read_json(path: str, encoding: str = DEFAULT_ENCODING,
              key: str = ACCOUNTS_KEY) -> Iterator[RawRecord | RecordError]:
    """Yield one record per object of a JSON file.

    The file holds an array of account objects, or an object whose ``key`` (by default
    ``"accounts"``; ``"results"`` in HubSpot's API, ``"records"`` in Salesforce's) holds
    that array. Each record is located at its opening brace. An element that is
    not an object becomes a :class:`RecordError` and reading goes on. A syntax error
    becomes one :class:`RecordError` at its line and column and reading stops there:
    past a syntax error there is no reliable way to tell where the next record starts.

    The file is decoded whole (records are still decoded one at a time), so it is capped
    at the ``json_mb`` limit (256 MB unless set otherwise); JSON Lines streams instead.

    Raises :class:`InputError` when the file is larger than that, is empty, does not
    decode in ``encoding`` (a codec name, UTF-8 by default), or its top level has the
    wrong shape.
    """
    limits = current_limits()
    text = read_text(
        path, limits.json_bytes, "JSON is read whole; use JSON Lines for larger files, "
        "or raise UPSELL_RULES_MAX_JSON_MB", encoding,
    )
    reader = _JsonReader(path, text, key)
    pos = reader.skip(0)
    if pos == len(text):
        raise InputError(f"{path}: the file is empty; {_shape(key)}")
    first = text[pos]
    if first == "[":
        end = yield from reader.array(pos)
    elif first == "{":
        end = yield from reader.wrapper(pos)
    else:
        end = yield from reader.other_top_level(pos)
    if end is None:
        return
    pos = reader.skip(end)
    if pos < len(text):
        yield reader.syntax_error(pos, "Extra data")


def _shape(key: str = ACCOUNTS_KEY) -> str:
    return f'expected a JSON array of accounts, or an object holding that array under "{key}"'


class _JsonReader:
    """Walks one JSON document, decoding each account separately to keep its position."""

    def __init__(self, path: str, text: str, key: str = ACCOUNTS_KEY) -> None:
        self.path = path
        self.text = text
        self.key = key
        self.lines = LineTracker(text)

    def skip(self, pos: int) -> int:
        """The first offset at or after ``pos`` that is not JSON whitespace."""
        match = _WHITESPACE.match(self.text, pos)
        return match.end() if match else pos

    def location(self, pos: int) -> Location:
        """The location of offset ``pos``."""
        line, col = self.lines.at(pos)
        return Location(self.path, line, col)

    def syntax_error(self, pos: int, message: str) -> RecordError:
        """A syntax error at ``pos`` that ends reading."""
        return RecordError(self.location(pos), f"not valid JSON: {message}{_STOPPED}")

    def decode_error(self, exc: json.JSONDecodeError) -> RecordError:
        """A syntax error reported by the decoder (it knows its own line and column)."""
        return RecordError(
            Location(self.path, exc.lineno, exc.colno),
            f"not valid JSON: {_problem(exc)}{_STOPPED}",
        )

    def value(self, pos: int) -> tuple[Any, int] | RecordError:
        """Decode the value at ``pos``: (value, end), or the error that ends reading.
        Raises ``RecursionError`` for a value nested deeper than the decoder goes."""
        try:
            return _STRICT.raw_decode(self.text, pos)
        except json.JSONDecodeError as exc:
            return self.decode_error(exc)

    def array(self, pos: int) -> _Records:
        """Yield the records of the array opening at ``pos``; return the offset after it.

        Returns ``None`` when a syntax error stopped reading.
        """
        text = self.text
        pos = self.skip(pos + 1)
        if text.startswith("]", pos):
            return pos + 1
        while True:
            start = pos
            try:
                decoded = self.value(pos)
            except _NonStandardConstant as exc:
                # Report this element, then find its end with the lenient decoder so the
                # records after it are still read.
                try:
                    _, end = _LENIENT.raw_decode(text, pos)
                except (json.JSONDecodeError, RecursionError):
                    yield RecordError(self.location(start), _constant_message(exc.name))
                    return None
                yield RecordError(self.location(start), _constant_message(exc.name))
            except RecursionError:
                end = _nested_end(text, start)
                if end is None or not text.startswith((",", "]"), self.skip(end)):
                    yield self.syntax_error(start, _TOO_DEEP)
                    return None
                # Valid JSON past the decoder's depth: this element fails, the records
                # after it are still read.
                yield RecordError(self.location(start), f"not valid JSON: {_TOO_DEEP}")
            else:
                if isinstance(decoded, RecordError):
                    yield decoded
                    return None
                value, end = decoded
                bad = (_surrogate_error(self.location(start), text[start:end], value)
                       if isinstance(value, dict) else None)
                piece = text[start:end]
                if bad is not None:
                    yield bad
                elif (isinstance(value, dict) and piece.count(":") > len(value)
                        and duplicate_keys(piece)):
                    yield duplicate_record(self.location(start), value, piece)
                elif isinstance(value, dict):
                    yield RawRecord(values=value, location=self.location(start))
                else:
                    yield RecordError(
                        self.location(start),
                        f"expected a JSON object for each account, got {json_kind(value)}",
                    )
            pos = self.skip(end)
            if text.startswith(",", pos):
                pos = self.skip(pos + 1)
                if text.startswith("]", pos):
                    yield self.syntax_error(pos, "trailing comma before ']'")
                    return None
            elif text.startswith("]", pos):
                return pos + 1
            else:
                yield self.syntax_error(pos, "Expecting ',' delimiter")
                return None

    def wrapper(self, pos: int) -> _Records:
        """Yield the records of the accounts array (under :attr:`key`) of the object opening
        at ``pos``.

        Returns the offset after the object, or ``None`` when a syntax error stopped
        reading. Raises :class:`InputError` when there is no such array, naming the keys
        that hold arrays (an API's envelope: ``results``, ``records``) and how to read one.
        """
        text = self.text
        object_start = pos
        found = False
        arrays: list[str] = []
        pos = self.skip(pos + 1)
        if text.startswith("}", pos):
            raise InputError(f"{self.location(object_start)}: {_shape(self.key)}; the object "
                             "is empty")
        while True:
            key_start = pos
            if not text.startswith('"', pos):
                yield self.syntax_error(pos, "Expecting property name enclosed in double quotes")
                return None
            decoded = self.value(pos)
            if isinstance(decoded, RecordError):
                yield decoded
                return None
            key, pos = decoded
            pos = self.skip(pos)
            if not text.startswith(":", pos):
                yield self.syntax_error(pos, "Expecting ':' delimiter")
                return None
            pos = self.skip(pos + 1)
            if key == self.key and not found:
                found = True
                if not text.startswith("[", pos):
                    yield from self._not_an_accounts_array(pos)
                    return None
                end = yield from self.array(pos)
                if end is None:
                    return None
                pos = end
            else:
                if key == self.key:
                    yield RecordError(
                        self.location(key_start),
                        f'a second "{self.key}" key is ignored; only the first one is read',
                    )
                if text.startswith("[", pos) and len(arrays) < 5:
                    arrays.append(key)
                try:
                    _, pos = _LENIENT.raw_decode(text, pos)
                except json.JSONDecodeError as exc:
                    yield self.decode_error(exc)
                    return None
                except RecursionError:
                    yield self.syntax_error(pos, "nested too deeply")
                    return None
            pos = self.skip(pos)
            if text.startswith(",", pos):
                pos = self.skip(pos + 1)
            elif text.startswith("}", pos):
                break
            else:
                yield self.syntax_error(pos, "Expecting ',' delimiter")
                return None
        if not found:
            hint = ""
            if arrays:
                named = ", ".join(f'"{printable(k)}"' for k in arrays)
                hint = (f" (it has an array under {named}: declare records_key: "
                        f"{printable(arrays[0])} under sources: json: in the ruleset, "
                        "docs/data.md)")
            raise InputError(f'{self.location(object_start)}: {_shape(self.key)}; this '
                             f'object has no "{self.key}" key{hint}')
        return pos + 1

    def _not_an_accounts_array(self, pos: int) -> _Records:
        """Explain an ``"accounts"`` value that is not an array (a syntax error, or raise)."""
        try:
            value, _ = _LENIENT.raw_decode(self.text, pos)
        except json.JSONDecodeError as exc:
            yield self.decode_error(exc)
            return None
        except RecursionError:
            yield self.syntax_error(pos, "nested too deeply")
            return None
        raise InputError(
            f'{self.location(pos)}: "{self.key}" must be an array of account objects, '
            f"got {json_kind(value)}"
        )

    def other_top_level(self, pos: int) -> _Records:
        """The top level is neither an array nor an object: a syntax error, or raise."""
        try:
            value, _ = _LENIENT.raw_decode(self.text, pos)
        except json.JSONDecodeError as exc:
            yield self.decode_error(exc)
            return None
        raise InputError(f"{self.location(pos)}: {_shape(self.key)}, got {json_kind(value)}")


def _problem(exc: json.JSONDecodeError) -> str:
    """The decoder's message, said fully where it trails off ("Invalid control character at")."""
    if exc.msg.startswith("Invalid control character") and 0 <= exc.pos < len(exc.doc):
        code = ord(exc.doc[exc.pos])
        return (f"a control character (U+{code:04X}) inside a string; JSON writes it as the "
                f"escape \\u{code:04x}")
    return exc.msg


def _nested_end(text: str, pos: int) -> int | None:
    """The offset after the array or object opening at ``pos``, found by counting
    brackets outside strings (no recursion, however deep), or ``None`` when it does not
    close."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text, pos):
        mark = match.group()
        if mark in "[{":
            depth += 1
        elif mark in "]}":
            depth -= 1
            if depth == 0:
                return match.end()
    return None


def _constant_message(name: str) -> str:
    if name.startswith("a number of "):
        return (f"{name}: longer than the {MAX_INT_DIGITS:,} digits a number may have "
                "(a limit: see docs/security.md)")
    return f"not valid JSON: {name} is not a JSON value (use null or a number)"
