"""The JSON Schema of ruleset files, and located schema findings."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, NamedTuple

from upsell_rules.errors import Diagnostic, did_you_mean

if TYPE_CHECKING:
    # jsonschema takes ~70 ms to import: only a validation pays for it.
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

    from upsell_rules.ruleset.yamlload import YamlDocument


@cache
def ruleset_schema() -> dict[str, Any]:
    """The ruleset JSON Schema (draft 2020-12) as a dict."""
    text = resources.files(__package__).joinpath("ruleset.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every local ``$ref`` replaced by the definition it points to.

    The validator then does not resolve references while it runs, which makes
    validating a ruleset about four times faster, with the same errors (the schemas
    hold no recursive definitions, and a ``$ref``'s siblings are annotations). The
    alternatives of ``oneOf`` and ``anyOf`` stay as written: error messages quote them.
    """
    definitions = schema.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out.update(inline(definitions[value.removeprefix("#/$defs/")]))
            elif key in ("oneOf", "anyOf"):
                out[key] = value
            else:
                out[key] = inline(value)
        return out

    inlined: dict[str, Any] = inline(schema)
    return inlined


@cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_inline_refs(ruleset_schema()))


@cache
def tests_schema() -> dict[str, Any]:
    """The JSON Schema of ruleset test files (``*.tests.yaml``) as a dict."""
    text = resources.files(__package__).joinpath("ruleset_tests.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _tests_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_inline_refs(tests_schema()))


def field_path(path: tuple[str | int, ...]) -> str:
    """``('gates', 1, 'require')`` as ``gates[1].require``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _type_words(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "text",
        "number": "a number",
        "integer": "a whole number",
        "boolean": "true or false",
    }
    said = [words.get(str(n), str(n)) for n in names]
    return " or ".join(said) if len(said) < 3 else f"{', '.join(said[:-1])} or {said[-1]}"


def as_written(value: Any) -> str:
    """A value in a ruleset author's words, as the YAML shows it: ``true``, ``'high'``,
    ``3``; never Python's ``None`` or ``True``."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _is_not(value: Any, expected: str) -> str:
    """``'high' is not a number``; for a key left empty, what to write there instead."""
    if value is None:
        return f"no value after the ':' (write {expected})"
    return f"{as_written(value)} is not {expected}"


class _Failure(NamedTuple):
    """One schema error with what every finding about it needs: where, and the node."""

    error: ValidationError
    doc: YamlDocument
    #: The path of the offending node, and its ``field_path`` text.
    path: tuple[str | int, ...]
    where: str

    def at(self, code: str, message: str) -> list[Diagnostic]:
        """One finding, located at the offending node's value."""
        return [Diagnostic(self.doc.locate(self.path), code, f"{self.where}: {message}")]


def _missing_keys(failure: _Failure) -> list[Diagnostic]:
    present = failure.error.instance or {}
    return [
        Diagnostic(failure.doc.locate(failure.path, key=True), "E010",
                   f"{failure.where}: missing required key '{k}'")
        for k in failure.error.validator_value if k not in present
    ]


def _unknown_keys(failure: _Failure) -> list[Diagnostic]:
    allowed = sorted((failure.error.schema.get("properties") or {}).keys())
    found = []
    for key in [k for k in failure.error.instance if k not in allowed]:
        hint = did_you_mean(key, allowed)
        expected = f"; expected one of: {', '.join(allowed)}" if not hint else ""
        found.append(
            Diagnostic(
                failure.doc.locate((*failure.path, key), key=True),
                "E011",
                f"{failure.where}: unknown key '{key}'{hint}{expected}",
            )
        )
    return found


def _bad_name(failure: _Failure) -> list[Diagnostic]:
    value = failure.error.instance
    return [
        Diagnostic(
            failure.doc.locate((*failure.path, str(value)), key=True),
            "E012",
            f"{failure.where}: '{value}' is not a valid name (use lower-case letters, digits "
            "and _)",
        )
    ]


def _bad_id(failure: _Failure) -> list[Diagnostic]:
    return failure.at("E012", f"{failure.error.instance!r} is not a valid id (use lower-case "
                              "letters, digits and _)")


_YES_NO = {"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false",
           "off": "false"}


def _number_hint(text: str, schema: dict[str, Any]) -> str:
    """What to write instead of text where a number belongs: ``"70"`` without its quotes,
    ``45%`` as the fraction a weight is (0-1) or the points a band limit is (0-100)."""
    if re.fullmatch(r"\s*-?\d+(?:\.\d+)?\s*", text):
        return f" (remove the quotes: {text.strip()})"
    percent = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", text)
    if percent is None:
        return ""
    number = float(percent.group(1))
    if schema.get("maximum") == 1:
        return f" (write a fraction: {number / 100:g})"
    if schema.get("maximum") == 100:
        return f" (write {number:g}: scores run from 0 to 100, without %)"
    return ""


def _wrong_type(failure: _Failure) -> list[Diagnostic]:
    value, expected = failure.error.instance, failure.error.validator_value
    hint = ""
    if isinstance(value, str) and ("number" in str(expected) or "integer" in str(expected)):
        hint = _number_hint(value, failure.error.schema)
    word = value.strip().lower() if isinstance(value, str) else ""
    if expected == "boolean" and word in _YES_NO:
        hint = f" (write {_YES_NO[word]}: a ruleset reads {value.strip()!r} as text)"
    words = _type_words(expected)
    if str(failure.error.schema.get("description", "")).startswith("A condition"):
        words = "a condition, such as health_score >= 75"
    return failure.at("E013", f"{_is_not(value, words)}{hint}")


def _not_an_option(failure: _Failure) -> list[Diagnostic]:
    value, options = failure.error.instance, failure.error.validator_value
    hint = did_you_mean(str(value), [str(v) for v in options]) if value is not None else ""
    listed = ", ".join(str(v) for v in options)
    return failure.at("E014", f"{_is_not(value, 'one of ' + listed)}{hint}")


_BOUND_WORDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "more than",
    "exclusiveMaximum": "less than",
}


