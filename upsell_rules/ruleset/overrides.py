"""What-if overrides: ``--set path=value`` applied to a loaded ruleset before its checks.

An override edits the loaded document, not the file, and it is applied before the schema
and semantic checks, so a value that breaks the ruleset is reported exactly like the same
edit made in the file. A path that leads nowhere is a usage error with a suggestion.

Band boundaries are shared: a band's ``max`` is the next band's ``min``. Moving one end of
a boundary alone always leaves a gap or an overlap, so when ``--set`` moves a band's
``min`` (or ``max``) the neighbouring band's matching end follows, unless another
``--set`` in the same run names it; a note says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

from upsell_rules.errors import Diagnostic, UpsellRulesError, did_you_mean
from upsell_rules.ruleset.docpath import PathError, dotted, resolve, split_path
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.ruleset.schema import ruleset_schema
from upsell_rules.ruleset.yamlload import Path, YamlDocument, load_yaml

_NULLS = {"", "~", "null", "Null", "NULL"}


class OverrideError(UpsellRulesError):
    """An override that cannot be applied: not ``path=value``, or an unknown path."""


@dataclass(frozen=True)
class Override:
    """One ``--set``: the text as typed, the dotted path and the parsed value."""

    text: str
    path: str
    value: Any


def parse_value(text: str) -> Any:
    """The value as a YAML scalar: ``65`` is a number, ``soft`` text, ``true`` a boolean.

    Text that YAML would read as something other than a scalar (``{seats} of {limit}``,
    ``[optional]``) is taken literally, so templates and conditions can be overridden
    without quoting.
    """
    if text.strip() in _NULLS:
        return None
    doc, findings = load_yaml("--set", text)
    if doc is None or findings:
        return text
    value = doc.data
    if isinstance(value, bool | int | float | str):
        return value
    return text


def parse_override(text: str) -> Override:
    """Split ``path=value`` (at the first ``=``) and parse the value."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise OverrideError(
            f"--set {text}: expected path=value, for example --set constants.health_floor=70"
        )
    try:
        split_path(path)
    except PathError as exc:
        raise OverrideError(f"--set {text}: {exc}") from None
    return Override(text=text, path=path.strip(), value=parse_value(raw))


