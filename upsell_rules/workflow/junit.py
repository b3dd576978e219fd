"""JUnit XML for ruleset test results, the format CI systems read and display.

One ``<testsuite>`` per test file, one ``<testcase>`` per case. A failed case carries a
``<failure>`` with every mismatch; a case that could not run, or a file that could not
be loaded, carries an ``<error>``. Written with the standard library only.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from upsell_rules.workflow.ruleset_tests import TEST_SUFFIXES, FileResult, summary_of


def _suite_name(path: str) -> str:
    name = os.path.basename(path)
    for suffix in TEST_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def junit_tree(results: Iterable[FileResult]) -> ET.ElementTree[ET.Element]:
    """The JUnit XML document for ``results``."""
    root = ET.Element("testsuites", name="upsell-rules test")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for result in results:
        classname = f"{_suite_name(result.path)}.tests"
        failures = sum(1 for c in result.cases if c.status == "failed")
        errors = sum(1 for c in result.cases if c.status == "error") + (
            1 if result.errors and not result.cases else 0
        )
        tests = max(len(result.cases), 1 if result.errors else 0)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=result.path,
            tests=str(tests),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
        )
        if result.errors and not result.cases:
            case = ET.SubElement(suite, "testcase", classname=classname, name="(load)",
                                 file=result.path)
            error = ET.SubElement(case, "error", message="the test file could not be loaded")
            error.text = "\n".join(str(d) for d in result.errors)
        for item in result.cases:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=classname,
                name=item.name,
                file=item.location.path,
                line=str(item.location.line),
            )
            if item.status == "failed":
                first = item.mismatches[0].message if item.mismatches else "failed"
                failure = ET.SubElement(case, "failure", message=first, type="mismatch")
                lines = [f"{item.location}: {item.name}"]
                lines += [m.message for m in item.mismatches]
                if item.decision is not None:
                    lines.append("got: " + summary_of(item.decision))
                failure.text = "\n".join(lines)
            elif item.status == "error":
                messages = [str(d) for d in item.errors] or [str(d) for d in result.errors]
                error = ET.SubElement(case, "error", message=messages[0] if messages else "error")
                error.text = "\n".join(messages)
        totals["tests"] += tests
        totals["failures"] += failures
        totals["errors"] += errors
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: Iterable[FileResult], path: str) -> None:
    """Write the JUnit XML report to ``path`` (UTF-8, with an XML declaration)."""
    junit_tree(results).write(path, encoding="utf-8", xml_declaration=True)
