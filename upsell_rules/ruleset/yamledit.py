"""Change a few scalar values in a YAML file and keep everything else byte for byte.

ruamel.yaml's round-trip loader (through :func:`upsell_rules.ruleset.yamlload.load_yaml`) gives
the line and column of every value. Only the characters of the edited scalars are
replaced; comments, blank lines, key order, quoting, flow mappings and line breaks stay
exactly as the author wrote them. (Dumping the round-trip tree instead would re-flow
some layouts: on the default ruleset it re-flows 16 lines that nobody changed, which
would bury the real change in a review.)

After editing, the new text is parsed again and each edited value is read back, so a
value that did not land where intended is an error, never a silent corruption.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from upsell_rules.ruleset.yamlload import Path, YamlDocument, load_yaml, value_at

# A plain (unquoted) YAML number, as a ruleset writes weights and band limits.
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class YamlEditError(ValueError):
    """An edit that cannot be made safely (the value is not a plain number, say)."""


def format_number(value: float, decimals: int = 2) -> str:
    """A number as YAML text: ``0.4`` -> ``0.40`` with 2 decimals; whole numbers bare."""
    if float(value).is_integer() and decimals == 0:
        return str(int(value))
    return f"{value:.{decimals}f}"


def _offset(lines: list[str], line: int, col: int) -> int:
    return sum(len(text) for text in lines[: line - 1]) + col - 1


def edit_numbers(doc: YamlDocument, changes: Mapping[Path, str]) -> str:
    """Replace the plain numbers at ``changes``' paths with the given texts.

    ``doc`` must have been loaded from ``doc.text`` (positions refer to it). Raises
    :class:`YamlEditError` when a path is missing or its value is not a plain number.
    """
    text = doc.text
    lines = text.splitlines(keepends=True)
    spans: list[tuple[int, int, str]] = []
    for path, new in changes.items():
        if path not in doc.values:
            raise YamlEditError(f"{'.'.join(map(str, path))}: not found in {doc.path}")
        line, col = doc.values[path]
        start = _offset(lines, line, col)
        match = _PLAIN_NUMBER.match(text, start)
        if match is None:
            raise YamlEditError(
                f"{doc.path}:{line}:{col}: {'.'.join(map(str, path))} is not written as a "
                "plain number, so it is left for a person to change"
            )
        spans.append((match.start(), match.end(), new))
    # Right to left, so earlier offsets stay valid.
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    check, findings = load_yaml(doc.path, text)
    if check is None:
        raise YamlEditError(f"the edited file no longer parses: {findings[0]}")
    for path, new in changes.items():
        got = value_at(check.data, path)
        if not isinstance(got, int | float) or abs(float(got) - float(new)) > 1e-9:
            raise YamlEditError(f"{'.'.join(map(str, path))}: the edit did not land ({got!r})")
    return text


