"""What every part of building a ruleset shares: the document, the findings so far, the
names declared so far, and the checks of one value (a condition, a template, a number, a
reference, a plugin option) that report at the value's line and column."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from upsell_rules.errors import Diagnostic, did_you_mean
from upsell_rules.expr.check import check
from upsell_rules.expr.parser import ExprSyntaxError, parse
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import ParamSpec
from upsell_rules.ruleset.model import Condition
from upsell_rules.ruleset.schema import field_path
from upsell_rules.ruleset.templates import (
    MAX_RENDERED,
    MAX_RULESET_PLACEHOLDERS,
    Template,
    TemplateError,
    constants_overflow,
    parse_template,
)
from upsell_rules.ruleset.yamlload import Path, YamlDocument, value_at

#: Names every template may use besides signals and constants.
DECISION_NAMES = ("account_id", "account_name", "owner", "score", "band", "as_of")

_TYPE_COMPAT = {
    ("number", "integer"),
    ("number_list", "integer_list"),
}

#: How each option kind is named when a value is not of it.
_KIND_WORDS = {"list": "a list of texts", "mapping": "a mapping of text to text",
               "signals": "a list of texts", "signal": "text", "string": "text",
               "boolean": "true or false"}

Parsed = TypeVar("Parsed")


def compatible(declared: str, provided: str) -> bool:
    """True when a value of type ``provided`` may fill a signal declared ``declared``."""
    return declared == provided or (declared, provided) in _TYPE_COMPAT


class BuildContext:
    """The document being built and everything found about it so far."""

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
        #: Constants whose value cannot be used (empty, a list...): reported once where
        #: they are written, never again as an unknown name at each use.
        self.unusable_constants: set[str] = set()

    def add(self, path: Path, code: str, message: str, *, key: bool = False) -> None:
        """A finding at the value at ``path`` (or at its key)."""
        self.findings.append(Diagnostic(self.doc.locate(path, key=key), code, message))

    def add_at(self, path: Path, offset: int, code: str, message: str) -> None:
        """A finding at character ``offset`` inside the text at ``path``."""
        self.findings.append(Diagnostic(self.doc.scalar_offset(path, offset), code, message))

    def section(self, name: str, kind: type) -> Any:
        """The top-level section ``name`` if it has the expected type, else an empty one."""
        value = self.data.get(name)
        return value if isinstance(value, kind) else kind()

    def parsed(
        self,
        path: Path,
        parse_text: Callable[[str], Parsed],
        error: type[ExprSyntaxError] | type[TemplateError],
        code: str,
    ) -> tuple[str, Parsed] | None:
        """The text at ``path`` and what ``parse_text`` makes of it; ``None`` when it is
        no text or does not parse (reported as ``code`` at the offending character)."""
        text = value_at(self.data, path)
        if not isinstance(text, str):
            return None
        try:
            return text, parse_text(text)
        except error as exc:
            self.add_at(path, exc.offset, code, f"{field_path(path)}: {exc.message}")
            return None

    def condition(self, path: Path) -> Condition | None:
        """The condition at ``path``, parsed and type-checked, or ``None`` (reported)."""
        parsed = self.parsed(path, parse, ExprSyntaxError, "E103")
        if parsed is None:
            return None
        text, node = parsed
        checked, problems = check(node, self.types, self.constants, self.registry.functions)
        for problem in problems:
            if self._misused_constant(path, problem.message):
                continue
            self.add_at(path, problem.offset, problem.code,
                        f"{field_path(path)}: {problem.message}")
        if problems:
            return None
        return Condition(text, checked, self.doc.locate(path))

    def _misused_constant(self, path: Path, message: str) -> bool:
        """One mistake, one error: a text constant compared with numbers or dates is
        reported once, at the constant (see :meth:`report_misused_constants`), and so is a
        constant whose value cannot be used at all."""
        unknown = re.match(r"unknown signal '([A-Za-z_][A-Za-z0-9_]*)'", message)
        if unknown is not None:
            return unknown.group(1) in self.unusable_constants
        if not message.startswith("type mismatch"):
            return False
        for name in re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", message):
            if isinstance(self.constants.get(name), str) and name not in self.types:
                self.misused.setdefault(name, []).append(path)
                return True
        return False

    def report_misused_constants(self) -> None:
        """E102 once per text constant the rules compare with numbers or dates."""
        for name, uses in self.misused.items():
            value = self.constants[name]
            lines = ", ".join(str(self.doc.locate(use).line) for use in uses[:5])
            self.add(("constants", name), "E102",
                     f"constants.{name}: {value!r} is text, but the rules compare it with "
                     f"numbers or dates (line {lines}): write a number")

    def template(self, path: Path) -> Template | None:
        """The template at ``path``, its placeholders checked, or ``None`` (reported)."""
        parsed = self.parsed(path, parse_template, TemplateError, "E140")
        if parsed is None:
            return None
        text, template = parsed
        where = field_path(path)
        known = self.known_names()
        for name in template.names:
            if name not in known:
                offset = text.find("{" + name)
                self.add_at(path, max(offset, 0), "E140",
                            f"{where}: unknown placeholder '{{{name}}}'"
                            f"{did_you_mean(name, known)}")
        if not self._within_limits(path, template):
            return None
        return template

    def _within_limits(self, path: Path, template: Template) -> bool:
        """Count the template's placeholders against the ruleset's limit, and check it
        cannot render too long with the constants alone (docs/security.md)."""
        where = field_path(path)
        self.placeholders += len(template.names)
        if self.placeholders > MAX_RULESET_PLACEHOLDERS:
            if self.placeholders - len(template.names) > MAX_RULESET_PLACEHOLDERS:
                return False  # reported once, at the template that crossed the limit
            self.add_at(path, 0, "E140",
                        f"{where}: more than {MAX_RULESET_PLACEHOLDERS:,} placeholders in the "
                        "ruleset's templates together (a limit: see docs/security.md)")
            return False
        length = constants_overflow(template, self.constants)
        if length is not None:
            self.add_at(path, 0, "E140",
                        f"{where}: renders to {length:,} characters with the constants alone, "
                        f"above the limit of {MAX_RENDERED:,} (see docs/security.md)")
        return True

    def known_names(self) -> list[str]:
        """The names a template may use: signals, constants and decision fields."""
        return [*self.types, *self.constants, *self.unusable_constants, *DECISION_NAMES]

    def check_ref(
        self, path: Path, value: Any, known: Mapping[str, Any], code: str, what: str
    ) -> bool:
        """True when ``value`` names one of ``known`` (or is no text); else reported."""
        if not isinstance(value, str) or value in known:
            return True
        hint = did_you_mean(value, list(known))
        self.add(path, code, f"{field_path(path)}: unknown {what} '{value}'{hint}")
        return False

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

    def check_options(
        self,
        path: Path,
        owner: str,
        given: Mapping[str, Any],
        declared: Mapping[str, ParamSpec],
        code: str,
    ) -> dict[str, Any]:
        """The options of a source or sink (``owner``, e.g. "source 'csv'") that pass their
        checks: each must be declared, of its kind and accepted by its own check; a
        required one must be given. Every problem is reported as ``code``."""
        checked: dict[str, Any] = {}
        for key, value in given.items():
            spec = declared.get(key)
            if spec is None:
                hint = did_you_mean(key, list(declared))
                known = ", ".join(declared) or "none"
                self.add((*path, key), code,
                         f"{field_path(path)}: {owner} has no option '{key}'{hint} "
                         f"(options: {known})", key=True)
                continue
            if self._option_checked((*path, key), spec, value, code):
                checked[key] = value
        for key, spec in declared.items():
            if spec.required and key not in given:
                self.add(path, code, f"{field_path(path)}: {owner} needs option '{key}'",
                         key=True)
        return checked

    def _option_checked(self, path: Path, spec: ParamSpec, value: Any, code: str) -> bool:
        """One option's value: of its kind, accepted by the option's own check (each
        problem at its place inside the value), and a warning when it is the operator's."""
        if not self.option_value(path, f"option '{path[-1]}'", spec, value, code):
            return False
        problems = spec.check(value) if spec.check is not None else []
        for inner, message in problems:
            where = (*path, inner) if inner else path
            self.add(where, code, f"{field_path(where)}: {message}")
        if spec.operator_only:
            self.add(path, "W155",
                     f"{field_path(path)}: this option is the operator's; it is "
                     "used only when the run allows it (--allow-ruleset-query), "
                     "else the run stops", key=True)
        return not problems

    def option_value(
        self, path: Path, what: str, spec: ParamSpec, value: Any, code: str
    ) -> bool:
        """True when ``value`` is of the option's declared kind; else reported as ``code``."""
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
            self.add(path, code,
                     f"{field_path(path)}: {what} must be "
                     f"{_KIND_WORDS.get(kind, 'a ' + kind)}")
        return ok
