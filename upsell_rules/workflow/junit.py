"""JUnit XML for ruleset test results, the format CI systems read and display.

One ``<testsuite>`` per test file, one ``<testcase>`` per case. A failed case carries a
``<failure>`` with every mismatch; a case that could not run, or a file that could not
be loaded, carries an ``<error>``. Written with the standard library only.
"""

from __future__ import annotations

import os
import re
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
    for element in root.iter():
        _xml_safe(element)
    ET.indent(root)
    return ET.ElementTree(root)


#: Characters XML 1.0 does not allow at all, even escaped: a case name or value holding
#: one (a YAML "\x1b" or "\0" escape) made the whole report unreadable to CI.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _shown(text: str) -> str:
    return _NOT_XML.sub(lambda match: repr(match.group())[1:-1], text)


def _xml_safe(element: ET.Element) -> None:
    """Write each character XML cannot hold in ``element`` as a visible escape."""
    if element.text:
        element.text = _shown(element.text)
    for key, value in element.attrib.items():
        element.set(key, _shown(value))


def write_junit(results: Iterable[FileResult], path: str) -> None:
    """Write the JUnit XML report to ``path`` (UTF-8, with an XML declaration)."""
    junit_tree(results).write(path, encoding="utf-8", xml_declaration=True)
