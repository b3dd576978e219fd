"""Building a ruleset's ``constants:`` and ``signals:``: declared types, derivations and
their parameters, named conditions, ranges, and the order derived signals run in."""

from __future__ import annotations

from typing import Any

from upsell_rules.errors import did_you_mean
from upsell_rules.expr.nodes import names_in
from upsell_rules.plugin.types import SIGNAL_TYPES, Derivation, ParamSpec
from upsell_rules.ruleset.build_context import DECISION_NAMES, BuildContext, compatible
from upsell_rules.ruleset.model import Condition, SignalDef
from upsell_rules.ruleset.schema import as_written, field_path
from upsell_rules.ruleset.yamlload import Path, value_at


class SignalSections(BuildContext):
    """The constants and signals sections of the ruleset being built."""

    def build_constants(self) -> None:
        """Keep every scalar constant; a reserved name is E111."""
        for name, value in self.section("constants", dict).items():
            if isinstance(value, bool | int | float | str):
                self.constants[name] = value
            else:
                self.unusable_constants.add(name)
            if name in DECISION_NAMES:
                self.add(("constants", name), "E111", f"'{name}' is a reserved name", key=True)

    def build_signals(self) -> dict[str, SignalDef]:
        """Every signal, typed and checked, derived signals after what they read."""
        raw = self.section("signals", dict)
        self.declare_signals(raw)
        signals: dict[str, SignalDef] = {}
        deps: dict[str, list[str]] = {}
        for name, spec in raw.items():
            if not isinstance(spec, dict) or name not in self.types:
                continue
            signals[name], deps[name] = self.signal(name, spec)
        return self.order_signals(signals, deps)

    def declare_signals(self, raw: dict[str, Any]) -> None:
        """Record every signal's declared type first, so conditions may name any of them."""
        for name, spec in raw.items():
            if isinstance(spec, dict) and isinstance(spec.get("type"), str):
                self.types[name] = spec["type"]
            if name in self.constants:
                self.add(("signals", name), "E111",
                         f"'{name}' is both a signal and a constant", key=True)
            if name in DECISION_NAMES:
                self.add(("signals", name), "E111",
                         f"'{name}' is a reserved name (it is part of every decision)",
                         key=True)

    def signal(self, name: str, spec: dict[str, Any]) -> tuple[SignalDef, list[str]]:
        """One signal's definition and the signals it reads."""
        path: Path = ("signals", name)
        declared = self.types[name]
        derive = spec.get("derive")
        params: dict[str, Any] = {}
        when: Condition | None = None
        deps: list[str] = []
        if isinstance(derive, str):
            params, reads = self.derivation(path, derive, spec.get("params"), declared)
            deps = list(reads)
        elif "params" in spec:
            self.add((*path, "params"), "E134", f"{field_path(path)}: params need derive:")
        if isinstance(spec.get("when"), str):
            if declared != "boolean":
                self.add((*path, "type"), "E135",
                         f"{field_path(path)}: a named condition (when:) is boolean, "
                         f"declared {declared}")
            when = self.condition((*path, "when"))
            if when is not None:
                deps = [n for n in names_in(when.node) if n in self.types]
        if derive is None and when is None:
            self.check_input_type(path, name, declared)
        definition = SignalDef(
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
        return definition, deps

    def check_input_type(self, path: Path, name: str, declared: str) -> None:
        """W201 when an input signal's type differs from the data contract's field."""
        field = self.registry.fields.get(name)
        if field is None:
            return
        if declared in SIGNAL_TYPES and not compatible(declared, field.type):
            self.add((*path, "type"), "W201",
                     f"{field_path(path)}: input field '{name}' is {field.type} in the "
                     f"data contract, declared {declared} here")

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
        """A derived signal's checked parameters and the signals it reads."""
        derivation = self.registry.derivations.get(name)
        where = field_path(path)
        if derivation is None:
            hint = did_you_mean(name, list(self.registry.derivations))
            self.add((*path, "derive"), "E133", f"{where}: unknown derivation '{name}'{hint}")
            return {}, ()
        findings_before = len(self.findings)
        resolved = self.derivation_params(path, name, derivation, params)
        if len(self.findings) == findings_before:
            self.plugin_accepts(path, name, derivation, resolved)
        if not compatible(declared, derivation.output_type):
            self.add((*path, "type"), "E135",
                     f"{where}: derivation '{name}' gives {derivation.output_type}, "
                     f"declared {declared}")
        return resolved, derivation.reads(resolved)

    def derivation_params(
        self, path: Path, name: str, derivation: Derivation, params: Any
    ) -> dict[str, Any]:
        """The parameters given, each known and of its kind; a required one must be there."""
        where = field_path(path)
        given = params if isinstance(params, dict) else {}
        for pname in given:
            if pname not in derivation.params:
                hint = did_you_mean(pname, list(derivation.params))
                self.add((*path, "params", pname), "E134",
                         f"{where}: derivation '{name}' has no parameter '{pname}'{hint}",
                         key=True)
        resolved: dict[str, Any] = {}
        for pname, spec in derivation.params.items():
            value = given.get(pname, spec.default)
            if value is None:
                if spec.required:
                    self.add(self._params_path(path), "E134",
                             f"{where}: derivation '{name}' needs parameter '{pname}'",
                             key=True)
                continue
            value, ok = self.param_value((*path, "params", pname), where, spec, value)
            if ok:
                resolved[pname] = value
        return resolved

    def param_value(
        self, path: Path, where: str, spec: ParamSpec, value: Any
    ) -> tuple[Any, bool]:
        """One parameter's value (a numeric constant's name becomes its value) and whether
        it is of the parameter's kind (named signals must exist)."""
        pname = path[-1]
        if spec.kind == "signal":
            return value, isinstance(value, str) and self.check_ref(
                path, value, self.types, "E101", "signal")
        if spec.kind == "signals":
            return value, isinstance(value, list) and all(
                self.check_ref((*path, i), v, self.types, "E101", "signal")
                for i, v in enumerate(value)
            )
        if spec.kind in ("number", "integer"):
            if isinstance(value, str) and isinstance(self.constants.get(value), int | float):
                value = self.constants[value]
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if spec.kind == "integer":
                ok = ok and float(value).is_integer()
            if not ok:
                self.add(path, "E134",
                         f"{where}: parameter '{pname}' must be a {spec.kind} or the name of "
                         f"a numeric constant, not {as_written(value)}")
            return value, ok
        if spec.kind == "string" and not isinstance(value, str):
            self.add(path, "E134", f"{where}: parameter '{pname}' must be text, not "
                                   f"{as_written(value)}")
            return value, False
        return value, True

    def plugin_accepts(
        self, path: Path, name: str, derivation: Derivation, resolved: dict[str, Any]
    ) -> None:
        """Let the plugin check the values too (ranges, relations between parameters)."""
        defaults = {k: v.default for k, v in derivation.params.items() if v.default is not None}
        try:
            derivation.build({**defaults, **resolved})
        except (ValueError, TypeError) as exc:
            self.add(self._params_path(path), "E134",
                     f"{field_path(path)}: derivation '{name}' refuses these parameters: {exc}")

    def _params_path(self, path: Path) -> Path:
        """Where a problem with the parameters as a whole is reported."""
        return (*path, "params") if "params" in value_at(self.data, path) else path

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


def _bound(value: Any) -> float | None:
    """A ``min:`` / ``max:`` value (the schema checks it is a number)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
