"""Ruleset tests: YAML files of accounts and the decisions a ruleset must make for them.

A test file (``upsell_timing.tests.yaml`` beside ``upsell_timing.yaml``) names the
ruleset, a default evaluation date, an optional data file, and cases. Each case is an
account (written out, or a sample account from the data file with some fields changed)
and expectations: band, blocked, score, which triggers / gates / red flags fired, the
play, the owner... Only what a case writes is checked.

Loading is strict in the same way rulesets are: the file is read with positions, checked
against ``schema/ruleset_tests.schema.json``, and every id, field name and sample it
mentions is checked against the ruleset and the data, so a typo is an error with a
location, never a test that silently passes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.errors import Diagnostic, Location, RecordError, UpsellRulesError, did_you_mean
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import RawRecord
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.ruleset.schema import field_path, tests_schema_findings
from upsell_rules.ruleset.yamlload import Path, YamlDocument, load_yaml
from upsell_rules.workflow.case_values import as_of_date, written_value_problems
from upsell_rules.workflow.confine import outside_message
from upsell_rules.workflow.expectations import SCORE_TOLERANCE, compare, summary_of, truth
from upsell_rules.workflow.test_files import (
    TEST_SUFFIXES,
    TestFileError,
    discover,
    is_test_file,
    tests_for_ruleset,
)

__all__ = [
    "SCORE_TOLERANCE",
    "TEST_SUFFIXES",
    "CaseResult",
    "FileResult",
    "Mismatch",
    "TestFileError",
    "TestRunner",
    "compare",
    "discover",
    "is_test_file",
    "summary_of",
    "tests_for_ruleset",
    "truth",
]


_CASE_INDEX = re.compile(r"cases\[(\d+)\]")


@dataclass(frozen=True)
class Mismatch:
    """One expectation the decision did not meet."""

    key: str
    expected: Any
    actual: Any
    message: str
    line: int = 0


@dataclass
class CaseResult:
    """The outcome of one case: ``passed``, ``failed`` (mismatches) or ``error``."""

    name: str
    location: Location
    as_of: str
    account_id: str
    status: str = "passed"
    mismatches: list[Mismatch] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    decision: dict[str, Any] | None = None


@dataclass
class FileResult:
    """Every case of one test file, or the problems that kept the file from running."""

    path: str
    ruleset: str = ""
    cases: list[CaseResult] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file ran and every case passed."""
        return not self.errors and all(c.status == "passed" for c in self.cases)


@dataclass
class _Prepared:
    """A case ready to run, or the diagnostics that keep it from running."""

    name: str
    location: Location
    as_of: date | None
    account: Account | None
    expect: dict[str, Any]
    expect_path: Path
    errors: list[Diagnostic]


# --- loading -----------------------------------------------------------------------------


