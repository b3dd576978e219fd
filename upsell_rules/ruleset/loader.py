"""Load a ruleset file: YAML -> schema -> semantic checks -> a typed ``Ruleset``.

Every problem is collected (not just the first) as a located
:class:`~upsell_rules.errors.Diagnostic`. ``check_ruleset`` returns them all;
``load_ruleset`` raises :class:`~upsell_rules.errors.RulesetError` when any is an error.
The sections are built by :mod:`~upsell_rules.ruleset.build_signals`,
:mod:`~upsell_rules.ruleset.build_scoring` and :mod:`~upsell_rules.ruleset.build_plugins`
over the shared :mod:`~upsell_rules.ruleset.build_context`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from upsell_rules.errors import Diagnostic, RulesetError
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.build_context import DECISION_NAMES
from upsell_rules.ruleset.build_plugins import PluginSections
from upsell_rules.ruleset.build_scoring import ScoringSections
from upsell_rules.ruleset.build_signals import SignalSections
from upsell_rules.ruleset.memory import build_memory
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.ruleset.representable import unrepresentable_findings
from upsell_rules.ruleset.schema import field_path, schema_findings
from upsell_rules.ruleset.semantics import unreachable_findings
from upsell_rules.ruleset.yamlload import Path, YamlDocument, checked_text, load_yaml

__all__ = ["DECISION_NAMES", "check_ruleset", "load_ruleset"]

_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Builder(SignalSections, ScoringSections, PluginSections):
    """Builds the typed :class:`Ruleset` from a loaded document, collecting findings."""

    def build(self, sha256: str) -> Ruleset:
        """The ruleset, every section built; the findings are in :attr:`findings`."""
        self.build_constants()
        signals = self.build_signals()
        plays_raw = self.section("plays", dict)
        owners = self.build_owners()
        plays = self.build_plays(owners)
        categories, scale = self.build_categories()
        ruleset = Ruleset(
            name=str(self.data.get("name", "")),
            version=self.version_text(),
            description=str(self.data.get("description", "")),
            path=self.doc.path,
            sha256=sha256,
            constants=self.constants,
            signals=signals,
            categories=categories,
            scale=scale,
            bands=self.build_bands(plays_raw),
            gates=self.build_gates(plays_raw),
            red_flags=self.build_red_flags(plays_raw),
            triggers=self.build_triggers(plays_raw),
            owners=owners,
            plays=plays,
            plugins=tuple(str(p) for p in self.data.get("plugins") or []),
            sources=self.build_sources(),
            sinks=self.build_sinks(),
            memory=build_memory(self.data, lambda path, code, text: self.add(path, code, text)),
        )
        self.check_ids()
        self.check_plugins()
        self.check_unused_constants()
        self.report_misused_constants()
        self.findings.extend(unreachable_findings(ruleset))
        return ruleset


    def check_ids(self) -> None:
        """E110 for an id used twice (the later one, pointing at the first)."""
        seen: dict[str, Path] = {}
        groups: list[tuple[Path, list[Any]]] = [
            (("gates",), self.section("gates", list)),
            (("red_flags",), self.section("red_flags", list)),
            (("triggers",), self.section("triggers", list)),
        ]
        categories = self.section("scoring", dict).get("categories")
        if isinstance(categories, dict):
            for cname, spec in categories.items():
                if isinstance(spec, dict) and isinstance(spec.get("tiers"), list):
                    groups.append((("scoring", "categories", cname, "tiers"), spec["tiers"]))
        occurrences: list[tuple[int, str, Path]] = []
        for base, items in groups:
            for index, item in enumerate(items):
                rid = item.get("id") if isinstance(item, dict) else None
                if isinstance(rid, str):
                    path = (*base, index, "id")
                    occurrences.append((self.doc.locate(path).line, rid, path))
        # Report the later occurrence, pointing back at the first.
        for _line, rid, path in sorted(occurrences, key=lambda o: o[0]):
            if rid in seen:
                first = self.doc.locate(seen[rid])
                self.add(
                    path,
                    "E110",
                    f"{field_path(path)}: duplicate id '{rid}' (first used at line {first.line})",
                )
            else:
                seen[rid] = path
        band_ids: dict[str, Path] = {}
        for index, item in enumerate(self.section("bands", list)):
            bid = item.get("id") if isinstance(item, dict) else None
            if isinstance(bid, str):
                if bid in band_ids:
                    self.add(
                        ("bands", index, "id"), "E110", f"bands[{index}]: duplicate id '{bid}'"
                    )
                band_ids[bid] = ("bands", index, "id")


    def version_text(self) -> str:
        """The version as written: ``version: 1.10`` stays "1.10", not the float 1.1."""
        version = self.data.get("version", "")
        if isinstance(version, int | float) and not isinstance(version, bool):
            loc = self.doc.locate(("version",))
            lines = self.doc.text.splitlines()
            if 0 < loc.line <= len(lines):
                raw = lines[loc.line - 1][loc.col - 1 :].split("#")[0].strip()
                if raw:
                    return raw
        return str(version)


    def check_unused_constants(self) -> None:
        """W203 for a constant nothing in the file names."""
        # Any word in any text of the file (conditions, templates, settings) counts as a
        # use, so a constant is not reported just because the rule using it has an error.
        words: set[str] = set()
        for key, value in self.data.items():
            if key != "constants":
                _collect_words(value, words)
        for name in self.constants:
            if name not in words:
                self.add(
                    ("constants", name),
                    "W203",
                    f"constant '{name}' is never used (a rule, template or setting would name it)",
                    key=True,
                )



def _collect_words(value: Any, words: set[str]) -> None:
    if isinstance(value, str):
        words.update(_WORDS.findall(value))
    elif isinstance(value, dict):
        for item in value.values():
            _collect_words(item, words)
    elif isinstance(value, list):
        for item in value:
            _collect_words(item, words)



def check_ruleset(
    path: str, registry: Registry | None = None, *, text: str | None = None,
    patch: Callable[[YamlDocument], list[Diagnostic]] | None = None,
) -> tuple[Ruleset | None, list[Diagnostic]]:
    """Load and check a ruleset; return it (``None`` if it could not be built) and all findings.

    ``patch`` may edit the loaded document before checks (used by what-if overrides)
    and return findings of its own.
    """
    registry = registry or default_registry()
    text, problems = checked_text(path, text)
    if text is None:
        return None, problems
    sha256 = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    doc, findings = load_yaml(path, text)
    if doc is None:
        return None, sorted(findings, key=Diagnostic.sort_key)
    if patch is not None:
        findings.extend(patch(doc))
    unheld = unrepresentable_findings(doc)
    if unheld:
        return None, sorted([*findings, *unheld], key=Diagnostic.sort_key)
    findings.extend(schema_findings(doc))
    builder = _Builder(doc, registry)
    ruleset = builder.build(sha256)
    findings.extend(builder.findings)
    if ruleset is not None:
        from upsell_rules.ruleset.units import unit_findings

        findings.extend(unit_findings(ruleset))
    unique = _once_per_value(list(dict.fromkeys(findings)))
    return ruleset, sorted(unique, key=Diagnostic.sort_key)


def _once_per_value(findings: list[Diagnostic]) -> list[Diagnostic]:
    """One mistake, one error: a value the schema refused (``score: 20%`` is neither a
    number nor a constant's name) is not reported again by the semantic check that reads
    it as a constant's name (E101) at the same spot."""
    refused = {d.location for d in findings if d.code in ("E013", "E015", "E019")}
    return [d for d in findings if not (d.code == "E101" and d.location in refused)]



def load_ruleset(path: str, registry: Registry | None = None) -> Ruleset:
    """Load a ruleset for evaluation; raise :class:`RulesetError` if it has errors."""
    ruleset, findings = check_ruleset(path, registry)
    errors = [f for f in findings if f.is_error]
    if ruleset is None or errors:
        raise RulesetError(errors or findings)
    return ruleset

