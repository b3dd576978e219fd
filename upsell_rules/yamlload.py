"""Load YAML safely with every node's position, for located diagnostics.

ruamel.yaml's round-trip loader keeps line and column of each key and value. We add
rules on top: explicit tags are refused (nothing in a ruleset can construct an
object), duplicate keys are findings (all of them, not just the first), and dates stay
strings (the ruleset decides what a value means, not the YAML resolver). The result is
plain Python data plus a position index, so nothing downstream depends on ruamel types.

Hostile files are stopped on the cheap event stream, before anything is built: a file
above the size limit is not parsed at all, and nesting, alias count, aliases that
contain themselves and the number of values after alias expansion ("billion laughs")
are all capped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
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
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from upsell_rules.errors import Diagnostic, Location
from upsell_rules.limits import ENV, describe_size
from upsell_rules.limits import current as current_limits

Path = tuple[str | int, ...]

#: How many aliases a document may use; more is refused as a likely expansion bomb.
MAX_ALIASES = 100
#: How deeply collections may nest.
MAX_DEPTH = 64
#: How many values (scalars and collections, each alias counted as the values it
#: stands for) a document may hold: the shipped rulesets hold about 1,300. Parsing costs
#: roughly 65 microseconds per value, so this also bounds the time spent on a file.
MAX_NODES = 25_000


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
        value = _get(self.data, path)
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


def _get(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _event_checks(path: str, text: str) -> list[Diagnostic]:
    """Findings visible in the event stream: tags, aliases, duplicate keys, documents."""
    yaml = YAML(typ="rt")
    findings: list[Diagnostic] = []
    # Each open collection: [is_mapping, expecting_key, seen_keys, anchor, values]
    stack: list[list[Any]] = []
    documents = 0
    aliases = 0
    # Values each finished anchor stands for, and the anchors still open (an alias to
    # one of those would make the document contain itself).
    sizes: dict[str, int] = {}
    open_anchors: list[str] = []
    values = 0

    def count(amount: int, *, into_parent: bool = True) -> bool:
        """Add ``amount`` values; False once the document holds too many.

        A collection adds itself to its parent's size when it ends, with its contents.
        """
        nonlocal values
        values += amount
        if into_parent and stack:
            stack[-1][4] += amount
        return values <= MAX_NODES

    def too_many(event: Any) -> Diagnostic:
        return Diagnostic(
            loc(event),
            "E004",
            f"the document holds more than {MAX_NODES:,} values (an alias counts as the "
            "values it repeats): refused as a possible expansion bomb",
        )

    def loc(event: Any) -> Location:
        mark = event.start_mark
        return Location(path, mark.line + 1, mark.column + 1)

    def consume_value() -> None:
        # An alias can stand in key position as well as value position.
        if stack and stack[-1][0]:
            stack[-1][1] = not stack[-1][1]

    events: Iterator[Any] = yaml.parse(text)
    for event in events:
        if isinstance(event, DocumentStartEvent):
            documents += 1
            if documents == 2:
                findings.append(
                    Diagnostic(
                        loc(event),
                        "E003",
                        "a ruleset file holds one YAML document; found a second '---'",
                    )
                )
            continue
        if isinstance(event, NodeEvent) and not isinstance(event, AliasEvent):
            tag = getattr(event, "tag", None)
            if tag is not None:
                findings.append(
                    Diagnostic(
                        loc(event),
                        "E002",
                        f"YAML tag {tag_text(tag)!r} is not allowed: rulesets hold plain "
                        "values only",
                    )
                )
        if isinstance(event, AliasEvent):
            aliases += 1
            if aliases == MAX_ALIASES + 1:
                findings.append(
                    Diagnostic(
                        loc(event),
                        "E004",
                        f"more than {MAX_ALIASES} aliases (*name): refused as a possible "
                        "expansion bomb",
                    )
                )
            if event.anchor in open_anchors:
                findings.append(
                    Diagnostic(
                        loc(event),
                        "E004",
                        f"alias *{event.anchor} is inside the value it refers to: the "
                        "document would contain itself",
                    )
                )
                return findings
            if not count(sizes.get(event.anchor, 1)):
                findings.append(too_many(event))
                return findings
            consume_value()
            continue
        if isinstance(event, MappingStartEvent | SequenceStartEvent):
            if stack and stack[-1][0] and stack[-1][1]:
                findings.append(
                    Diagnostic(loc(event), "E005", "mapping keys must be plain scalars")
                )
                stack[-1][1] = False
            elif stack and stack[-1][0]:
                stack[-1][1] = True
            if len(stack) >= MAX_DEPTH:
                findings.append(
                    Diagnostic(loc(event), "E004", f"nested deeper than {MAX_DEPTH} levels")
                )
                return findings
            if not count(1, into_parent=False):
                findings.append(too_many(event))
                return findings
            stack.append([isinstance(event, MappingStartEvent), True, {}, event.anchor, 1])
            if event.anchor is not None:
                open_anchors.append(event.anchor)
            continue
        if isinstance(event, MappingEndEvent | SequenceEndEvent):
            _, _, _, anchor, size = stack.pop()
            if stack:
                stack[-1][4] += size
            if anchor is not None:
                sizes[anchor] = size
                open_anchors.remove(anchor)
            continue
        if isinstance(event, ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            if not count(1):
                findings.append(too_many(event))
                return findings
            if stack and stack[-1][0] and stack[-1][1]:
                key = event.value
                seen: dict[str, Location] = stack[-1][2]
                if key in seen:
                    first = seen[key]
                    findings.append(
                        Diagnostic(
                            loc(event),
                            "E006",
                            f"duplicate key {key!r} (first defined at line {first.line})",
                        )
                    )
                else:
                    seen[key] = loc(event)
                stack[-1][1] = False
            else:
                consume_value()
    return findings


def tag_text(tag: Any) -> str:
    """The text of a ruamel tag object (or plain string)."""
    value = getattr(tag, "value", tag)
    return str(value)


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
            skey = str(key)
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
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def load_yaml(path: str, text: str | None = None) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Read and parse a YAML file.

    Returns the document (``None`` when it could not be parsed at all) and the findings:
    syntax errors, tags, duplicate keys, extra documents, alias bombs, a file above the
    size limit (:func:`upsell_rules.limits.current`, ``ruleset_mb``); each located.
    """
    if text is None:
        text, problem = read_limited(path)
        if text is None:
            return None, [problem] if problem is not None else []
    too_big = size_finding(path, text)
    if too_big is not None:
        return None, [too_big]
    try:
        findings = _event_checks(path, text)
    except MarkedYAMLError as exc:
        return None, [_syntax_diagnostic(path, exc)]
    except YAMLError as exc:
        return None, [Diagnostic(Location(path, 1, 1), "E001", f"YAML syntax error: {exc}")]
    if any(d.code in ("E002", "E004", "E005") for d in findings):
        return None, findings
    yaml = YAML(typ="rt")
    yaml.Constructor = _StringDates
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = True
    try:
        raw = next(iter(yaml.load_all(text)), None)
    except MarkedYAMLError as exc:
        return None, [*findings, _syntax_diagnostic(path, exc)]
    except (YAMLError, ValueError, TypeError) as exc:
        return None, [*findings, Diagnostic(Location(path, 1, 1), "E001", f"YAML error: {exc}")]
    doc = YamlDocument(path=path, data=None, text=text)
    doc.data = _plain(raw, (), doc)
    return doc, findings


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


def _syntax_diagnostic(path: str, exc: MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    col = mark.column + 1 if mark is not None else 1
    problem = exc.problem or "YAML syntax error"
    context = f" ({exc.context})" if exc.context else ""
    return Diagnostic(Location(path, line, col), "E001", f"YAML syntax error: {problem}{context}")
