"""Reading a YAML file's text within the size limit, and YAML syntax errors told in
words a ruleset author knows, at the line to fix."""

from __future__ import annotations

import os
import re

from ruamel.yaml.error import MarkedYAMLError, YAMLError

from upsell_rules.errors import Diagnostic, Location
from upsell_rules.limits import ENV, describe_size
from upsell_rules.limits import current as current_limits


def checked_text(path: str, text: str | None = None) -> tuple[str | None, list[Diagnostic]]:
    """The text of a YAML file (read from ``path`` unless given), or ``None`` and why.

    The finding is E001 (unreadable, not UTF-8) or E007 (above the size limit).
    """
    if text is None:
        text, problem = read_limited(path)
        if text is None:
            return None, [problem] if problem is not None else []
    too_big = size_finding(path, text)
    if too_big is not None:
        return None, [too_big]
    return text, []


def size_finding(path: str, text: str) -> Diagnostic | None:
    """E007 when ``text`` is larger than the ruleset size limit, else ``None``."""
    limit = current_limits().ruleset_bytes
    # Characters never outnumber UTF-8 bytes: encode only text that might be too big.
    if not limit or len(text) * 4 <= limit:
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    return _too_big(path, size) if size > limit else None


def _too_big(path: str, size: int) -> Diagnostic:
    return Diagnostic(
        Location(path, 1, 1),
        "E007",
        f"the file is {describe_size(size)}, above the {current_limits().ruleset_mb:g} MB "
        f"limit for a YAML file ({ENV['ruleset_mb']}); it was not parsed",
    )


def read_limited(path: str) -> tuple[str | None, Diagnostic | None]:
    """The text of ``path``, or ``None`` and the finding (E001 unreadable, E007 too big).

    Reads at most one byte more than the size limit, so a huge file costs nothing.
    """
    limit = current_limits().ruleset_bytes
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if limit and size > limit:
                return None, _too_big(path, size)
            raw = handle.read(limit + 1) if limit else handle.read()
    except OSError as exc:
        return None, Diagnostic(Location(path), "E001", f"cannot read file: {exc.strerror}")
    if limit and len(raw) > limit:
        return None, _too_big(path, len(raw))
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None, Diagnostic(Location(path, 1, 1), "E001",
                                    "this is UTF-16 text, not UTF-8: save the file as UTF-8")
        line, col = _byte_position(raw, exc.start)
        return None, Diagnostic(
            Location(path, line, col), "E001",
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} here ({exc.reason}); save the "
            "file as UTF-8",
        )


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    """Line and column (from 1, in characters) of byte ``offset`` of ``raw``."""
    start = raw.rfind(b"\n", 0, offset) + 1
    before = raw[start:offset].decode("utf-8", "replace")
    return raw.count(b"\n", 0, offset) + 1, len(before) + 1


def reader_diagnostic(path: str, exc: YAMLError, text: str) -> Diagnostic:
    """E001 for a character YAML does not allow (a NUL byte, say), at its line and column.

    ruamel reports these with an offset into the text, not a line: without this the
    finding pointed at 1:1 and quoted the parser's own multi-line message.
    """
    position = getattr(exc, "position", None)
    character = getattr(exc, "character", None)
    if not isinstance(position, int) or not 0 <= position <= len(text):
        return Diagnostic(Location(path, 1, 1), "E001",
                          "YAML syntax error: " + " ".join(str(exc).split()))
    line = text.count("\n", 0, position) + 1
    col = position - (text.rfind("\n", 0, position) + 1) + 1
    shown = f"U+{character:04X}" if isinstance(character, int) else repr(character)
    return Diagnostic(Location(path, line, col), "E001",
                      f"YAML syntax error: the character {shown} is not allowed in a YAML "
                      "file (a control character or a NUL byte); remove it")


