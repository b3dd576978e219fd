"""The text encoding of an input file: declared, never guessed (docs/data.md).

A file is UTF-8 unless its source's ``encoding:`` option (``sources.csv.encoding`` in the
ruleset) or ``--encoding`` on the command line names another. Excel's plain "CSV (Comma
delimited)" on Windows writes ``cp1252``, older exports ``latin-1``, Excel's "Unicode
Text" ``utf-16``. This module turns a name into the codec that reads it, refusing a name
no codec answers to, and recognises the usual mistake: a file declared in a one-byte
code page that is really UTF-8 (``Zoë`` would read as ``ZoÃ«``).
"""

from __future__ import annotations

import codecs
import io
import re
from typing import TextIO

from upsell_rules.errors import InputError

#: Bytes that are not UTF-8 decode to these lone surrogates (``surrogateescape``); real
#: text never contains them, so one marks the first undecodable byte.
_UNDECODABLE = re.compile("[\udc80-\udcff]")

#: The encoding of a file nobody declared one for.
DEFAULT_ENCODING = "utf-8"

#: How to declare an encoding, for the message about a file that is not UTF-8.
HOW_TO_DECLARE = ("declare its encoding (--encoding cp1252 for Excel's plain CSV, or "
                  "encoding: in the ruleset's sources:; docs/data.md)")

