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
import re

#: Bytes that are not UTF-8 decode to these lone surrogates (``surrogateescape``); real
#: text never contains them, so one marks the first undecodable byte.
_UNDECODABLE = re.compile("[\udc80-\udcff]")

#: The encoding of a file nobody declared one for.
DEFAULT_ENCODING = "utf-8"

#: How to declare an encoding, for the message about a file that is not UTF-8.
HOW_TO_DECLARE = ("declare its encoding (--encoding cp1252 for Excel's plain CSV, or "
                  "encoding: in the ruleset's sources:; docs/data.md)")

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


def not_utf8_export(byte: int) -> str:
    """What to say of a line of an export that only reads UTF-8 (events, tickets)."""
    return f"not UTF-8 text (byte 0x{byte:02x}); save the export as UTF-8"
