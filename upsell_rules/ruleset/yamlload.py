"""Load YAML safely with every node's position, for located diagnostics.

The text is parsed once, into an event stream, and one pass over it both checks the
file and builds the result. We add rules on top of YAML: explicit tags are refused
(nothing in a ruleset can construct an object), duplicate keys are findings (all of
them, not just the first), and dates stay strings (the ruleset decides what a value
means, not the YAML resolver). The result is plain Python data plus a position index
(line and column of every key and value) and the quoting style of every string, so
nothing downstream depends on ruamel types.

Plain scalars get the types ruamel.yaml's round-trip loader gives them (YAML 1.2
core: null, booleans, integers, floats; timestamps stay text), aliases the value of
their anchor, and merge keys (``<<``) merge as in ruamel. The few constructs this
pass does not model (a ``%YAML 1.1`` document, ``<<`` or ``=`` as a value, merge or
alias errors...) are handed to ruamel's own round-trip constructor, as before.

The events come from libyaml's parser in C (the ``ruamel.yaml.clib`` package) when
it is installed, about ten times faster than ruamel's pure-Python parser, which is
used otherwise. Both give the same documents, positions and findings: where the two
parsers would disagree (an error, tabs, unusual line breaks, where an empty value
sits...) the text is parsed again in Python.

Hostile files are stopped on the event stream, before anything is built: a file above
the size limit is not parsed at all, and nesting, alias count, aliases that contain
themselves and the number of values after alias expansion ("billion laughs") are all
capped.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.resolver import implicit_resolvers
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from upsell_rules.errors import Diagnostic, Location
from upsell_rules.limits import ENV, describe_size
from upsell_rules.limits import current as current_limits

try:
    # libyaml's parser, from the ruamel.yaml.clib package.
    from _ruamel_yaml import CParser
except ImportError:  # pragma: no cover - depends on the installation
    CParser = None

Path = tuple[str | int, ...]

#: How many aliases a document may use; more is refused as a likely expansion bomb.
MAX_ALIASES = 100
#: How deeply collections may nest.
MAX_DEPTH = 64
#: How many values (scalars and collections, each alias counted as the values it
#: stands for) a document may hold: the shipped rulesets hold about 1,300. This also
#: bounds the time spent on a file (about 5 microseconds per value with the C parser,
#: 60 with the pure-Python one).
MAX_NODES = 25_000

#: True when the C parser is installed (``pip install ruamel.yaml.clib``).
C_PARSER = CParser is not None


class _StringDates(RoundTripConstructor):
    """Round-trip constructor that leaves timestamps as the text the author wrote."""


def _timestamp_as_text(constructor: RoundTripConstructor, node: Any) -> Any:
    return constructor.construct_scalar(node)


_StringDates.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


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



# --- plain scalars: ruamel's YAML 1.2 resolver, converted as its round-trip loader does

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"


def _implicit_resolvers() -> dict[str, list[tuple[str, Any]]]:
    """ruamel's YAML 1.2 implicit resolvers: first character -> [(tag, regexp.match)]."""
    table: dict[str, list[tuple[str, Any]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            for char in first:
                table.setdefault(char, []).append((tag, regexp.match))
    return table


_RESOLVERS = _implicit_resolvers()
_INF = float("inf")
# ruamel returns one NaN object for every .nan, so two .nan keys collide there: so here.
_NAN = float("nan")


class _Unmodelled(Exception):
    """A construct this pass leaves to ruamel's constructor (see :func:`_ruamel_load`)."""


def _to_int(text: str) -> int:
    """An integer as ruamel's round-trip constructor reads it under YAML 1.2."""
    digits = text.replace("_", "")
    sign = 1
    if digits[:1] in ("+", "-"):
        sign = -1 if digits[0] == "-" else 1
        digits = digits[1:]
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if digits.startswith(prefix):
            if len(digits) < 3:  # ruamel fails on "0x_" too, with its own error
                raise _Unmodelled(text)
            return sign * int(digits[2:], base)
    return sign * int(digits)  # 1.2: a leading 0 is decimal


def _to_float(text: str) -> float:
    """A float as ruamel's round-trip constructor reads it under YAML 1.2."""
    lowered = text.replace("_", "").lower()
    sign = -1 if lowered[0] == "-" else 1
    if lowered[0] in "+-":
        lowered = lowered[1:]
    if lowered == ".inf":
        return sign * _INF
    if lowered == ".nan":
        return _NAN
    return sign * float(lowered)


def _resolve(text: str) -> tuple[str | None, Any]:
    """The implicit tag of a plain scalar (``None``: a string) and its Python value."""
    for tag, match in _RESOLVERS.get(text[:1], ()):
        if match(text):
            if tag == _NULL:
                return tag, None
            if tag == _BOOL:
                return tag, text.lower() == "true"
            try:
                if tag == _INT:
                    return tag, _to_int(text)
                if tag == _FLOAT:
                    return tag, _to_float(text)
            except (ValueError, IndexError):
                raise _Unmodelled(text) from None
            return tag, text  # timestamps stay text; merge and value are the caller's
    return None, text


# --- one pass over the events: the checks, and the data they guard ------------------

_SCALAR, _MAPPING, _SEQUENCE = 0, 1, 2
_STYLES = {"'": "single", '"': "double", ">": "folded", "|": "literal"}
_MERGE_KEY = ("<<",)  # a pending key that is a merge (<<), not a real key


class _Node:
    """A built value: scalar, mapping or sequence, and where it starts (1-based).

    A mapping's ``value`` maps each key (as Python compares keys, so ``1`` and
    ``0x1`` are one key, as in ruamel) to (key text, key position or ``None`` when
    merged in, value node); a sequence's is the list of item nodes.
    """

    __slots__ = ("col", "kind", "line", "style", "value")

    def __init__(self, kind: int, line: int, col: int, value: Any, style: str = "plain"):
        self.kind = kind
        self.line = line
        self.col = col
        self.value = value
        self.style = style


class _Frame:
    """An open collection: what the checks track, and the node being built."""

    __slots__ = ("anchor", "depth", "expect_key", "flow", "key", "mapping", "merge", "node",
                 "seen", "size")

    def __init__(self, mapping: bool, anchor: str | None, node: _Node | None, flow: bool):
        self.mapping = mapping
        self.expect_key = True
        self.seen: dict[str, int] = {}  # key text -> line where it first appeared
        self.anchor = anchor
        self.size = 1  # values held, itself included, aliases expanded
        self.depth = 1  # levels of collections from here down, aliases expanded
        self.node = node
        self.flow = flow
        self.key: Any = None  # the key waiting for its value
        self.merge: _Node | None = None  # the value of this mapping's <<


class _NeedPure(Exception):
    """The C parser's events would not match ruamel's pure-Python parser's here."""


class _Refused(Exception):
    """An E004 finding: the document is not read any further."""


class _Pass:
    """Checks the event stream and builds the first document's plain data, in one pass.

    Findings: tags (E002), a second document (E003), expansion bombs, self-containing
    aliases and deep nesting (E004), collections as keys (E005), duplicate keys
    (E006). After an E004 nothing more is read. Building stops at anything that
    discards the document (E002, E005) or that ruamel's constructor must decide
    (``unmodelled``).
    """

    def __init__(self, path: str, text: str, *, from_c: bool) -> None:
        self.path = path
        self.text = text
        self.from_c = from_c
        self.findings: list[Diagnostic] = []
        self.stack: list[_Frame] = []
        self.documents = 0
        self.aliases = 0
        # Values each finished anchor stands for, and the anchors still open (an alias
        # to one of those would make the document contain itself).
        self.sizes: dict[str, int] = {}
        # Levels of nesting each finished collection anchor stands for.
        self.depths: dict[str, int] = {}
        self.open_anchors: list[str] = []
        self.values = 0
        self.anchors: dict[str, _Node] = {}
        self.root: _Node | None = None
        self.building = True
        self.unmodelled = False
        self._line_starts: list[int] | None = None

    def run(self, events: Iterable[Any]) -> _Pass:
        """Consume ``events``; parser errors propagate."""
        try:
            for event in events:
                kind = type(event)
                if kind is ScalarEvent:
                    self.scalar(event)
                elif kind is MappingStartEvent:
                    self.start(event, mapping=True)
                elif kind is SequenceStartEvent:
                    self.start(event, mapping=False)
                elif kind is MappingEndEvent or kind is SequenceEndEvent:
                    self.end()
                elif kind is AliasEvent:
                    self.alias(event)
                elif kind is DocumentStartEvent:
                    self.document(event)
        except _Refused:
            pass
        return self

    # --- findings -----------------------------------------------------------------

    def add(self, where: tuple[int, int], code: str, message: str) -> None:
        self.findings.append(Diagnostic(Location(self.path, *where), code, message))

    def count(self, amount: int, where: tuple[int, int], *, into_parent: bool = True) -> None:
        """Add ``amount`` values; refuse the document once it holds too many.

        A collection adds itself to its parent's size when it ends, with its contents.
        """
        self.values += amount
        if into_parent and self.stack:
            self.stack[-1].size += amount
        if self.values > MAX_NODES:
            self.add(
                where,
                "E004",
                f"the document holds more than {MAX_NODES:,} values (an alias counts as the "
                "values it repeats): refused as a possible expansion bomb",
            )
            raise _Refused

    def tag(self, event: Any, where: tuple[int, int]) -> None:
        tag = event.tag
        if tag is not None:
            self.add(
                where,
                "E002",
                f"YAML tag {tag_text(tag)!r} is not allowed: rulesets hold plain values only",
            )
            self.building = False

    # --- events ---------------------------------------------------------------------

    def document(self, event: Any) -> None:
        self.documents += 1
        if self.documents == 2:
            self.add(
                _where(event),
                "E003",
                "a ruleset file holds one YAML document; found a second '---'",
            )
        if self.documents > 1:
            self.building = False
        elif event.version is not None and tuple(event.version) != (1, 2):
            self.unmodelled = True  # %YAML 1.1 resolves and constructs differently

    def scalar(self, event: Any) -> None:
        stack = self.stack
        frame = stack[-1] if stack else None
        where = self.scalar_position(event, frame)
        self.tag(event, where)
        anchor = event.anchor
        if anchor is not None:
            self.sizes[anchor] = 1
        self.count(1, where)
        if self.from_c and event.style in ("|", ">"):
            self.check_block_scalar(event)
        if frame is not None and frame.mapping and frame.expect_key:
            if self.from_c and event.style == ">":
                raise _NeedPure  # ruamel's value marks where the lines were folded
            key = event.value
            first = frame.seen.get(key)
            if first is not None:
                self.add(
                    where, "E006", f"duplicate key {key!r} (first defined at line {first})"
                )
            else:
                frame.seen[key] = where[0]
            frame.expect_key = False
            if self.building:
                self.key(event, frame, where)
            return
        if frame is not None and frame.mapping:
            frame.expect_key = True
        if self.building:
            node = self.scalar_node(event, where)
            if node is not None:
                self.attach(node, frame)

    def alias(self, event: Any) -> None:
        where = _where(event)
        self.aliases += 1
        if self.aliases == MAX_ALIASES + 1:
            self.add(
                where,
                "E004",
                f"more than {MAX_ALIASES} aliases (*name): refused as a possible expansion bomb",
            )
        name = event.anchor
        if name in self.open_anchors:
            self.add(
                where,
                "E004",
                f"alias *{name} is inside the value it refers to: the document would contain "
                "itself",
            )
            raise _Refused
        self.count(self.sizes.get(name, 1), where)
        depth = self.depths.get(name, 0)
        if depth:
            # What the alias repeats nests as deep as its anchor did, here.
            if len(self.stack) + depth > MAX_DEPTH:
                self.add(
                    where,
                    "E004",
                    f"nested deeper than {MAX_DEPTH} levels (counting what aliases repeat)",
                )
                raise _Refused
            if self.stack:
                self.stack[-1].depth = max(self.stack[-1].depth, depth + 1)
        frame = self.stack[-1] if self.stack else None
        as_key = frame is not None and frame.mapping and frame.expect_key
        # An alias can stand in key position as well as value position.
        if frame is not None and frame.mapping:
            frame.expect_key = not frame.expect_key
        if not self.building:
            return
        target = self.anchors.get(name)
        if target is None:
            self.unmodelled = True  # undefined: ruamel's composer reports it
        elif not as_key:
            self.attach(target, frame)
        elif target.kind == _SCALAR and frame is not None:
            frame.key = (target.value, str(target.value), (target.line, target.col))
        else:
            self.unmodelled = True  # a collection as a key

    def start(self, event: Any, *, mapping: bool) -> None:
        if self.from_c and event.tag is not None and event.anchor is not None:
            raise _NeedPure  # as for scalars: which of the two comes first decides the mark
        where = _where(event)
        self.tag(event, where)
        stack = self.stack
        frame = stack[-1] if stack else None
        if frame is not None and frame.mapping and frame.expect_key:
            self.add(where, "E005", "mapping keys must be plain scalars")
            frame.expect_key = False
            self.building = False
        elif frame is not None and frame.mapping:
            frame.expect_key = True
        if len(stack) >= MAX_DEPTH:
            self.add(where, "E004", f"nested deeper than {MAX_DEPTH} levels")
            raise _Refused
        self.count(1, where, into_parent=False)
        anchor = event.anchor
        node = None
        if self.building:
            node = _Node(_MAPPING if mapping else _SEQUENCE, *where, {} if mapping else [])
            if anchor is not None:
                self.anchors[anchor] = node
            self.attach(node, frame)
        stack.append(_Frame(mapping, anchor, node, event.flow_style is True))
        if anchor is not None:
            self.open_anchors.append(anchor)

    def end(self) -> None:
        frame = self.stack.pop()
        if self.stack:
            self.stack[-1].size += frame.size
            self.stack[-1].depth = max(self.stack[-1].depth, frame.depth + 1)
        if frame.anchor is not None:
            self.sizes[frame.anchor] = frame.size
            self.depths[frame.anchor] = frame.depth
            self.open_anchors.remove(frame.anchor)
        if self.building and frame.merge is not None and frame.node is not None:
            self.merge(frame.node, frame.merge)

    # --- building -------------------------------------------------------------------

    def key(self, event: Any, frame: _Frame, where: tuple[int, int]) -> None:
        text = event.value
        style = event.style
        value: Any = text
        if not style:
            tag, value = self.plain(text)
            if tag in (_MERGE, _VALUE):
                if event.anchor is not None:
                    self.unmodelled = True  # an alias to it would be a tagged scalar
                    return
                if tag == _MERGE:
                    if frame.merge is not None:
                        self.unmodelled = True  # a second <<: ruamel decides
                    frame.key = _MERGE_KEY
                    return
        elif style == ">" and not self.from_c:
            value = text.replace("\a", "")
        if event.anchor is not None:
            self.anchors[event.anchor] = _Node(_SCALAR, *where, value, _STYLES.get(style, "plain"))
        frame.key = (value, str(value), where)

    def scalar_node(self, event: Any, where: tuple[int, int]) -> _Node | None:
        text = event.value
        style = event.style
        if not style:
            tag, value = self.plain(text)
            if tag in (_MERGE, _VALUE):
                self.unmodelled = True  # ruamel makes these tagged scalars
                return None
            name = "plain"
        else:
            value = text.replace("\a", "") if style == ">" and not self.from_c else text
            name = _STYLES.get(style, "plain")
        node = _Node(_SCALAR, *where, value, name)
        if event.anchor is not None:
            self.anchors[event.anchor] = node
        return node

    def plain(self, text: str) -> tuple[str | None, Any]:
        try:
            return _resolve(text)
        except _Unmodelled:
            self.unmodelled = True
            return None, text

    def attach(self, node: _Node, frame: _Frame | None) -> None:
        """Put a value where it belongs: the root, a list item, or a key's value."""
        if frame is None:
            if self.root is None:
                self.root = node
            return
        parent = frame.node
        if parent is None:
            return
        if not frame.mapping:
            parent.value.append(node)
            return
        key, frame.key = frame.key, None
        if key is _MERGE_KEY:
            frame.merge = node
        elif key is not None and key[0] not in parent.value:
            # The first of two equal keys wins, as in ruamel (E006 reports the second).
            parent.value[key[0]] = (key[1], key[2], node)

    def merge(self, node: _Node, merged: _Node) -> None:
        """Apply ``<<``: keys of the merged mapping(s) not already in ``node``, in order."""
        if merged.kind == _MAPPING:
            sources = [merged]
        elif merged.kind == _SEQUENCE and all(s.kind == _MAPPING for s in merged.value):
            sources = merged.value
        else:
            self.unmodelled = True  # ruamel reports what cannot be merged
            return
        entries = node.value
        for source in sources:
            for key, (text, _position, value) in source.value.items():
                if key not in entries:
                    entries[key] = (text, None, value)

    # --- where the pure-Python parser puts an empty value ---------------------------

    def scalar_position(self, event: Any, frame: _Frame | None) -> tuple[int, int]:
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
            raise _NeedPure  # ruamel marks the anchor when it follows the tag, libyaml the tag
        if (
            self.from_c
            and frame is not None
            and not event.value
            and not event.style
            and event.anchor is None
            and event.tag is None
        ):
            if frame.flow or (frame.mapping and frame.expect_key):
                raise _NeedPure
            if frame.mapping:
                line, col = self.next_token(line, col)
        return line + 1, col + 1

    def next_token(self, line: int, col: int) -> tuple[int, int]:
        """Where the next token starts after the ``:`` ending at (line, col), 0-based."""
        text = self.text
        starts = self.line_starts()
        if line >= len(starts):
            raise _NeedPure
        offset = starts[line] + col
        if offset == 0 or offset > len(text) or text[offset - 1] != ":":
            return line, col  # no ':' before it: both parsers mark the next token
        end = len(text)
        index = offset
        while index < end and text[index] == " ":
            index += 1
        if index < end and text[index] == "#":
            raise _NeedPure  # an end-of-line comment: ruamel may keep the ':' position
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
            raise _NeedPure  # an explicit key or an empty key follows
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
            raise _NeedPure
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
            raise _NeedPure  # ruamel wants a space before a comment here, libyaml not
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
            raise _NeedPure


def _where(event: Any) -> tuple[int, int]:
    mark = event.start_mark
    return mark.line + 1, mark.column + 1


def _emit(node: _Node, path: Path, doc: YamlDocument) -> Any:
    """Plain Python data for ``node``, recording positions and string styles in ``doc``.

    An alias is emitted again wherever it is used (a copy, positions of the anchor).
    """
    kind = node.kind
    if kind == _SCALAR:
        if isinstance(node.value, str):
            doc.styles[path] = node.style
        return node.value
    if kind == _MAPPING:
        out: dict[str, Any] = {}
        for text, position, value in node.value.values():
            child = (*path, text)
            if position is not None:
                doc.keys[child] = position
                doc.values[child] = (value.line, value.col)
            out[text] = _emit(value, child, doc)
        return out
    items: list[Any] = []
    for index, value in enumerate(node.value):
        child = (*path, index)
        doc.values[child] = (value.line, value.col)
        items.append(_emit(value, child, doc))
    return items


def tag_text(tag: Any) -> str:
    """The text of a ruamel tag object (or plain string)."""
    value = getattr(tag, "value", tag)
    return str(value)


# --- ruamel's round-trip constructor, for what the pass above does not model --------


def _style(value: Any) -> str:
    if isinstance(value, SingleQuotedScalarString):
        return "single"
    if isinstance(value, DoubleQuotedScalarString):
        return "double"
    if isinstance(value, FoldedScalarString):
        return "folded"
    if isinstance(value, LiteralScalarString):
        return "literal"
    return "plain"


def _plain(node: Any, path: Path, doc: YamlDocument) -> Any:
    """Convert ruamel's round-trip tree to plain Python, recording positions."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        lc = getattr(node, "lc", None)
        for key, value in node.items():
            skey = str(bool(key)) if isinstance(key, ScalarBoolean) else str(key)
            child = (*path, skey)
            if lc is not None:
                try:
                    kl, kc = lc.key(key)
                    doc.keys[child] = (kl + 1, kc + 1)
                    vl, vc = lc.value(key)
                    doc.values[child] = (vl + 1, vc + 1)
                except (KeyError, TypeError, IndexError):
                    pass
            out[skey] = _plain(value, child, doc)
        return out
    if isinstance(node, list):
        items: list[Any] = []
        lc = getattr(node, "lc", None)
        for index, value in enumerate(node):
            child = (*path, index)
            if lc is not None:
                try:
                    il, ic = lc.item(index)
                    doc.values[child] = (il + 1, ic + 1)
                except (KeyError, TypeError, IndexError):
                    pass
            items.append(_plain(value, child, doc))
        return items
    if isinstance(node, str):
        doc.styles[path] = _style(node)
        return str(node)
    # An anchored boolean is a ScalarBoolean, an int subclass: still a boolean here.
    if isinstance(node, bool | ScalarBoolean):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


# What ruamel's loader raises besides syntax errors: IndexError for "0x_" and the like,
# the last two for comment layouts its round-trip parser gives up on.
_RUAMEL_FAILURES = (
    YAMLError, ValueError, TypeError, IndexError, NotImplementedError, AssertionError
)


def _ruamel_load(
    path: str, text: str, findings: list[Diagnostic]
) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Compose and construct with ruamel's round-trip loader (constructs the pass skips).

    Used for a ``%YAML 1.1`` document, ``<<`` or ``=`` as values, undefined aliases,
    unmergeable merge values and the like: ruamel decides what they mean, or reports
    the error, exactly as it always has.
    """
    yaml = YAML(typ="rt")
    yaml.Constructor = _StringDates
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = True
    # A reused anchor name is valid YAML (an alias means the latest): no warning, as in
    # the pass above.
    yaml.composer.warn_double_anchors = False
    try:
        raw = next(iter(yaml.load_all(text)), None)
    except MarkedYAMLError as exc:
        return None, [*findings, _syntax_diagnostic(path, exc, text)]
    except _RUAMEL_FAILURES as exc:
        return None, [*findings, Diagnostic(Location(path, 1, 1), "E001", f"YAML error: {exc}")]
    doc = YamlDocument(path=path, data=None, text=text)
    doc.data = _plain(raw, (), doc)
    return doc, findings


# --- loading ------------------------------------------------------------------------

# Text where libyaml and ruamel's scanner may disagree without an error: tabs, line
# breaks other than \n and \r\n, a byte order mark, directives (%YAML, %TAG), and an
# anchor or alias name going on with a character libyaml ends names at but ruamel not.
_C_UNSAFE = re.compile(
    r"[\t\x85\u2028\u2029\ufeff]|\r(?!\n)|^%|[&*][0-9A-Za-z_-]+[?:%@`]", re.MULTILINE
)


def _c_events(text: str) -> Iterator[Any]:
    parser = CParser(text)
    while True:
        event = parser.get_event()
        if event is None:
            return
        yield event


def _parse(path: str, text: str, *, pure: bool) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Parse once (with the C parser when possible) and check and build in the same pass."""
    result: _Pass | None = None
    if not pure and CParser is not None and _C_UNSAFE.search(text) is None:
        try:
            result = _Pass(path, text, from_c=True).run(_c_events(text))
        except (_NeedPure, YAMLError, ValueError, TypeError):
            # Syntax errors included: the message and position are ruamel's, as always.
            result = None
    if result is None:
        try:
            try:
                result = _Pass(path, text, from_c=False).run(YAML(typ="rt").parse(text))
            except (NotImplementedError, AssertionError):
                # ruamel's round-trip parser gives up on some comment layouts ("overlap
                # in comment"); its plain parser, which skips comments, reads them.
                plain = YAML(typ="safe", pure=True).parse(text)
                result = _Pass(path, text, from_c=False).run(plain)
        except MarkedYAMLError as exc:
            return None, [_syntax_diagnostic(path, exc, text)]
        except YAMLError as exc:
            return None, [Diagnostic(Location(path, 1, 1), "E001", f"YAML syntax error: {exc}")]
    findings = result.findings
    if any(d.code in ("E002", "E004", "E005") for d in findings):
        return None, findings
    if result.unmodelled:
        return _ruamel_load(path, text, findings)
    doc = YamlDocument(path=path, data=None, text=text)
    if result.root is not None:
        doc.data = _emit(result.root, (), doc)
    return doc, findings


def load_yaml(
    path: str, text: str | None = None, *, pure: bool = False
) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Read and parse a YAML file.

    Returns the document (``None`` when it could not be parsed at all) and the findings:
    syntax errors, tags, duplicate keys, extra documents, alias bombs, a file above the
    size limit (:func:`upsell_rules.limits.current`, ``ruleset_mb``); each located.
    ``pure=True`` uses ruamel's pure-Python parser even where the C parser is installed
    (the results are the same; the tests compare them).
    """
    text, problems = checked_text(path, text)
    if text is None:
        return None, problems
    return _parse(path, text, pure=pure)


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
        return None, Diagnostic(Location(path), "E001", f"not UTF-8 text: {exc.reason}")


def _syntax_diagnostic(path: str, exc: MarkedYAMLError, text: str = "") -> Diagnostic:
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

    A key without its colon, a line indented more (or less) than its neighbours, and a
    value that starts with a quote but goes on after it (``when: "x" == y``).
    """
    problem = exc.problem or ""
    lines = text.splitlines()
    start = exc.context_mark
    here = exc.problem_mark
    if "could not find expected ':'" in problem and start is not None:
        shown = lines[start.line].split(" #")[0].strip() if start.line < len(lines) else ""
        return (start.line + 1, start.column + 1,
                f"this line has no ':' after its key ('{shown}'); write 'key: value'")
    if here is None or here.line >= len(lines):
        return None
    current = lines[here.line]
    quoted = _QUOTED_START.match(current)
    if quoted is not None and "found '<scalar>'" in problem:
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