class TestRunner:
    """Runs test files; rulesets, evaluators and data files are loaded once and shared."""

    def __init__(self, registry: Registry, engine: str | None = None) -> None:
        self.registry = registry
        self.engine = engine
        self._rulesets: dict[str, tuple[Ruleset | None, list[Diagnostic]]] = {}
        self._evaluators: dict[str, Evaluator] = {}
        self._data: dict[str, tuple[dict[str, RawRecord], str]] = {}

    def ruleset(self, path: str) -> tuple[Ruleset | None, list[Diagnostic]]:
        """The ruleset at ``path`` and its findings (cached)."""
        key = os.path.abspath(path)
        if key not in self._rulesets:
            self._rulesets[key] = check_ruleset(path, self.registry)
        return self._rulesets[key]

    def evaluator(self, ruleset: Ruleset) -> Evaluator:
        """An evaluator for ``ruleset`` (cached by file)."""
        key = os.path.abspath(ruleset.path)
        if key not in self._evaluators:
            self._evaluators[key] = Evaluator(ruleset, self.registry, self.engine)
        return self._evaluators[key]

    def data(self, path: str) -> tuple[dict[str, RawRecord], str]:
        """Raw records of a data file by account_id, or an error message."""
        key = os.path.abspath(path)
        if key not in self._data:
            self._data[key] = self._read_data(path)
        return self._data[key]

    def _read_data(self, path: str) -> tuple[dict[str, RawRecord], str]:
        if not os.path.isfile(path):
            return {}, f"data file {path} does not exist"
        source = self.registry.source_for(path)
        if source is None:
            return {}, f"no signal source reads {path} (use .csv, .json or .jsonl)"
        records: dict[str, RawRecord] = {}
        for item in source.read(path):
            if isinstance(item, RecordError):
                continue
            account_id = item.values.get("account_id")
            if isinstance(account_id, str | int) and str(account_id) not in records:
                records[str(account_id).strip()] = item
        return records, ""

    # --- one file --------------------------------------------------------------------------

    def run_file(self, path: str) -> FileResult:
        """Load, check and run one test file."""
        result = FileResult(path=path)
        doc, findings = load_yaml(path)
        errors = [f for f in findings if f.is_error]
        if doc is None or errors:
            result.errors = errors or findings
            return result
        result.errors = [f for f in tests_schema_findings(doc) if f.is_error]
        if result.errors:
            # Every problem at once: the other cases are still checked against the ruleset.
            result.errors = in_file_order(
                [*result.errors, *self._other_case_problems(doc, path, result.errors)])
            return result
        data: dict[str, Any] = doc.data
        base = os.path.dirname(path)
        ruleset_path = os.path.normpath(os.path.join(base, data["ruleset"]))
        result.ruleset = ruleset_path
        outside = outside_message(ruleset_path, path)
        if outside is not None:
            result.errors = [_diag(doc, ("ruleset",), "E301", f"ruleset: {outside}")]
            return result
        if not os.path.isfile(ruleset_path):
            result.errors = [_diag(doc, ("ruleset",), "E301",
                                   f"ruleset: {ruleset_path} does not exist (the path is "
                                   "relative to this test file)")]
            return result
        ruleset, rs_findings = self.ruleset(ruleset_path)
        rs_errors = [f for f in rs_findings if f.is_error]
        if ruleset is None or rs_errors:
            result.errors = [
                *rs_errors,
                _diag(doc, ("ruleset",), "E309",
                      f"ruleset: {ruleset_path} has {len(rs_errors) or 1} error(s) (listed "
                      "above); the cases cannot run until it validates"),
            ]
            return result
        try:
            evaluator = self.evaluator(ruleset)
        except UpsellRulesError as exc:
            result.errors = [_diag(doc, ("ruleset",), "E309", f"ruleset: {exc}")]
            return result
        file_errors, cases = self.prepare(doc, ruleset, base)
        result.errors = file_errors
        result.cases = [self.run_case(doc, evaluator, prepared) for prepared in cases]
        return result

    def run_case(
        self, doc: YamlDocument, evaluator: Evaluator, prepared: _Prepared
    ) -> CaseResult:
        """Decide one prepared case and compare the decision with what it expects."""
        case = CaseResult(
            name=prepared.name,
            location=prepared.location,
            as_of=prepared.as_of.isoformat() if prepared.as_of else "",
            account_id=prepared.account.account_id if prepared.account else "",
        )
        if prepared.errors or prepared.account is None or prepared.as_of is None:
            case.status = "error"
            case.errors = prepared.errors
            return case
        try:
            decision = evaluator.decide(prepared.account, prepared.as_of)
        except UpsellRulesError as exc:
            case.status = "error"
            case.errors = [Diagnostic(prepared.location, "E310", str(exc))]
            return case
        case.decision = decision
        for key, expected, actual, message in compare(prepared.expect, decision):
            where = doc.locate((*prepared.expect_path, key.split(".")[0]))
            case.mismatches.append(Mismatch(key, expected, actual, message, where.line))
        if case.mismatches:
            case.mismatches.sort(key=lambda m: m.line)
            case.status = "failed"
        return case

    def check_file(self, path: str) -> list[Diagnostic]:
        """Every problem in a test file without running it (what ``validate`` reports)."""
        result = FileResult(path=path)
        doc, findings = load_yaml(path)
        if doc is None or any(f.is_error for f in findings):
            return findings
        schema = tests_schema_findings(doc)
        if any(f.is_error for f in schema):
            return in_file_order(
                [*findings, *schema, *self._other_case_problems(doc, path, schema)])
        ruleset_path = os.path.normpath(os.path.join(os.path.dirname(path), doc.data["ruleset"]))
        result.ruleset = ruleset_path
        outside = outside_message(ruleset_path, path)
        if outside is not None:
            return [_diag(doc, ("ruleset",), "E301", f"ruleset: {outside}")]
        if not os.path.isfile(ruleset_path):
            return [_diag(doc, ("ruleset",), "E301",
                          f"ruleset: {ruleset_path} does not exist (the path is relative to "
                          "this test file)")]
        ruleset, rs_findings = self.ruleset(ruleset_path)
        if ruleset is None or any(f.is_error for f in rs_findings):
            return [_diag(doc, ("ruleset",), "E309",
                          f"ruleset: {ruleset_path} has errors; run upsell-rules validate on it")]
        file_errors, cases = self.prepare(doc, ruleset, os.path.dirname(path))
        out = [*findings, *file_errors]
        for prepared in cases:
            out.extend(prepared.errors)
        return out

    def _other_case_problems(
        self, doc: YamlDocument, path: str, schema: list[Diagnostic]
    ) -> list[Diagnostic]:
        """The problems of the cases the schema findings do not touch (an unknown sample,
        an unknown trigger id), when the file as a whole is sound enough to check them."""
        data = doc.data
        messages = [d.message for d in schema if d.is_error]
        broken = {int(m.group(1)) for m in map(_CASE_INDEX.match, messages) if m}
        if (len(broken) < len(messages) or not isinstance(data, dict)
                or not isinstance(data.get("ruleset"), str)):
            return []
        ruleset_path = os.path.normpath(os.path.join(os.path.dirname(path), data["ruleset"]))
        if not os.path.isfile(ruleset_path):
            return []
        ruleset, rs_findings = self.ruleset(ruleset_path)
        if ruleset is None or any(f.is_error for f in rs_findings):
            return []
        try:
            file_errors, cases = self.prepare(doc, ruleset, os.path.dirname(path), broken)
        except (KeyError, TypeError, AttributeError, ValueError):
            return []
        return [*file_errors, *(e for case in cases for e in case.errors)]

    def prepare(
        self,
        doc: YamlDocument,
        ruleset: Ruleset,
        base: str,
        skip: frozenset[int] | set[int] = frozenset(),
    ) -> tuple[list[Diagnostic], list[_Prepared]]:
        """Problems of the file as a whole, and every case checked against the ruleset."""
        data: dict[str, Any] = doc.data
        file_errors: list[Diagnostic] = []
        default_as_of = as_of_date(doc, ("as_of",), file_errors)
        records: dict[str, RawRecord] = {}
        data_problem = ""
        if "data" in data:
            data_path = os.path.normpath(os.path.join(base, data["data"]))
            outside = outside_message(data_path, doc.path)
            records, data_problem = ({}, outside) if outside else self.data(data_path)
            if data_problem:
                file_errors.append(_diag(doc, ("data",), "E308", f"data: {data_problem}"))
        types = ruleset.input_types()
        reader = AccountReader(self.registry, types, signals=ruleset.signals)
        known_fields = sorted(reader.types)
        seen_names: dict[str, int] = {}
        prepared: list[_Prepared] = []
        for index, case in enumerate(data["cases"]):
            if index in skip:
                continue
            path: Path = ("cases", index)
            errors: list[Diagnostic] = []
            name = str(case["name"])
            location = doc.locate(path)
            if name in seen_names:
                errors.append(_diag(doc, (*path, "name"), "E307",
                                    f"cases[{index}].name: duplicate case name {name!r} "
                                    f"(first at line {seen_names[name]})"))
            else:
                seen_names[name] = location.line
            as_of = default_as_of
            if "as_of" in case:
                as_of = as_of_date(doc, (*path, "as_of"), errors)
            elif default_as_of is None and not any(e.code == "E306" for e in file_errors):
                errors.append(_diag(doc, path, "E306",
                                    f"cases[{index}]: no as_of (set one at the top of the file "
                                    "or in the case; tests never use today's date)", key=True))
            raw = self._raw_values(doc, path, case, records, data, data_problem, errors)
            for section in ("account", "overrides"):
                for fname in case.get(section) or {}:
                    if fname not in reader.types:
                        hint = did_you_mean(fname, known_fields)
                        errors.append(_diag(doc, (*path, section, fname), "E304",
                                            f"{field_path((*path, section, fname))}: unknown "
                                            f"field '{fname}'{hint}", key=True))
            errors += self._check_ids(doc, (*path, "expect"), case["expect"], ruleset)
            account = None
            if raw is not None and not errors and not file_errors:
                account = self._coerce(doc, path, case, raw, reader, errors)
            prepared.append(_Prepared(name, location, as_of, account, case["expect"],
                                      (*path, "expect"), errors))
        return file_errors, prepared

    def _raw_values(
        self,
        doc: YamlDocument,
        path: Path,
        case: dict[str, Any],
        records: dict[str, RawRecord],
        data: dict[str, Any],
        data_problem: str,
        errors: list[Diagnostic],
    ) -> dict[str, Any] | None:
        has_sample, has_account = "sample" in case, "account" in case
        if has_sample == has_account:
            what = "both sample: and account:" if has_sample else "neither sample: nor account:"
            errors.append(_diag(doc, path, "E305",
                                f"{field_path(path)}: a case needs exactly one of sample: (an "
                                f"account from the data file) or account: (written out); it has "
                                f"{what}", key=True))
            return None
        overrides = dict(case.get("overrides") or {})
        if has_account:
            values = dict(case["account"])
            values.setdefault("account_id", case["name"])
            return {**values, **overrides}
        sample = str(case["sample"])
        if "data" not in data:
            errors.append(_diag(doc, (*path, "sample"), "E308",
                                f"{field_path((*path, 'sample'))}: sample: needs a data file; "
                                "name one at the top of the file (data: ../samples/accounts.csv)"))
            return None
        if data_problem:
            return None
        record = records.get(sample)
        if record is None:
            hint = did_you_mean(sample, list(records))
            errors.append(_diag(doc, (*path, "sample"), "E302",
                                f"{field_path((*path, 'sample'))}: no account '{sample}' in "
                                f"{data['data']}{hint}"))
            return None
        return {**record.values, **overrides}

    def _coerce(
        self,
        doc: YamlDocument,
        path: Path,
        case: dict[str, Any],
        raw: dict[str, Any],
        reader: AccountReader,
        errors: list[Diagnostic],
    ) -> Account | None:
        record = RawRecord(raw, doc.locate(path))
        account = None
        for item in reader.coerce_record(record, {}):
            if isinstance(item, Account):
                account = item
                written_value_problems(doc, path, case, item, errors)
                continue
            section = next(
                (s for s in ("overrides", "account") if item.field in (case.get(s) or {})), None
            )
            where: Path = (*path, section, item.field) if section else path
            origin = "" if section else f" (in sample {case.get('sample')})"
            errors.append(_diag(doc, where, "E305",
                                f"{field_path(where)}: {item.message}{origin}"))
        return account

    def _check_ids(
        self, doc: YamlDocument, path: Path, expect: dict[str, Any], ruleset: Ruleset
    ) -> list[Diagnostic]:
        """Every id an expectation names must exist, or a typo would pass silently."""
        known: dict[str, tuple[str, list[str]]] = {
            "band": ("band", [b.id for b in ruleset.bands]),
            "play": ("play", list(ruleset.plays)),
            "prepare": ("play", list(ruleset.plays)),
            "triggers": ("trigger", [t.id for t in ruleset.triggers]),
            "red_flags": ("red flag", [f.id for f in ruleset.red_flags]),
            "gates": ("gate", [g.id for g in ruleset.gates]),
            "upsell_types": ("upsell type", list(self.registry.upsell_types)),
            "category_scores": ("category", [c.name for c in ruleset.categories]),
        }
        out: list[Diagnostic] = []
        for key, value in expect.items():
            if key not in known:
                continue
            what, names = known[key]
            items: list[tuple[Path, str, bool]] = []
            if isinstance(value, str):
                items.append(((*path, key), value, False))
            elif isinstance(value, list):
                items += [((*path, key, i), v, False) for i, v in enumerate(value)]
            elif isinstance(value, dict) and key == "category_scores":
                items += [((*path, key, k), k, True) for k in value]
            elif isinstance(value, dict):
                for sub, ids in value.items():
                    items += [((*path, key, sub, i), v, False) for i, v in enumerate(ids)]
            for where, name, is_key in items:
                if name not in names:
                    hint = did_you_mean(name, names)
                    out.append(_diag(doc, where, "E303",
                                     f"{field_path(where)}: the ruleset has no {what} "
                                     f"'{name}'{hint}", key=is_key))
        return out


def in_file_order(findings: list[Diagnostic]) -> list[Diagnostic]:
    """Findings sorted by line and column, as a reader meets them (stable for ties)."""
    return sorted(findings, key=lambda f: (f.location.line, f.location.col))


def _diag(
    doc: YamlDocument, path: Path, code: str, message: str, *, key: bool = False
) -> Diagnostic:
    return Diagnostic(doc.locate(path, key=key), code, message)
