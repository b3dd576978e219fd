"""Where libyaml's C parser and ruamel's pure-Python parser disagree without an error.

The C parser is about ten times faster; its events are used only where they match the
pure-Python parser's exactly. :class:`ParserAgreement` gives a scalar the position the
pure-Python parser marks, and raises :class:`NeedPure` where the text must be parsed
again in Python to get the same document, positions and findings.
"""

from __future__ import annotations

import bisect
import re
from typing import Any, Protocol


class NeedPure(Exception):
    """The C parser's events would not match ruamel's pure-Python parser's here."""


class OpenCollection(Protocol):
    """The collection a scalar is read in: flow or block, mapping or sequence."""

    flow: bool
    mapping: bool
    expect_key: bool


class ParserAgreement:
    """The checks and position fixes that make the C parser's reading the Python one's."""

    def __init__(self, text: str, *, from_c: bool) -> None:
        self.text = text
        self.from_c = from_c
        self._line_starts: list[int] | None = None

    def scalar_position(self, event: Any, frame: OpenCollection | None) -> tuple[int, int]:
        """The scalar's 1-based position, as ruamel's pure-Python parser marks it.

        The parsers mark two things differently. An empty plain value: libyaml marks
        the end of the ``:`` before it, ruamel where the next token starts; that is
        computed from the text, and the rarer empty values (in flow collections, as
        keys, before an end-of-line comment) are left to the pure-Python parser, as are
        nodes with both a tag and an anchor (ruamel marks whichever comes second).
        """
        mark = event.start_mark
        line, col = mark.line, mark.column
        if self.from_c and event.tag is not None and event.anchor is not None:
            raise NeedPure  # ruamel marks the anchor when it follows the tag, libyaml the tag
        if (
            self.from_c
            and frame is not None
            and not event.value
            and not event.style
            and event.anchor is None
            and event.tag is None
        ):
            if frame.flow or (frame.mapping and frame.expect_key):
                raise NeedPure
            if frame.mapping:
                line, col = self.next_token(line, col)
        return line + 1, col + 1

    def next_token(self, line: int, col: int) -> tuple[int, int]:
        """Where the next token starts after the ``:`` ending at (line, col), 0-based."""
        text = self.text
        starts = self.line_starts()
        if line >= len(starts):
            raise NeedPure
        offset = starts[line] + col
        if offset == 0 or offset > len(text) or text[offset - 1] != ":":
            return line, col  # no ':' before it: both parsers mark the next token
        end = len(text)
        index = offset
        while index < end and text[index] == " ":
            index += 1
        if index < end and text[index] == "#":
            raise NeedPure  # an end-of-line comment: ruamel may keep the ':' position
        while index < end:
            char = text[index]
            if char in " \r\n":
                index += 1
            elif char == "#":
                newline = text.find("\n", index)
                index = end if newline < 0 else newline
            else:
                break
        if index < end and text[index] in ":?":
            raise NeedPure  # an explicit key or an empty key follows
        line = bisect.bisect_right(starts, index) - 1
        return line, index - starts[line]

    def line_starts(self) -> list[int]:
        """Offset of each line's first character in the text."""
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        return self._line_starts

    def check_block_scalar(self, event: Any) -> None:
        """Refuse the C parser's reading where ruamel's scanner raises an error.

        ruamel (not libyaml) refuses a comment right after a block scalar's indicators
        (``|#``), and a block scalar whose first lines are blank but hold spaces, when a
        later line is indented more than the first such line.
        """
        text = self.text
        starts = self.line_starts()
        mark = event.start_mark
        if mark.line >= len(starts):
            raise NeedPure
        start = starts[mark.line] + mark.column
        header = min((i for i in (text.find("|", start), text.find(">", start)) if i >= 0),
                     default=-1)
        if header < 0:
            return
        # The indicators: chomping (+ or -) and indentation (1-9), in either order.
        chomping, digits = ("+", "-"), tuple("123456789")
        index = header + 1
        explicit = False
        if text[index : index + 1] in chomping:
            index += 1
            if text[index : index + 1] in digits:
                explicit = True
                index += 1
        elif text[index : index + 1] in digits:
            explicit = True
            index += 1
            if text[index : index + 1] in chomping:
                index += 1
        if text[index : index + 1] not in ("", " ", "\r", "\n"):
            raise NeedPure  # ruamel wants a space before a comment here, libyaml not
        newline = text.find("\n", header)
        if explicit or newline < 0:
            return  # an explicit indentation: ruamel does not guess it
        first_indent = -1
        max_indent = column = 0
        index = newline + 1
        end = len(text)
        while index < end and text[index] in " \r\n":
            if text[index] == " ":
                column += 1
                max_indent = max(max_indent, column)
                index += 1
                continue
            if first_indent < 0:
                first_indent = column
            index += 2 if text.startswith("\r\n", index) else 1
            column = 0
        if first_indent > 0 and max_indent > first_indent:
            raise NeedPure