def syntax_diagnostic(path: str, exc: MarkedYAMLError, text: str = "") -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    col = mark.column + 1 if mark is not None else 1
    problem = exc.problem or "YAML syntax error"
    context = f" ({exc.context})" if exc.context else ""
    plain = _in_plain_words(exc, text)
    if plain is not None:
        line, col, words = plain
        return Diagnostic(Location(path, line, col), "E001",
                          f"YAML syntax error: {words} (the parser says: {problem})")
    return Diagnostic(Location(path, line, col), "E001", f"YAML syntax error: {problem}{context}")


_QUOTED_START = re.compile(r"""^(\s*(?:-\s+)?[^\s:#][^:#]*:\s+)(["'])(.*)$""")


def _key_without_colon(lines: list[str], above: int | None, current: str
                       ) -> tuple[int, int, str] | None:
    """The line above, when it is a key that lost its colon: it starts in the same column
    as the key the parser stopped at and has no ':' (``title Start the conversation``
    followed by ``window: this week`` reads as one text that runs into a key)."""
    if above is None:
        return None
    previous = lines[above]
    body = previous.split(" #")[0].strip()
    indent = len(previous) - len(previous.lstrip())
    if (indent != len(current) - len(current.lstrip()) or ":" in body
            or body.startswith(("-", '"', "'", "[", "{", "|", ">"))):
        return None
    return (above + 1, indent + 1,
            f"this line has no ':' after its key ('{body}'); write 'key: value'")


def _in_plain_words(exc: MarkedYAMLError, text: str) -> tuple[int, int, str] | None:
    """The usual YAML mistakes in words a ruleset author knows, at the line to fix.

    A tab or a non-breaking space used for indentation, a key without its colon, a line
    indented more (or less) than its neighbours, and a value that starts with a quote but
    goes on after it (``when: "x" == y``).
    """
    problem = exc.problem or ""
    lines = text.splitlines()
    start = exc.context_mark
    here = exc.problem_mark
    if "found character '\\t'" in problem and here is not None:
        return (here.line + 1, here.column + 1,
                "a tab character here: YAML needs spaces, never tabs (an editor may show a "
                "tab as spaces); replace it with spaces")
    if "could not find expected ':'" in problem and start is not None:
        shown = lines[start.line].split(" #")[0].strip() if start.line < len(lines) else ""
        return (start.line + 1, start.column + 1,
                f"this line has no ':' after its key ('{shown}'); write 'key: value'")
    if here is None or here.line >= len(lines):
        return None
    current = lines[here.line]
    for number in (n for n in (here.line, here.line - 1) if n >= 0):
        # The parser may stop on the line after the one that holds the odd space.
        indent = lines[number][: len(lines[number]) - len(lines[number].lstrip(" \u00a0"))]
        if "\u00a0" in indent:
            return (number + 1, indent.index("\u00a0") + 1,
                    "this line is indented with a non-breaking space (often pasted from a "
                    "web page or a document), which YAML does not read as a space: retype "
                    "the indentation with ordinary spaces")
    quoted = _QUOTED_START.match(current)
    # After the closing quote, YAML reads ``== y`` as more text and ``>= y`` (or
    # ``> y``) as the start of a folded block: the same mistake either way.
    runs_on = "found '<scalar>'" in problem or "block scalar" in (exc.context or "")
    if quoted is not None and runs_on and here.column >= len(quoted.group(1)):
        quote = quoted.group(2)
        other = "'" if quote == '"' else '"'
        value = (quote + quoted.group(3)).split(" #")[0].rstrip()
        return (here.line + 1, len(quoted.group(1)) + 1,
                f"a value that starts with a quote must be quoted as a whole: write "
                f"{other}{value}{other} (or start it without the quote)")
    if "expected <block end>" in problem or "mapping values are not allowed" in problem:
        above = next((n for n in range(here.line - 1, -1, -1)
                      if lines[n].strip() and not lines[n].lstrip().startswith("#")), None)
        missing = _key_without_colon(lines, above, current)
        if missing is not None and "mapping values are not allowed" in problem:
            return missing
        where = f" (line {above + 1})" if above is not None else ""
        return (here.line + 1, here.column + 1,
                f"check this line's indentation against the line above{where}: keys of one "
                "mapping start in the same column, and a nested value goes under a key "
                "that ends with ':'")
    return None
