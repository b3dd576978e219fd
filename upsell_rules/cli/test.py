"""``upsell-rules test``: run ruleset test files (``*.tests.yaml``) and report like pytest."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, usage_error
from upsell_rules.cli.header_check import strict_option
from upsell_rules.cli.loading import registry_with_report
from upsell_rules.cli.options import engine_option, text_or_json_option
from upsell_rules.cli.test_header import check_test_data
from upsell_rules.engine.evaluate import pick_engine
from upsell_rules.errors import Diagnostic, UpsellRulesError
from upsell_rules.safetext import printable_lines
from upsell_rules.workflow.junit import write_junit
from upsell_rules.workflow.ruleset_tests import (
    CaseResult,
    FileResult,
    TestFileError,
    TestRunner,
    discover,
    summary_of,
)

_MARKS = {"passed": ".", "failed": "F", "error": "E"}


def _counts(results: list[FileResult]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "errors": 0}
    for result in results:
        if result.errors and not result.cases:
            counts["errors"] += 1
        for case in result.cases:
            counts["errors" if case.status == "error" else case.status] += 1
    return counts


def summary_line(counts: dict[str, int]) -> str:
    """``N passed, M failed`` (plus ``, K error(s)`` when some could not run)."""
    line = f"{counts['passed']} passed, {counts['failed']} failed"
    if counts["errors"]:
        line += f", {counts['errors']} error{'s' if counts['errors'] != 1 else ''}"
    return line


def _case_block(case: CaseResult) -> list[str]:
    if case.status == "failed":
        lines = [f"FAILED {case.location.path}:{case.location.line}: {case.name}"]
        for miss in case.mismatches:
            prefix = f"line {miss.line}: " if miss.line else ""
            lines.append(f"  {prefix}{miss.message}")
        if case.decision is not None:
            lines.append(f"  got: {summary_of(case.decision)}")
        return lines
    lines = [f"ERROR {case.location.path}:{case.location.line}: {case.name}"]
    lines += [f"  {d}" for d in case.errors] or ["  (see the file's errors above)"]
    return lines


def render_text(results: list[FileResult]) -> str:
    """The pytest-like report: a line of dots per file, then failures, then the summary."""
    out: list[str] = []
    for result in results:
        marks = "".join(_MARKS[c.status] for c in result.cases)
        if result.errors and not result.cases:
            marks = "E"
        out.append(f"{result.path} {marks}".rstrip())
    problems: list[str] = []
    for result in results:
        # A case that only failed because of the file's own problems (a bad as_of at the
        # top, say) is counted under them, not given a copy of the same error each.
        blocked = {id(c) for c in result.cases
                   if result.errors and c.status == "error" and not c.errors}
        if result.errors:
            what = "could not be loaded" if not result.cases else "has problems"
            problems.append(f"ERROR {result.path}: {what}")
            problems += [f"  {d}" for d in result.errors]
            if blocked:
                problems.append(f"  {len(blocked)} case(s) cannot run until the problems "
                                "above are fixed")
            problems.append("")
        for case in result.cases:
            if case.status != "passed" and id(case) not in blocked:
                problems += _case_block(case)
                problems.append("")
    if problems:
        out += ["", " FAILURES ".center(72, "="), "", *problems]
    else:
        out.append("")
    out.append(summary_line(_counts(results)))
    # Case names and values come from test files and data: no escape reaches the terminal.
    return printable_lines("\n".join(out)) + "\n"


def _diag_dict(d: Diagnostic) -> dict[str, Any]:
    return d.as_dict()


def to_json(results: list[FileResult]) -> dict[str, Any]:
    """A JSON-ready report: every file and case, and the counts."""
    files = []
    for result in results:
        cases = []
        for case in result.cases:
            cases.append({
                "name": case.name,
                "file": case.location.path,
                "line": case.location.line,
                "as_of": case.as_of,
                "account_id": case.account_id,
                "status": case.status,
                "mismatches": [
                    {"key": m.key, "expected": m.expected, "actual": m.actual,
                     "message": m.message, "line": m.line}
                    for m in case.mismatches
                ],
                "errors": [_diag_dict(d) for d in case.errors],
            })
        files.append({
            "path": result.path,
            "ruleset": result.ruleset,
            "errors": [_diag_dict(d) for d in result.errors],
            "cases": cases,
        })
    return {"files": files, "summary": _counts(results)}


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@text_or_json_option(
    "text: dots, then each failure with expected and actual values; json: every case."
)
@click.option(
    "--junit-xml",
    "junit",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write a JUnit XML report here (for CI systems).",
)
@engine_option
@strict_option
def test_command(
    paths: tuple[str, ...], fmt: str, junit: str | None, engine: str, strict: bool
) -> None:
    """Run ruleset test files: accounts in, expected decisions out.

    PATH may be a test file (NAME.tests.yaml), a folder (searched for *.tests.yaml), or a
    ruleset (runs the test files beside it that name it). Default: ./rulesets. Prints a dot
    per passing case and F per failing one, then every failure with the expected and
    actual values and the case's file:line. Exit status: 0 when every case passed, 1 when
    any failed, 2 when a test file or its ruleset has errors, or nothing was found.
    A test file's data file gets the header check (--strict: exit 2 before any case).
    """
    targets = list(paths) or ["rulesets"]
    if not paths and not os.path.isdir("rulesets"):
        usage_error("no rulesets/ folder here; name test files or "
                    "folders to run (upsell-rules test PATH...)")
    try:
        files, notes = discover(targets)
    except TestFileError as exc:
        usage_error(str(exc))
    for note in notes:
        click.echo(f"upsell-rules: note: {note}", err=True)
    if not files:
        only_rulesets = all(os.path.isfile(p) for p in targets)
        click.echo("upsell-rules: no test files to run", err=True)
        raise SystemExit(EXIT_OK if only_rulesets else EXIT_USAGE)
    registry = registry_with_report()
    try:
        pick_engine(registry, engine)
    except UpsellRulesError as exc:
        # The engine is the command's option, not a test file's problem: one usage error.
        usage_error(str(exc))
    runner = TestRunner(registry, engine)
    check_test_data(files, runner, strict)
    results = [runner.run_file(path) for path in files]
    if junit:
        write_junit(results, junit)
    if fmt == "json":
        click.echo(json.dumps(to_json(results), indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(render_text(results), nl=False)
    counts = _counts(results)
    if counts["errors"] or any(r.errors for r in results):
        raise SystemExit(EXIT_USAGE)
    raise SystemExit(EXIT_FINDINGS if counts["failed"] else EXIT_OK)
