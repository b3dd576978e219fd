"""A loaded YAML document: plain data plus where each value and key came from.

:class:`YamlDocument` maps a path of keys and indexes to its line and column (the
value's or the key's) and to the character inside a string scalar, so any finding can
point at the exact place in the file. :func:`value_at` reads a path in the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from upsell_rules.errors import Location

Path = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """A loaded YAML file: plain data and where each piece of it came from."""

    path: str
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    styles: dict[Path, str] = field(default_factory=dict)
    text: str = ""
    _lines: tuple[list[str], list[int]] | None = field(default=None, repr=False, compare=False)

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """The location of the value at ``path`` (or of its key), or of its nearest parent."""
        probe = tuple(path)
        if not key and probe in self.keys and value_at(self.data, probe) is None:
            # A key left empty: its value's place is wherever the parser read on to (the
            # next line); the key is where the fix goes.
            key = True
        while True:
            table = self.keys if key else self.values
            if probe in table:
                line, col = table[probe]
                return Location(self.path, line, col)
            if key and probe in self.values:
                line, col = self.values[probe]
                return Location(self.path, line, col)
            if not probe:
                first = min(self.keys.values(), default=(1, 1))
                return Location(self.path, *first)
            probe = probe[:-1]
            key = True

    def _line_starts(self) -> tuple[list[str], list[int]]:
        """The text's lines and the offset each starts at, computed once per document."""
        if self._lines is None:
            lines = self.text.splitlines()
            starts = [0]
            for line in lines:
                starts.append(starts[-1] + len(line) + 1)
            self._lines = (lines, starts)
        return self._lines

    def scalar_offset(self, path: Path, offset: int) -> Location:
        """Location of character ``offset`` inside the string scalar at ``path``.

        One-line plain and quoted scalars map directly. For multi-line scalars (folded,
        literal, or wrapped plain text) the loaded value differs from the source only in
        white space, so the token at ``offset`` is found in the source by counting how
        often it occurs before that point.
        """
        base = self.locate(path)
        value = value_at(self.data, path)
        style = self.styles.get(path, "plain")
        if not isinstance(value, str) or base.line == 0 or not self.text:
            return base
        lines, starts = self._line_starts()
        if style in ("plain", "single", "double") and "\n" not in value:
            shift = 0 if style == "plain" else 1
            raw_line = lines[base.line - 1] if base.line <= len(lines) else ""
            start = base.col - 1 + shift
            if raw_line[start : start + len(value)] == value:
                return Location(self.path, base.line, base.col + shift + offset)
        match = _TOKEN.match(value, min(max(offset, 0), len(value)))
        if match is None:
            return base
        token = match.group()
        nth = _count(value[:offset], token)
        position = starts[base.line - 1] + base.col - 1
        for _ in range(nth + 1):
            found = self.text.find(token, position)
            if found == -1:
                return base
            position = found + len(token)
        found = position - len(token)
        line_index = max(i for i, start in enumerate(starts) if start <= found)
        return Location(self.path, line_index + 1, found - starts[line_index] + 1)


_TOKEN = re.compile(r"[A-Za-z0-9_.%]+|\S")


def _count(text: str, token: str) -> int:
    """Non-overlapping occurrences of ``token`` in ``text``."""
    count = 0
    index = text.find(token)
    while index != -1:
        count += 1
        index = text.find(token, index + len(token))
    return count


def value_at(data: Any, path: Path | tuple[Any, ...]) -> Any:
    """The value at ``path`` (keys and indexes) inside loaded YAML, or None if absent."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
