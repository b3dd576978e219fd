"""``upsell-rules validate``: schema and semantic checks, every finding located."""

from __future__ import annotations

import json

import click

from upsell_rules.cli.bundled_names import RulesetPath
from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK
from upsell_rules.cli.loading import registry_with_report
from upsell_rules.cli.options import text_or_json_option
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.safetext import printable
from upsell_rules.workflow.ruleset_tests import TestRunner, is_test_file


@click.command()
@click.argument("rulesets", nargs=-1, required=True, type=RulesetPath())
@text_or_json_option(
    "text: one 'path:line:col: CODE message' per finding; json: a list of objects."
)
def validate(rulesets: tuple[str, ...], fmt: str) -> None:
    """Check RULESET files: YAML, schema, signals, types, weights, bands, references.

    Ruleset test files (NAME.tests.yaml) given here are checked too: their shape, and
    every sample, field and id they name.

    Prints every finding as path:line:col: CODE message (E... errors, W... warnings).
    Exit status: 0 when clean, 1 when there are findings, 2 on a usage error.
    """
    registry = registry_with_report()
    findings = []
    tests = TestRunner(registry)
    for path in rulesets:
        if is_test_file(path):
            # A ruleset test file (NAME.tests.yaml) is checked as one, without running it.
            findings.extend(tests.check_file(path))
            continue
        _, found = check_ruleset(path, registry)
        findings.extend(found)
    if fmt == "json":
        payload = [f.as_dict() for f in findings]
        click.echo(json.dumps(payload, indent=2))
    else:
        for finding in findings:
            click.echo(printable(str(finding)))
        errors = sum(1 for f in findings if f.is_error)
        warnings = len(findings) - errors
        files = len(rulesets)
        if findings:
            click.echo(
                f"{errors} error(s), {warnings} warning(s) in {files} file(s)", err=True
            )
        else:
            click.echo(f"{files} file(s) valid", err=True)
    raise SystemExit(EXIT_FINDINGS if findings else EXIT_OK)