def _out_of_range(failure: _Failure) -> list[Diagnostic]:
    error = failure.error
    hint = ""
    if error.validator == "maximum" and error.validator_value == 1 and error.instance <= 100:
        hint = f" (a fraction of 1: write {error.instance / 100:g} for {error.instance:g}%)"
    return failure.at("E015", f"{error.instance!r} must be {_BOUND_WORDS[str(error.validator)]} "
                              f"{error.validator_value}{hint}")


def _empty(failure: _Failure) -> list[Diagnostic]:
    return failure.at("E016", "must not be empty")


def _derived_and_named(failure: _Failure) -> list[Diagnostic]:
    return failure.at("E017", "a signal is derived (derive:) or a named condition (when:), "
                              "not both")


def _alternative_words(schema: dict[str, Any]) -> str:
    """One alternative of a ``oneOf`` / ``anyOf`` in a ruleset author's words."""
    if str(schema.get("$ref", "")).endswith("/id"):
        return "the name of a constant"
    kind = schema.get("type")
    if kind == "object" and set(schema.get("properties") or {}) == {"min", "max"}:
        return "a range such as {min: 60, max: 80}"
    if kind == "boolean":
        return "true or false (yes / no)"
    if kind == "string" and "pattern" in schema:
        return ""  # the spelled-out form of another alternative (yes / no)
    return _type_words(kind) if kind else ""


def _no_alternative(failure: _Failure) -> list[Diagnostic]:
    """A value that fits none of the forms a key takes (a number, or a constant's name...).

    When the value has the right kind for one form but breaks a rule of it (a score below
    0, a misspelt ``mx:`` in a range), that rule is the finding; otherwise the forms are
    listed, never the schema checker's "not valid under any of the given schemas"."""
    near = [e for e in failure.error.context or ()
            if str(e.validator) not in ("type", "pattern", "$ref")]
    if near:
        return [d for e in near for d in _describe(e, failure.doc)]
    forms = [_alternative_words(s) for s in failure.error.validator_value]
    listed = " or ".join(dict.fromkeys(f for f in forms if f))
    return failure.at("E013", _is_not(failure.error.instance, listed))


#: The finding for each JSON Schema keyword an error can come from (others: E019).
_FINDINGS: dict[str, Callable[[_Failure], list[Diagnostic]]] = {
    "required": _missing_keys,
    "additionalProperties": _unknown_keys,
    "propertyNames": _bad_name,
    "pattern": _bad_id,
    "type": _wrong_type,
    "enum": _not_an_option,
    **dict.fromkeys(_BOUND_WORDS, _out_of_range),
    **dict.fromkeys(("minItems", "minProperties", "minLength"), _empty),
    "not": _derived_and_named,
    **dict.fromkeys(("oneOf", "anyOf"), _no_alternative),
}


def _describe(error: ValidationError, doc: YamlDocument) -> list[Diagnostic]:
    """The findings for one schema error, in the words of :data:`_FINDINGS`."""
    path = tuple(error.absolute_path)
    failure = _Failure(error, doc, path, field_path(path))
    validator = str(error.validator)
    if validator == "pattern" and error.relative_schema_path and "propertyNames" in str(
        list(error.relative_schema_path)
    ):
        validator = "propertyNames"  # a key's name, not a value, broke the pattern
    finding = _FINDINGS.get(validator)
    if finding is None:
        return failure.at("E019", error.message)
    return finding(failure)


def schema_findings(doc: YamlDocument) -> list[Diagnostic]:
    """Every schema violation in the document, each located at the offending node."""
    findings: list[Diagnostic] = []
    if not isinstance(doc.data, dict):
        kind = "empty" if doc.data is None else type(doc.data).__name__
        return [
            Diagnostic(
                doc.locate(()), "E013", f"a ruleset is a mapping of sections; this file is {kind}"
            )
        ]
    for error in _validator().iter_errors(doc.data):
        findings.extend(_describe(error, doc))
    return one_mistake_one_error(findings)


def one_mistake_one_error(findings: list[Diagnostic]) -> list[Diagnostic]:
    """Drop "missing required key" where the same mapping has a misspelt key: the typo
    (``efect:``, with its did-you-mean) is the one mistake to report."""
    misspelt = {
        d.message.split(": unknown key ", 1)[0]
        for d in findings
        if d.code == "E011" and "did you mean" in d.message
    }
    return [
        d for d in findings
        if not (d.code == "E010" and d.message.split(": missing required key", 1)[0] in misspelt)
    ]


def tests_schema_findings(doc: YamlDocument) -> list[Diagnostic]:
    """Every schema violation in a ruleset test file, each located at the offending node."""
    if not isinstance(doc.data, dict):
        kind = "empty" if doc.data is None else type(doc.data).__name__
        return [
            Diagnostic(
                doc.locate(()), "E013",
                f"a test file is a mapping with ruleset: and cases:; this file is {kind}",
            )
        ]
    findings: list[Diagnostic] = []
    for error in _tests_validator().iter_errors(doc.data):
        findings.extend(_describe(error, doc))
    return sorted(one_mistake_one_error(findings), key=Diagnostic.sort_key)
