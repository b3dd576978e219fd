"""Canonical layout for ruleset files, with comments and key order kept (``upsell-rules fmt``).

The file is read and written back with ruamel.yaml's round-trip mode, which keeps
comments, key order, quoting and block-scalar styles. What becomes canonical is the
white space: mappings indented by 2, list items by 4 with the dash at 2 (the layout of
the bundled rulesets), no trailing spaces, one final newline. Layout choices that carry
meaning for the reader are the author's and are kept: flow style (``{a: 1}``) versus
block style, and a flow collection written on the line below its key.

The result is checked before anyone writes it: it must load to exactly the same data as
the input, or formatting is refused.
"""

from __future__ import annotations

import io
import re
from difflib import SequenceMatcher
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from upsell_rules.errors import Diagnostic, UpsellRulesError
from upsell_rules.ruleset.yamlload import load_yaml, value_at

#: ruamel indentation settings: mapping, sequence, dash offset.
MAPPING_INDENT, SEQUENCE_INDENT, DASH_OFFSET = 2, 4, 2
#: Never re-wrap lines: rulesets are read in review, where a moved line is noise.
WIDTH = 4096


class FormatError(UpsellRulesError):
    """The file cannot be formatted: it does not load, or formatting would change it."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        self.diagnostics = diagnostics or []
        super().__init__(message)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=MAPPING_INDENT, sequence=SEQUENCE_INDENT, offset=DASH_OFFSET)
    yaml.width = WIDTH
    # Round-trip mode writes null as nothing at all; "null" says it was meant.
    yaml.representer.add_representer(type(None), _represent_null)
    return yaml


def _represent_null(representer: Any, _data: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _next_line_flows(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of flow collections that the author wrote on the line after their key."""
    found: list[tuple[Any, ...]] = []
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            child = (*path, key)
            if isinstance(value, CommentedMap | CommentedSeq) and value.fa.flow_style():
                try:
                    key_line, _ = node.lc.key(key)
                    value_line, _ = node.lc.value(key)
                except (KeyError, TypeError, IndexError):
                    continue
                if value_line > key_line:
                    found.append(child)
            found += _next_line_flows(value, child)
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(node):
            found += _next_line_flows(value, (*path, index))
    return found


def _break_before_flows(text: str, paths: list[tuple[Any, ...]]) -> str:
    """Move each flow collection in ``paths`` to the line below its key, indented by 2."""
    if not paths:
        return text
    data = _yaml().load(text)
    lines = text.split("\n")
    # Bottom-up, so earlier line numbers stay valid while lines are split.
    spots = []
    for path in paths:
        parent = value_at(data, path[:-1])
        key_line, key_col = parent.lc.key(path[-1])
        value_line, value_col = parent.lc.value(path[-1])
        if value_line == key_line:
            spots.append((value_line, value_col, key_col))
    for line_no, value_col, key_col in sorted(spots, reverse=True):
        line = lines[line_no]
        head, tail = line[:value_col].rstrip(), line[value_col:]
        lines[line_no : line_no + 1] = [head, " " * (key_col + MAPPING_INDENT) + tail]
    return "\n".join(lines)


_EOL_COMMENT = re.compile(r"(\s+)(#.*)$")


def _with_gap(source: str, dumped: str) -> str:
    """``dumped`` with the white space before its end-of-line comment taken from ``source``.

    ruamel keeps a comment's absolute column, so after re-indenting, comments aligned in
    a column would drift; keeping the author's gap keeps them aligned.
    """
    src, out = _EOL_COMMENT.search(source), _EOL_COMMENT.search(dumped)
    if src is None or out is None or src.group(2) != out.group(2):
        return dumped
    return dumped[: out.start()] + src.group(1) + out.group(2)


def _settle_comments(source: str, dumped: str) -> str:
    """Comments follow the new indentation.

    A full-line comment takes the indentation of the line it introduces (the next line
    that is not a comment); an end-of-line comment keeps its distance from the code.
    """
    src = source.split("\n")
    out = dumped.split("\n")
    matcher = SequenceMatcher(
        None, [" ".join(line.split()) for line in src], [" ".join(line.split()) for line in out],
        autojunk=False,
    )
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                out[j1 + offset] = _with_gap(src[i1 + offset], out[j1 + offset])
    indent = 0
    for index in range(len(out) - 1, -1, -1):
        stripped = out[index].lstrip()
        if stripped.startswith("#"):
            out[index] = " " * indent + stripped
        elif stripped:
            indent = len(out[index]) - len(stripped)
    return "\n".join(out)


def format_text(text: str, path: str = "<text>") -> str:
    """The canonical form of a ruleset's text. Raises :class:`FormatError` if it cannot.

    Comments, key order, quoting and scalar styles are kept; see the module docstring for
    what changes.
    """
    doc, findings = load_yaml(path, text)
    errors = [f for f in findings if f.is_error]
    if doc is None or errors:
        raise FormatError(f"{path}: not valid YAML; nothing was changed", errors or findings)
    yaml = _yaml()
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise FormatError(f"{path}: cannot be read for formatting: {exc}") from None
    breaks = _next_line_flows(data)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    out = _break_before_flows(buffer.getvalue(), breaks)
    out = _settle_comments(text, out)
    out = "\n".join(line.rstrip() for line in out.split("\n")).rstrip("\n") + "\n"
    again, _ = load_yaml(path, out)
    if again is None or again.data != doc.data:
        raise FormatError(
            f"{path}: formatting would change what the file means (a value inside a "
            "multi-line text ends in spaces?); nothing was changed"
        )
    return out
