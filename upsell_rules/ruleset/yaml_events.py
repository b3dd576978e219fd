"""One pass over a YAML event stream: the checks, and the plain data they guard.

:class:`EventPass` refuses tags, counts duplicate keys, caps nesting, aliases and the
values an alias expands to ("billion laughs"), and builds the first document as plain
Python data, which :func:`emit` turns into a :class:`YamlDocument` with positions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from upsell_rules.errors import Diagnostic, Location
from upsell_rules.ruleset.yaml_document import Path, YamlDocument
from upsell_rules.ruleset.yaml_positions import NeedPure, ParserAgreement
from upsell_rules.ruleset.yaml_scalars import (
    MAX_INT_DIGITS,
    MERGE_TAG,
    VALUE_TAG,
    TooManyDigits,
    Unmodelled,
    resolve_plain,
)

#: How many aliases a document may use; more is refused as a likely expansion bomb.
MAX_ALIASES = 100
#: How deeply collections may nest.
MAX_DEPTH = 64
#: How many values (scalars and collections, each alias counted as the values it
#: stands for) a document may hold: the shipped rulesets hold about 1,300. This also
#: bounds the time spent on a file (about 5 microseconds per value with the C parser,
#: 60 with the pure-Python one).
MAX_NODES = 25_000

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


class _Refused(Exception):
    """An E004 finding (a bomb, or an integer too long to read): the document is not read
    any further."""


class EventPass:
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
        self.agreement = ParserAgreement(text, from_c=from_c)

    def run(self, events: Iterable[Any]) -> EventPass:
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
        where = self.agreement.scalar_position(event, frame)
        self.tag(event, where)
        anchor = event.anchor
        if anchor is not None:
            self.sizes[anchor] = 1
        self.count(1, where)
        if self.from_c and event.style in ("|", ">"):
            self.agreement.check_block_scalar(event)
        if frame is not None and frame.mapping and frame.expect_key:
            if self.from_c and event.style == ">":
                raise NeedPure  # ruamel's value marks where the lines were folded
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
            raise NeedPure  # as for scalars: which of the two comes first decides the mark
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
            tag, value = self.plain(text, where)
            if tag in (MERGE_TAG, VALUE_TAG):
                if event.anchor is not None:
                    self.unmodelled = True  # an alias to it would be a tagged scalar
                    return
                if tag == MERGE_TAG:
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
            tag, value = self.plain(text, where)
            if tag in (MERGE_TAG, VALUE_TAG):
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

    def plain(self, text: str, where: tuple[int, int]) -> tuple[str | None, Any]:
        try:
            return resolve_plain(text)
        except Unmodelled:
            self.unmodelled = True
            return None, text
        except TooManyDigits as exc:
            self.add(where, "E004", f"an integer of {exc.args[0]:,} digits: at most "
                     f"{MAX_INT_DIGITS:,} (write it as a float, or as text in quotes)")
            raise _Refused from None  # hostile, as a bomb is: read no further

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


def _where(event: Any) -> tuple[int, int]:
    mark = event.start_mark
    return mark.line + 1, mark.column + 1


def emit(node: _Node, path: Path, doc: YamlDocument) -> Any:
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
            out[text] = emit(value, child, doc)
        return out
    items: list[Any] = []
    for index, value in enumerate(node.value):
        child = (*path, index)
        doc.values[child] = (value.line, value.col)
        items.append(emit(value, child, doc))
    return items


def tag_text(tag: Any) -> str:
    """The text of a ruamel tag object (or plain string)."""
    value = getattr(tag, "value", tag)
    return str(value)
