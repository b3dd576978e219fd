"""Load a ruleset file: YAML -> schema -> semantic checks -> a typed ``Ruleset``.

Every problem is collected (not just the first) as a located
:class:`~upsell_rules.errors.Diagnostic`. ``check_ruleset`` returns them all;
``load_ruleset`` raises :class:`~upsell_rules.errors.RulesetError` when any is an error.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from typing import Any

from upsell_rules.errors import Diagnostic, RulesetError
from upsell_rules.expr.check import check, did_you_mean
from upsell_rules.expr.nodes import names_in
from upsell_rules.expr.parser import ExprSyntaxError, parse
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import SIGNAL_TYPES, ParamSpec
from upsell_rules.ruleset.memory import build_memory
from upsell_rules.ruleset.model import (
    Band,
    Category,
    Condition,
    Gate,
    OwnerRule,
    Play,
    RedFlag,
    Ruleset,
    SignalDef,
    SinkConfig,
    Tier,
    Trigger,
)
from upsell_rules.ruleset.schema import field_path, schema_findings
from upsell_rules.ruleset.semantics import unreachable_findings
from upsell_rules.ruleset.templates import (
    MAX_RENDERED,
    MAX_RULESET_PLACEHOLDERS,
    Template,
    TemplateError,
    constants_overflow,
    parse_template,
)
from upsell_rules.ruleset.type_defaults import default_template, default_text, play_type
from upsell_rules.ruleset.yamlload import Path, YamlDocument, checked_text, load_yaml, value_at

_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Names every template may use besides signals and constants.
DECISION_NAMES = ("account_id", "account_name", "owner", "score", "band", "as_of")

_TYPE_COMPAT = {
    ("number", "integer"),
    ("number_list", "integer_list"),
}


def _compatible(declared: str, provided: str) -> bool:
    return declared == provided or (declared, provided) in _TYPE_COMPAT


class _Builder:
    def __init__(self, doc: YamlDocument, registry: Registry) -> None:
        self.doc = doc
        self.data: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}
        self.registry = registry
        self.findings: list[Diagnostic] = []
        self.types: dict[str, str] = {}
        self.constants: dict[str, Any] = {}
        #: Placeholders seen in the ruleset's templates so far (bounded: compile time).
        self.placeholders = 0
        self.misused: dict[str, list[Path]] = {}

    # --- helpers ------------------------------------------------------------------

    def add(self, path: Path, code: str, message: str, *, key: bool = False) -> None:
        self.findings.append(Diagnostic(self.doc.locate(path, key=key), code, message))

    def section(self, name: str, kind: type) -> Any:
        value = self.data.get(name)
        return value if isinstance(value, kind) else kind()

    def condition(self, path: Path) -> Condition | None:
        text = value_at(self.data, path)
        if not isinstance(text, str):
            return None
        where = field_path(path)
        try:
            node = parse(text)
        except ExprSyntaxError as exc:
            self.findings.append(
                Diagnostic(
                    self.doc.scalar_offset(path, exc.offset), "E103", f"{where}: {exc.message}"
                )
            )
            return None
        checked, problems = check(node, self.types, self.constants, self.registry.functions)
        for problem in problems:
            if self._misused_constant(path, problem.message):
                continue
            self.findings.append(
                Diagnostic(
                    self.doc.scalar_offset(path, problem.offset),
                    problem.code,
                    f"{where}: {problem.message}",
                )
            )
        if problems:
            return None
        return Condition(text, checked, self.doc.locate(path))

    def _misused_constant(self, path: Path, message: str) -> bool:
        """One mistake, one error: a text constant compared with numbers or dates is
        reported once, at the constant (see :meth:`report_misused_constants`)."""
        if not message.startswith("type mismatch"):
            return False
        for name in re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", message):
            if isinstance(self.constants.get(name), str) and name not in self.types:
                self.misused.setdefault(name, []).append(path)
                return True
        return False

    def report_misused_constants(self) -> None:
        for name, uses in self.misused.items():
            value = self.constants[name]
            lines = ", ".join(str(self.doc.locate(use).line) for use in uses[:5])
            self.add(("constants", name), "E102",
                     f"constants.{name}: {value!r} is text, but the rules compare it with "
                     f"numbers or dates (line {lines}): write a number")

    def template(self, path: Path) -> Template | None:
        text = value_at(self.data, path)
        if not isinstance(text, str):
            return None
        where = field_path(path)
        try:
            template = parse_template(text)
        except TemplateError as exc:
            self.findings.append(
                Diagnostic(
                    self.doc.scalar_offset(path, exc.offset), "E140", f"{where}: {exc.message}"
                )
            )
            return None
        known = self.known_names()
        for name in template.names:
            if name not in known:
                offset = text.find("{" + name)
                self.findings.append(
                    Diagnostic(
                        self.doc.scalar_offset(path, max(offset, 0)),
                        "E140",
                        f"{where}: unknown placeholder '{{{name}}}'{did_you_mean(name, known)}",
                    )
                )
        self.placeholders += len(template.names)
        if self.placeholders > MAX_RULESET_PLACEHOLDERS:
            if self.placeholders - len(template.names) > MAX_RULESET_PLACEHOLDERS:
                return None  # reported once, at the template that crossed the limit
            self.findings.append(Diagnostic(
                self.doc.scalar_offset(path, 0), "E140",
                f"{where}: more than {MAX_RULESET_PLACEHOLDERS:,} placeholders in the "
                "ruleset's templates together (a limit: see docs/security.md)",
            ))
            return None
        length = constants_overflow(template, self.constants)
        if length is not None:
            self.findings.append(Diagnostic(
                self.doc.scalar_offset(path, 0), "E140",
                f"{where}: renders to {length:,} characters with the constants alone, above "
                f"the limit of {MAX_RENDERED:,} (see docs/security.md)",
            ))
        return template

    def known_names(self) -> list[str]:
        """The names a template may use: signals, constants and decision fields."""
        return [*self.types, *self.constants, *DECISION_NAMES]

    def check_ref(
        self, path: Path, value: Any, known: dict[str, Any], code: str, what: str
    ) -> bool:
        if not isinstance(value, str) or value in known:
            return True
        hint = did_you_mean(value, list(known))
        self.add(path, code, f"{field_path(path)}: unknown {what} '{value}'{hint}")
        return False

    # --- sections -------------------------------------------------------------------

    def build_constants(self) -> None:
        for name, value in self.section("constants", dict).items():
            if isinstance(value, bool | int | float | str):
                self.constants[name] = value
            if name in DECISION_NAMES:
                self.add(("constants", name), "E111", f"'{name}' is a reserved name", key=True)

    def number(self, path: Path, value: Any) -> float | None:
        """A number written directly or as the name of a numeric constant."""
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            constant = self.constants.get(value)
            if isinstance(constant, int | float) and not isinstance(constant, bool):
                return float(constant)
            hint = did_you_mean(value, list(self.constants))
            self.add(
                path,
                "E101",
                f"{field_path(path)}: '{value}' is not a numeric constant{hint}",
            )
        return None

    def build_signals(self) -> dict[str, SignalDef]:
        raw = self.section("signals", dict)
        for name, spec in raw.items():
            if isinstance(spec, dict) and isinstance(spec.get("type"), str):
                self.types[name] = spec["type"]
            if name in self.constants:
                self.add(
                    ("signals", name),
                    "E111",
                    f"'{name}' is both a signal and a constant",
                    key=True,
                )
            if name in DECISION_NAMES:
                self.add(
                    ("signals", name),
                    "E111",
                    f"'{name}' is a reserved name (it is part of every decision)",
                    key=True,
                )
        signals: dict[str, SignalDef] = {}
        deps: dict[str, list[str]] = {}
        for name, spec in raw.items():
            if not isinstance(spec, dict) or name not in self.types:
                continue
            path: Path = ("signals", name)
            declared = self.types[name]
            derive = spec.get("derive")
            params: dict[str, Any] = {}
            when: Condition | None = None
            deps[name] = []
            if isinstance(derive, str):
                params, reads = self.derivation(path, derive, spec.get("params"), declared)
                deps[name] = list(reads)
            elif "params" in spec:
                self.add((*path, "params"), "E134", f"{field_path(path)}: params need derive:")
            if isinstance(spec.get("when"), str):
                if declared != "boolean":
                    self.add(
                        (*path, "type"),
                        "E135",
                        f"{field_path(path)}: a named condition (when:) is boolean, "
                        f"declared {declared}",
                    )
                when = self.condition((*path, "when"))
                if when is not None:
                    deps[name] = [n for n in names_in(when.node) if n in self.types]
            if derive is None and when is None and name in self.registry.fields:
                field = self.registry.fields[name]
                if declared in SIGNAL_TYPES and not _compatible(declared, field.type):
                    self.add(
                        (*path, "type"),
                        "W201",
                        f"{field_path(path)}: input field '{name}' is {field.type} in the "
                        f"data contract, declared {declared} here",
                    )
            signals[name] = SignalDef(
                name=name,
                type=declared,
                unit=str(spec.get("unit", "")),
                description=str(spec.get("description", "")),
                derive=derive if isinstance(derive, str) else None,
                params=params,
                when=when,
                location=self.doc.locate(path, key=True),
                required=spec.get("required") is True,
                minimum=_bound(spec.get("min")),
                maximum=_bound(spec.get("max")),
            )
            self.check_range(path, spec, declared)
        return self.order_signals(signals, deps)

    def check_range(self, path: Path, spec: dict[str, Any], declared: str) -> None:
        """``min:`` / ``max:`` apply to numbers only, and ``min`` may not exceed ``max``."""
        lo, hi = _bound(spec.get("min")), _bound(spec.get("max"))
        if (lo is not None or hi is not None) and declared.split("_")[0] not in (
            "number", "integer"
        ):
            key = "min" if lo is not None else "max"
            self.add((*path, key), "E160",
                     f"{field_path(path)}: {key}: applies to numbers, declared {declared}")
        elif lo is not None and hi is not None and lo > hi:
            self.add((*path, "min"), "E160",
                     f"{field_path(path)}: min {lo:g} is above max {hi:g}")

    def derivation(
        self, path: Path, name: str, params: Any, declared: str
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        derivation = self.registry.derivations.get(name)
        where = field_path(path)
        findings_before = len(self.findings)
        if derivation is None:
            hint = did_you_mean(name, list(self.registry.derivations))
            self.add((*path, "derive"), "E133", f"{where}: unknown derivation '{name}'{hint}")
            return {}, ()
        given = params if isinstance(params, dict) else {}
        resolved: dict[str, Any] = {}
        for pname in given:
            if pname not in derivation.params:
                hint = did_you_mean(pname, list(derivation.params))
                self.add(
                    (*path, "params", pname),
                    "E134",
                    f"{where}: derivation '{name}' has no parameter '{pname}'{hint}",
                    key=True,
                )
        for pname, spec in derivation.params.items():
            ppath: Path = (*path, "params", pname)
            value = given.get(pname, spec.default)
            if value is None:
                if spec.required:
                    self.add(
                        (*path, "params") if "params" in value_at(self.data, path) else path,
                        "E134",
                        f"{where}: derivation '{name}' needs parameter '{pname}'",
                        key=True,
                    )
                continue
            ok = True
            if spec.kind == "signal":
                ok = isinstance(value, str) and self.check_ref(
                    ppath, value, self.types, "E101", "signal"
                )
            elif spec.kind == "signals":
                ok = isinstance(value, list) and all(
                    self.check_ref((*ppath, i), v, self.types, "E101", "signal")
                    for i, v in enumerate(value)
                )
            elif spec.kind in ("number", "integer"):
                if isinstance(value, str) and isinstance(self.constants.get(value), int | float):
                        value = self.constants[value]
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                if spec.kind == "integer":
                    ok = ok and float(value).is_integer()
                if not ok:
                    self.add(ppath, "E134", f"{where}: parameter '{pname}' must be a {spec.kind}")
            elif spec.kind == "string":
                ok = isinstance(value, str)
                if not ok:
                    self.add(ppath, "E134", f"{where}: parameter '{pname}' must be text")
            if ok:
                resolved[pname] = value
        if len(self.findings) == findings_before:
            # Let the plugin check the values too (ranges, relations between parameters).
            defaults = {k: v.default for k, v in derivation.params.items() if v.default is not None}
            try:
                derivation.build({**defaults, **resolved})
            except (ValueError, TypeError) as exc:
                self.add(
                    (*path, "params") if "params" in value_at(self.data, path) else path,
                    "E134",
                    f"{where}: derivation '{name}' refuses these parameters: {exc}",
                )
        if not _compatible(declared, derivation.output_type):
            self.add(
                (*path, "type"),
                "E135",
                f"{where}: derivation '{name}' gives {derivation.output_type}, "
                f"declared {declared}",
            )
        return resolved, derivation.reads(resolved)

    def order_signals(
        self, signals: dict[str, SignalDef], deps: dict[str, list[str]]
    ) -> dict[str, SignalDef]:
        """Order signals so every derived signal comes after what it reads."""
        ordered: dict[str, SignalDef] = {}
        visiting: set[str] = set()

        def visit(name: str, trail: list[str]) -> None:
            if name in ordered or name not in signals:
                return
            if name in visiting:
                cycle = " -> ".join([*trail[trail.index(name) :], name])
                self.add(("signals", name), "E136", f"signals depend on each other: {cycle}",
                         key=True)
                return
            visiting.add(name)
            for dep in deps.get(name, []):
                visit(dep, [*trail, name])
            visiting.discard(name)
            ordered[name] = signals[name]

        for name in signals:
            visit(name, [])
        return ordered

    def build_categories(self) -> tuple[tuple[Category, ...], float]:
        scoring = self.section("scoring", dict)
        categories_raw = scoring.get("categories")
        if not isinstance(categories_raw, dict):
            return (), 10.0
        categories: list[Category] = []
        total = 0.0
        all_numeric = True
        for cname, spec in categories_raw.items():
            if not isinstance(spec, dict):
                continue
            weight = spec.get("weight")
            if isinstance(weight, int | float) and not isinstance(weight, bool):
                total += float(weight)
            else:
                all_numeric = False
            tiers: list[Tier] = []
            for index, tier in enumerate(spec.get("tiers") or []):
                if not isinstance(tier, dict):
                    continue
                path: Path = ("scoring", "categories", cname, "tiers", index)
                cond = self.condition((*path, "when"))
                score = self.number((*path, "score"), tier.get("score"))
                if cond is not None and score is not None and isinstance(tier.get("id"), str):
                    tiers.append(Tier(tier["id"], score, cond))
            otherwise = spec.get("otherwise", 0)
            categories.append(
                Category(
                    cname,
                    float(weight) if isinstance(weight, int | float) else 0.0,
                    tuple(tiers),
                    float(otherwise) if isinstance(otherwise, int | float) else 0.0,
                )
            )
        if categories and all_numeric and abs(total - 1.0) > 1e-9:
            parts = ", ".join(f"{c.name} {c.weight:g}" for c in categories)
            self.add(
                ("scoring", "categories"),
                "E120",
                f"scoring.categories: weights must sum to 1, they sum to {total:g} ({parts})",
                key=True,
            )
        scale_raw = scoring.get("scale", 10)
        scale = float(scale_raw) if isinstance(scale_raw, int | float) else 10.0
        highest = sum(
            max([c.otherwise, *(t.score for t in c.tiers)]) * c.weight for c in categories
        )
        weights_ok = all_numeric and abs(total - 1.0) <= 1e-9
        if weights_ok and highest * scale > 100 + 1e-9:
            self.add(
                ("scoring", "categories"),
                "E124",
                f"scoring.categories: the best tiers give {highest * scale:g} points, above "
                "the 0-100 scale (lower a tier score, a weight or scoring.scale)",
                key=True,
            )
        return tuple(categories), scale

    def build_bands(self, plays: dict[str, Any]) -> tuple[Band, ...]:
        bands: list[tuple[Band, int]] = []
        for index, spec in enumerate(self.section("bands", list)):
            if not isinstance(spec, dict):
                continue
            lo, hi = spec.get("min"), spec.get("max")
            if not isinstance(lo, int | float) or not isinstance(hi, int | float):
                continue
            if not isinstance(spec.get("id"), str):
                continue
            self.check_ref(("bands", index, "play"), spec.get("play"), plays, "E131", "play")
            band = Band(
                id=spec["id"],
                title=str(spec.get("title") or spec["id"].replace("_", " ").capitalize()),
                min=float(lo),
                max=float(hi),
                play=str(spec.get("play", "")),
                outreach=bool(spec.get("outreach", False)),
            )
            if band.min >= band.max:
                self.add(
                    ("bands", index, "max"),
                    "E121",
                    f"bands[{index}] ({band.id}): max {band.max:g} must be above min {band.min:g}",
                )
            bands.append((band, index))
        ordered = sorted(bands, key=lambda pair: pair[0].min)
        if ordered:
            first, first_index = ordered[0]
            if first.min > 0:
                self.add(
                    ("bands", first_index, "min"),
                    "E121",
                    f"bands: scores from 0 to {first.min:g} fall in no band",
                )
            last, last_index = ordered[-1]
            if last.max < 100:
                self.add(
                    ("bands", last_index, "max"),
                    "E121",
                    f"bands: scores from {last.max:g} to 100 fall in no band",
                )
            for (low, _), (high, high_index) in itertools.pairwise(ordered):
                if high.min > low.max:
                    self.add(
                        ("bands", high_index, "min"),
                        "E121",
                        f"bands: gap between {low.id} (max {low.max:g}) and {high.id} "
                        f"(min {high.min:g}): scores in between fall in no band",
                    )
                elif high.min < low.max:
                    self.add(
                        ("bands", high_index, "min"),
                        "E121",
                        f"bands: {high.id} (min {high.min:g}) overlaps {low.id} "
                        f"(max {low.max:g}); a band's max is the next band's min",
                    )
        return tuple(sorted((b for b, _ in bands), key=lambda b: -b.min))

    def build_gates(self, plays: dict[str, Any]) -> tuple[Gate, ...]:
        gates: list[Gate] = []
        for index, spec in enumerate(self.section("gates", list)):
            if not isinstance(spec, dict):
                continue
            path: Path = ("gates", index)
            self.check_ref((*path, "play"), spec.get("play"), plays, "E131", "play")
            cond = self.condition((*path, "require"))
            if cond is not None and isinstance(spec.get("id"), str):
                gates.append(
                    Gate(spec["id"], str(spec.get("severity")), cond, str(spec.get("play")))
                )
        return tuple(gates)

    def build_red_flags(self, plays: dict[str, Any]) -> tuple[RedFlag, ...]:
        flags: list[RedFlag] = []
        for index, spec in enumerate(self.section("red_flags", list)):
            if not isinstance(spec, dict):
                continue
            path: Path = ("red_flags", index)
            if "play" in spec:
                self.check_ref((*path, "play"), spec.get("play"), plays, "E131", "play")
            cond = self.condition((*path, "when"))
            cap = self.number((*path, "cap"), spec["cap"]) if "cap" in spec else None
            if cond is not None and isinstance(spec.get("id"), str):
                flags.append(
                    RedFlag(
                        spec["id"],
                        cond,
                        str(spec.get("effect")),
                        spec.get("play") if isinstance(spec.get("play"), str) else None,
                        cap,
                    )
                )
        return tuple(flags)

    def build_triggers(self, plays: dict[str, Any]) -> tuple[Trigger, ...]:
        triggers: list[Trigger] = []
        for index, spec in enumerate(self.section("triggers", list)):
            if not isinstance(spec, dict):
                continue
            path: Path = ("triggers", index)
            self.check_ref((*path, "play"), spec.get("play"), plays, "E131", "play")
            self.check_ref(
                (*path, "upsell_type"),
                spec.get("upsell_type"),
                self.registry.upsell_types,
                "E130",
                "upsell type",
            )
            cond = self.condition((*path, "when"))
            evidence = self.template((*path, "evidence")) if "evidence" in spec else None
            if cond is not None and isinstance(spec.get("id"), str):
                triggers.append(
                    Trigger(
                        spec["id"],
                        str(spec.get("upsell_type")),
                        cond,
                        str(spec.get("play")),
                        evidence,
                    )
                )
        return tuple(triggers)

    def build_owners(self) -> dict[str, tuple[OwnerRule, ...]]:
        owners: dict[str, tuple[OwnerRule, ...]] = {}
        for name, rules in self.section("owners", dict).items():
            built: list[OwnerRule] = []
            for index, rule in enumerate(rules if isinstance(rules, list) else []):
                if not isinstance(rule, dict) or not isinstance(rule.get("role"), str):
                    continue
                cond = None
                if "when" in rule:
                    cond = self.condition(("owners", name, index, "when"))
                built.append(OwnerRule(rule["role"], cond))
            owners[name] = tuple(built)
        return owners

    def build_plays(self, owners: dict[str, Any]) -> dict[str, Play]:
        plays: dict[str, Play] = {}
        default_owner = next(iter(owners), "")
        for name, spec in self.section("plays", dict).items():
            if not isinstance(spec, dict):
                continue
            path: Path = ("plays", name)
            # Keys the play leaves out come from the upsell type it names, if any.
            kind = play_type(self, path, spec)
            owner = spec.get("owner", default_text(kind, "owner") or default_owner)
            if "owner" in spec:
                self.check_ref((*path, "owner"), owner, owners, "E132", "owner rule set")
            elif kind is not None and kind.default_owner and owner not in owners:
                self.add((*path, "upsell_type"), "E132",
                         f"plays.{name}: upsell type '{kind.name}' gives the owner rule set "
                         f"'{owner}', which this ruleset has not; write owner: in the play")
            if "window" in spec:
                window = self.template((*path, "window"))
            elif kind is not None and default_text(kind, "window"):
                window = default_template(self, path, kind, "window")
            else:
                window = None
                if kind is not None or "upsell_type" not in spec:
                    self.add(path, "E010", f"plays.{name}: missing required key 'window'"
                             + (f" (upsell type '{kind.name}' gives no default window)"
                                if kind is not None else ""))
            if "message" in spec:
                message = self.template((*path, "message"))
            else:
                message = default_template(self, path, kind, "message") if kind else None
            plays[name] = Play(
                name,
                str(spec.get("title", name)),
                window or parse_template(""),
                str(owner),
                message,
                str(spec.get("frame", "")),
            )
        return plays

    def check_ids(self) -> None:
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

    def check_plugins(self) -> None:
        for index, name in enumerate(self.data.get("plugins") or []):
            if not isinstance(name, str) or name in self.registry.plugins:
                continue
            failed = getattr(self.registry, "failed", {}).get(name)
            if name in self.registry.disabled:
                why = (
                    "which is disabled for this run (remove -p no:NAME or its entry in "
                    "UPSELL_RULES_DISABLE_PLUGINS)"
                )
            elif failed is not None:
                why = f"which is installed but was left out because it is broken: {failed[1]}"
            else:
                why = (
                    "which is not installed (pip install the package that provides it, or "
                    "load it for one run with -p MODULE or --plugin FILE)"
                )
            self.add(
                ("plugins", index), "E150",
                f"plugins[{index}]: this ruleset needs plugin '{name}', {why}",
            )

    def option_value(self, path: Path, what: str, spec: ParamSpec, value: Any) -> bool:
        """Check one source or sink option against its declared kind (E152/E154)."""
        kind = spec.kind
        ok = True
        if kind in ("number", "integer"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok and kind == "integer":
                ok = float(value).is_integer()
        elif kind in ("string", "signal"):
            ok = isinstance(value, str)
        elif kind == "boolean":
            ok = isinstance(value, bool)
        elif kind in ("list", "signals"):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif kind == "mapping":
            ok = isinstance(value, dict) and all(
                isinstance(v, str) for v in value.values()
            )
        if not ok:
            words = {"list": "a list of texts", "mapping": "a mapping of text to text",
                     "signals": "a list of texts", "signal": "text", "string": "text",
                     "boolean": "true or false"}
            self.add(path, "E152" if path[0] == "sources" else "E154",
                     f"{field_path(path)}: {what} must be {words.get(kind, 'a ' + kind)}")
        return ok

    def build_sources(self) -> dict[str, dict[str, Any]]:
        """The ``sources:`` section: options for registered sources, checked."""
        out: dict[str, dict[str, Any]] = {}
        for name, options in self.section("sources", dict).items():
            path: Path = ("sources", name)
            source = self.registry.sources.get(name)
            if source is None:
                if isinstance(options, dict) and {"title", "window"} <= set(options):
                    self.add(path, "E151", f"sources.{name}: this looks like a play (it has a "
                             "title and a window): move it under plays:", key=True)
                    continue
                hint = did_you_mean(name, list(self.registry.sources))
                self.add(path, "E151", f"sources.{name}: unknown signal source '{name}'{hint}",
                         key=True)
                continue
            checked: dict[str, Any] = {}
            for key, value in (options if isinstance(options, dict) else {}).items():
                spec = source.options.get(key)
                if spec is None:
                    hint = did_you_mean(key, list(source.options))
                    known = ", ".join(source.options) or "none"
                    self.add((*path, key), "E152",
                             f"sources.{name}: source '{name}' has no option '{key}'{hint} "
                             f"(options: {known})", key=True)
                    continue
                if not self.option_value((*path, key), f"option '{key}'", spec, value):
                    continue
                problems = spec.check(value) if spec.check is not None else []
                for inner, message in problems:
                    where = (*path, key, inner) if inner else (*path, key)
                    self.add(where, "E152", f"{field_path(where)}: {message}")
                if not problems:
                    checked[key] = value
                if spec.operator_only:
                    self.add((*path, key), "W155",
                             f"sources.{name}.{key}: this option is the operator's; it is "
                             "used only when the run allows it (--allow-ruleset-query), "
                             "else the run stops", key=True)
            out[name] = checked
        return out

    def build_sinks(self) -> dict[str, SinkConfig]:
        """The ``sinks:`` section: named, configured action sinks, checked."""
        out: dict[str, SinkConfig] = {}
        band_ids = [b.get("id") for b in self.section("bands", list) if isinstance(b, dict)]
        for sink_id, spec in self.section("sinks", dict).items():
            path: Path = ("sinks", sink_id)
            if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
                continue
            kind = spec["type"]
            sink = self.registry.sinks.get(kind)
            if sink is None:
                hint = did_you_mean(kind, list(self.registry.sinks))
                known = ", ".join(sorted(self.registry.sinks))
                self.add((*path, "type"), "E153",
                         f"sinks.{sink_id}.type: unknown sink '{kind}'{hint} (sinks: {known})")
                continue
            options: dict[str, Any] = {}
            for key, value in spec.items():
                if key in ("type", "bands", "blocked"):
                    continue
                option = sink.options.get(key)
                if option is None:
                    hint = did_you_mean(key, list(sink.options))
                    known = ", ".join(sink.options) or "none"
                    self.add((*path, key), "E154",
                             f"sinks.{sink_id}: sink '{kind}' has no option '{key}'{hint} "
                             f"(options: {known})", key=True)
                    continue
                if self.option_value((*path, key), f"option '{key}'", option, value):
                    options[key] = value
            for key, option in sink.options.items():
                if option.required and key not in spec:
                    self.add(path, "E154",
                             f"sinks.{sink_id}: sink '{kind}' needs option '{key}'", key=True)
            bands = spec.get("bands")
            for index, band in enumerate(bands if isinstance(bands, list) else []):
                if isinstance(band, str) and band_ids and band not in band_ids:
                    hint = did_you_mean(band, [str(b) for b in band_ids])
                    self.add((*path, "bands", index), "E154",
                             f"sinks.{sink_id}.bands[{index}]: unknown band '{band}'{hint}")
            blocked = spec.get("blocked")
            out[sink_id] = SinkConfig(
                id=sink_id,
                type=kind,
                options=options,
                location=self.doc.locate(path, key=True),
                bands=tuple(str(b) for b in bands) if isinstance(bands, list) else None,
                blocked=blocked if isinstance(blocked, bool) else None,
            )
        return out

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

    def build(self, sha256: str) -> Ruleset:
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


def _bound(value: Any) -> float | None:
    """A ``min:`` / ``max:`` value (the schema checks it is a number)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


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
    findings.extend(schema_findings(doc))
    builder = _Builder(doc, registry)
    ruleset = builder.build(sha256)
    findings.extend(builder.findings)
    if ruleset is not None:
        from upsell_rules.ruleset.units import unit_findings

        findings.extend(unit_findings(ruleset))
    unique = list(dict.fromkeys(findings))
    return ruleset, sorted(unique, key=Diagnostic.sort_key)


def load_ruleset(path: str, registry: Registry | None = None) -> Ruleset:
    """Load a ruleset for evaluation; raise :class:`RulesetError` if it has errors."""
    ruleset, findings = check_ruleset(path, registry)
    errors = [f for f in findings if f.is_error]
    if ruleset is None or errors:
        raise RulesetError(errors or findings)
    return ruleset
