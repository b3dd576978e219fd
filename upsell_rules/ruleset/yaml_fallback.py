"""ruamel.yaml's own round-trip loader, for the constructs the event pass leaves to it
(a ``%YAML 1.1`` document, ``<<`` or ``=`` as values, undefined aliases...)."""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from upsell_rules.errors import Diagnostic, Location
from upsell_rules.ruleset.yaml_document import Path, YamlDocument
from upsell_rules.ruleset.yaml_text import syntax_diagnostic


class _StringDates(RoundTripConstructor):
    """Round-trip constructor that leaves timestamps as the text the author wrote."""


def _timestamp_as_text(constructor: RoundTripConstructor, node: Any) -> Any:
    return constructor.construct_scalar(node)


_StringDates.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


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


def ruamel_load(
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
        return None, [*findings, syntax_diagnostic(path, exc, text)]
    except _RUAMEL_FAILURES as exc:
        return None, [*findings, Diagnostic(Location(path, 1, 1), "E001", f"YAML error: {exc}")]
    doc = YamlDocument(path=path, data=None, text=text)
    doc.data = _plain(raw, (), doc)
    return doc, findings