def _deref(schema: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        ref = str(node["$ref"])
        target: Any = schema
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
    return node


def _schema_node(path: Path) -> dict[str, Any]:
    """The schema that applies at a concrete document path (empty when unknown)."""
    schema = ruleset_schema()
    node: Any = schema
    for part in path:
        node = _deref(schema, node)
        if not isinstance(node, dict):
            return {}
        if isinstance(part, int):
            node = node.get("items", {})
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        else:
            node = node.get("additionalProperties", {})
    node = _deref(schema, node)
    return node if isinstance(node, dict) else {}


@dataclass
class OverrideSet:
    """Overrides to apply to one ruleset, and what applying them did.

    Pass :meth:`patch` as the ``patch`` hook of :func:`upsell_rules.ruleset.loader.check_ruleset`.
    After the load, ``applied`` maps each override to the concrete path it edited, and
    ``notes`` holds what happened besides (band boundaries that followed).
    """

    overrides: tuple[Override, ...]
    applied: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    document: YamlDocument | None = None

    @classmethod
    def parse(cls, texts: tuple[str, ...] | list[str]) -> OverrideSet:
        """Parse each ``path=value``; raise :class:`OverrideError` on the first bad one."""
        return cls(tuple(parse_override(t) for t in texts))

    def patch(self, doc: YamlDocument) -> list[Diagnostic]:
        """Apply every override to ``doc`` in order (the hook ``check_ruleset`` calls)."""
        self.document = doc
        if not self.overrides:
            return []
        if not isinstance(doc.data, dict):
            raise OverrideError(f"--set cannot edit {doc.path}: it is not a mapping of sections")
        named = {o.path for o in self.overrides}
        for override in self.overrides:
            self._apply(doc, override, named)
        return []

    def _apply(self, doc: YamlDocument, override: Override, named: set[str]) -> None:
        parts = split_path(override.path)
        if len(parts) == 2 and parts[0] == "bands" and not isinstance(override.value, dict):
            # "bands.act_now=65" is short for the band's lower boundary.
            parts = (*parts, "min")
        try:
            where = resolve(doc.data, parts)
        except PathError as exc:
            raise OverrideError(f"--set {override.text}: {exc}") from None
        if not where.exists:
            parent = _schema_node(where.path[:-1])
            allowed = list(parent.get("properties", {}))
            if where.key not in allowed:
                existing = list(where.container) if isinstance(where.container, dict) else []
                hint = did_you_mean(str(where.key), existing + allowed)
                parent_name = dotted(where.path[:-1], doc.data) or "the top level"
                raise OverrideError(
                    f"--set {override.text}: {parent_name} has no '{where.key}'{hint}"
                )
        old = where.container[where.key] if where.exists else None  # type: ignore[index]
        if isinstance(old, dict | list):
            raise OverrideError(
                f"--set {override.text}: {'.'.join(parts)} is a "
                f"{'mapping' if isinstance(old, dict) else 'list'}; name one value inside it"
            )
        where.container[where.key] = override.value  # type: ignore[index]
        self.applied[override.text] = where.path
        doc.styles.pop(where.path, None)
        if parts[0] == "bands" and len(parts) == 3 and parts[2] in ("min", "max"):
            self._follow_boundary(doc, parts, old, override, named)

    def _follow_boundary(
        self,
        doc: YamlDocument,
        parts: tuple[str, ...],
        old: Any,
        override: Override,
        named: set[str],
    ) -> None:
        end = parts[2]
        other_end = "max" if end == "min" else "min"
        if not all(isinstance(v, int | float) and not isinstance(v, bool)
                   for v in (old, override.value)):
            # A value that is not a number is reported once, where it was set; moving it
            # to the neighbour too would report the same mistake twice.
            return
        for band in doc.data.get("bands") or []:
            if not isinstance(band, dict) or band.get("id") == parts[1]:
                continue
            if band.get(other_end) == old and isinstance(band.get("id"), str):
                neighbour = f"bands.{band['id']}.{other_end}"
                if neighbour in named:
                    return
                band[other_end] = override.value
                self.notes.append(
                    f"--set {override.text} also moved {neighbour} from {old:g} to "
                    f"{override.value} (bands share their boundaries)"
                )
                return

    def location_notes(self) -> dict[int, str]:
        """Line of each overridden value in the file -> the ``--set`` that changed it."""
        out: dict[int, str] = {}
        if self.document is None:
            return out
        for text, path in self.applied.items():
            location = self.document.locate(path)
            if location.line:
                out.setdefault(location.line, text)
        return out

    def annotate(self, findings: list[Diagnostic]) -> list[Diagnostic]:
        """Findings on an overridden line say which ``--set`` put the value there."""
        lines = self.location_notes()
        out = []
        for finding in findings:
            text = lines.get(finding.location.line)
            if text is not None:
                finding = Diagnostic(finding.location, finding.code,
                                     f"{finding.message} (from --set {text})")
            out.append(finding)
        return out

    def identify(self, ruleset: Ruleset, file_sha256: str | None = None) -> Ruleset:
        """The ruleset carrying the overrides in its identity.

        ``sha256`` becomes the fingerprint of the file's fingerprint plus each override in
        order, so two runs with different what-ifs never share an identity.
        """
        if not self.overrides:
            return ruleset
        digest = hashlib.sha256((file_sha256 or ruleset.sha256).encode("ascii"))
        for override in self.overrides:
            digest.update(b"\n--set ")
            digest.update(override.text.encode("utf-8"))
        return dataclasses.replace(
            ruleset,
            sha256=digest.hexdigest(),
            overrides=tuple(o.text for o in self.overrides),
        )
