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

import re
from collections.abc import Iterator
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from upsell_rules.errors import Diagnostic
from upsell_rules.ruleset.yaml_document import Path, YamlDocument, value_at
from upsell_rules.ruleset.yaml_events import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_NODES,
    EventPass,
    emit,
    tag_text,
)
from upsell_rules.ruleset.yaml_fallback import ruamel_load
from upsell_rules.ruleset.yaml_positions import NeedPure
from upsell_rules.ruleset.yaml_text import (
    checked_text,
    read_limited,
    reader_diagnostic,
    size_finding,
    syntax_diagnostic,
)

try:
    # libyaml's parser, from the ruamel.yaml.clib package.
    from _ruamel_yaml import CParser
except ImportError:  # pragma: no cover - depends on the installation
    CParser = None

__all__ = [
    "C_PARSER",
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_NODES",
    "Path",
    "YamlDocument",
    "checked_text",
    "load_yaml",
    "read_limited",
    "size_finding",
    "tag_text",
    "value_at",
]

#: True when the C parser is installed (``pip install ruamel.yaml.clib``).
C_PARSER = CParser is not None

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
    result: EventPass | None = None
    if not pure and CParser is not None and _C_UNSAFE.search(text) is None:
        try:
            result = EventPass(path, text, from_c=True).run(_c_events(text))
        except (NeedPure, YAMLError, ValueError, TypeError):
            # Syntax errors included: the message and position are ruamel's, as always.
            result = None
    if result is None:
        try:
            try:
                result = EventPass(path, text, from_c=False).run(YAML(typ="rt").parse(text))
            except (NotImplementedError, AssertionError):
                # ruamel's round-trip parser gives up on some comment layouts ("overlap
                # in comment"); its plain parser, which skips comments, reads them.
                plain = YAML(typ="safe", pure=True).parse(text)
                result = EventPass(path, text, from_c=False).run(plain)
        except MarkedYAMLError as exc:
            return None, [syntax_diagnostic(path, exc, text)]
        except YAMLError as exc:
            return None, [reader_diagnostic(path, exc, text)]
    findings = result.findings
    if any(d.code in ("E002", "E004", "E005") for d in findings):
        return None, findings
    if result.unmodelled:
        return ruamel_load(path, text, findings)
    doc = YamlDocument(path=path, data=None, text=text)
    if result.root is not None:
        doc.data = emit(result.root, (), doc)
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