#: The byte-order marks of UTF-16 text, little- and big-endian.
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: The byte-order marks of UTF-32 text (the little-endian one starts like UTF-16's).
UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
#: UTF-8's byte-order mark (Excel writes it in "CSV UTF-8").
UTF8_BOM = b"\xef\xbb\xbf"

#: Codecs whose text is not a superset of ASCII byte for byte: a UTF-8 line cannot be
#: mistaken for theirs, and their files cannot be cut at a ``\n`` byte.
_WIDE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")


class EncodingNameError(ValueError):
    """A declared encoding that no codec answers to (or one that does not read text)."""


def codec_name(name: object) -> str:
    """The codec that reads text declared as ``name`` (``cp1252``, ``windows-1252``,
    ``latin-1``, ``utf-16``...), in Python's spelling (``cp1252``, ``iso8859-1``).

    Raises :class:`EncodingNameError` naming ``name`` when it is no text encoding.
    """
    text = str(name).strip()
    try:
        codec = codecs.lookup(text)
        "account_id".encode(codec.name)  # base64 and friends are not text encodings
    except LookupError:
        raise EncodingNameError(
            f"encoding {text!r} is not an encoding (use utf-8, cp1252, latin-1, utf-16, or "
            "another name Python's codecs know; see docs/data.md)"
        ) from None
    if codec.name == "utf-8-sig":
        return DEFAULT_ENCODING
    return codec.name


def encoding_problems(value: object) -> list[tuple[str, str]]:
    """Why ``value`` is not an encoding a source can be declared in (empty when it is)."""
    try:
        codec_name(value)
    except EncodingNameError as exc:
        return [("", str(exc))]
    return []


def is_default(codec: str) -> bool:
    """True for UTF-8, the encoding the fast paths (DuckDB, worker processes) read."""
    return codec == DEFAULT_ENCODING


def is_wide(codec: str) -> bool:
    """True for UTF-16 and UTF-32, whose bytes are not ASCII's."""
    return codec in _WIDE


def reads_as_utf8(text: str, codec: str) -> bool:
    """True when ``text``, decoded with the one-byte ``codec``, was UTF-8 with non-ASCII
    characters: the bytes of ``Zoë`` in UTF-8 read in cp1252 as ``ZoÃ«``.

    Real text in a code page is almost never valid UTF-8 once it holds a byte above
    0x7F, so such a line is taken as a wrong declaration, never decoded silently.
    """
    if text.isascii() or is_default(codec) or is_wide(codec):
        return False
    raw = text.encode(codec, "surrogateescape")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def misdeclared(text: str, codec: str) -> str:
    """What to say of UTF-8 ``text`` (decoded as ``codec``), without the location."""
    right = text.encode(codec, "surrogateescape").decode("utf-8")
    words = re.split(r"[\s,;|\"]+", right)
    sample = next(word for word in words if not word.isascii())[:40]
    wrong = sample.encode("utf-8").decode(codec, "replace")
    return (f"UTF-8 text, but the file is declared {codec} ({sample!r} would read as "
            f"{wrong!r}); drop the encoding declaration (UTF-8 is the default)")


def undecodable(byte: int, codec: str) -> str:
    """What to say of text holding ``byte``, which ``codec`` cannot decode."""
    if is_default(codec):
        return f"not UTF-8 text (byte 0x{byte:02x}); export the file as UTF-8, or {HOW_TO_DECLARE}"
    return f"not {codec} text (byte 0x{byte:02x}); check the declared encoding"


def first_bad_byte(text: str) -> int | None:
    """The first byte that was not UTF-8 in ``text`` read with ``errors="surrogateescape"``
    (each such byte becomes a lone surrogate), or ``None`` when every byte was."""
    if text.isascii():
        return None
    bad = _UNDECODABLE.search(text)
    return None if bad is None else ord(bad.group()) - 0xDC00


def decoding_problem(text: str, codec: str) -> str:
    """What is wrong with ``text`` read as ``codec`` with ``errors="surrogateescape"``
    ("" when nothing): a byte the codec could not read, or UTF-8 text read in a one-byte
    code page (the file is not in the encoding declared for it)."""
    bad = first_bad_byte(text)
    if bad is not None:
        return undecodable(bad, codec)
    return misdeclared(text, codec) if reads_as_utf8(text, codec) else ""


def bom_problem(start: bytes, encoding: str, declare: str = "--encoding utf-16 (or encoding: "
                "utf-16 in the ruleset's sources: section)", hint: str = "") -> str:
    """What a file's first bytes ``start`` say against its declared ``encoding`` ("" when
    they agree): a UTF-16 byte-order mark on a file declared in another encoding, UTF-8's
    mark on one declared in another, or UTF-16/32 declared without the mark that tells
    the byte order (never guessed). ``declare`` says how to declare UTF-16 for this kind
    of file, ``hint`` is added to the UTF-16 message (", or ...")."""
    if start.startswith(UTF32_BOMS) and not encoding.startswith("utf-32"):
        return (f"this is UTF-32 text, not "
                f"{'UTF-8' if is_default(encoding) else encoding}: declare it with "
                f"{declare.replace('utf-16', 'utf-32')}")
    if start.startswith(UTF16_BOMS) and not is_wide(encoding):
        return (f"this is UTF-16 text (Excel's \"Unicode Text\" writes it), not "
                f"{'UTF-8' if is_default(encoding) else encoding}: declare it with "
                f"{declare}{hint}")
    if start.startswith(UTF8_BOM) and not is_default(encoding):
        return (f"the file starts with UTF-8's byte-order mark: it is UTF-8 text, not "
                f"{encoding} as declared; drop the encoding declaration")
    if encoding in ("utf-16", "utf-32") and not start.startswith((*UTF16_BOMS, *UTF32_BOMS)):
        return (f"the file is declared {encoding} but has no byte-order mark, so its byte "
                f"order is unknown: declare {encoding}-le or {encoding}-be")
    return ""


def open_export(path: str, declared: object, what: str, source: str,
                newline: str) -> tuple[TextIO, str]:
    """``path`` open as text in its declared encoding (UTF-8 when ``declared`` is empty),
    and that encoding's codec name: the reader of a plugin's export (``what``: "events
    export") read through source ``source``'s ``encoding:`` option.

    A byte the encoding cannot read is kept as a lone surrogate (``surrogateescape``),
    so it fails its own line only (:func:`decoding_problem`); a byte-order mark that
    contradicts the declaration stops the file at line 1 with an :class:`InputError`
    saying how to declare it (Windows PowerShell and Excel's "Unicode Text" write
    UTF-16: every line would otherwise be refused one by one).
    """
    codec = codec_name(declared) if declared else DEFAULT_ENCODING
    try:
        raw = open(path, "rb")  # noqa: SIM115 (returned open to the caller)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    problem = bom_problem(raw.peek(4)[:4], codec, declare=(
        f"--encoding utf-16 (or encoding: utf-16 under sources: {source}: in the ruleset)"))
    if problem:
        raw.close()
        raise InputError(f"{path}:1: {problem}")
    text = io.TextIOWrapper(raw, encoding="utf-8-sig" if is_default(codec) else codec,
                            errors="surrogateescape", newline=newline)
    return text, codec
