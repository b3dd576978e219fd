"""The JSON Schema of ruleset files, and located schema findings."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from upsell_rules.errors import Diagnostic
from upsell_rules.expr.check import did_you_mean

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
    return " or ".join(words.get(str(n), str(n)) for n in names)


def _describe(error: ValidationError, doc: YamlDocument) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    where = field_path(path)
    value = error.instance
    validator = error.validator
    if validator == "required":
        missing = [k for k in error.validator_value if k not in (value or {})]
        return [
            Diagnostic(doc.locate(path, key=True), "E010", f"{where}: missing required key '{k}'")
            for k in missing
        ]
    if validator == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extras = [k for k in value if k not in allowed]
        found = []
        for key in extras:
            hint = did_you_mean(key, allowed)
            expected = f"; expected one of: {', '.join(allowed)}" if not hint else ""
            found.append(
                Diagnostic(
                    doc.locate((*path, key), key=True),
                    "E011",
                    f"{where}: unknown key '{key}'{hint}{expected}",
                )
            )
        return found
    if validator == "propertyNames" or (
        validator == "pattern" and error.relative_schema_path and "propertyNames" in str(
            list(error.relative_schema_path)
        )
    ):
        return [
            Diagnostic(
                doc.locate((*path, str(value)), key=True),
                "E012",
                f"{where}: '{value}' is not a valid name (use lower-case letters, digits and _)",
            )
        ]
    if validator == "pattern":
        return [
            Diagnostic(
                doc.locate(path),
                "E012",
                f"{where}: {value!r} is not a valid id (use lower-case letters, digits and _)",
            )
        ]
    if validator == "type":
        hint = ""
        percent = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", value) if isinstance(
            value, str) else None
        if percent is not None and "number" in str(error.validator_value):
            hint = f" (write a fraction: {float(percent.group(1)) / 100:g})"
        return [
            Diagnostic(
                doc.locate(path),
                "E013",
                f"{where}: {value!r} is not {_type_words(error.validator_value)}{hint}",
            )
        ]
    if validator == "enum":
        options = ", ".join(str(v) for v in error.validator_value)
        hint = did_you_mean(str(value), [str(v) for v in error.validator_value])
        return [
            Diagnostic(
                doc.locate(path),
                "E014",
                f"{where}: {value!r} is not one of {options}{hint}",
            )
        ]
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }
        return [
            Diagnostic(
                doc.locate(path),
                "E015",
                f"{where}: {value!r} must be {words[str(validator)]} {error.validator_value}",
            )
        ]
    if validator in ("minItems", "minProperties", "minLength"):
        return [Diagnostic(doc.locate(path), "E016", f"{where}: must not be empty")]
    if validator == "not":
        return [
            Diagnostic(
                doc.locate(path),
                "E017",
                f"{where}: a signal is derived (derive:) or a named condition (when:), "
                "not both",
            )
        ]
    return [Diagnostic(doc.locate(path), "E019", f"{where}: {error.message}")]


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
    return one_mistake_one_error(findings)
