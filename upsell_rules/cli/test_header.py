"""The header check for ``upsell-rules test``: each test file's ``data:`` file.

Only the data file is checked, against the test file's ruleset: its sample accounts are
what cases build on, so a signal none of them carries silently changes those cases. The
accounts a case writes out are not checked: leaving a signal out is how a case tests
missing data.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import click

from upsell_rules.cli.exits import usage_error
from upsell_rules.cli.loading import account_reader
from upsell_rules.io.columns import carried_fields, check_columns, signals_read
from upsell_rules.ruleset.yamlload import load_yaml
from upsell_rules.workflow.ruleset_tests import TestRunner


def check_test_data(files: Sequence[str], runner: TestRunner, strict: bool) -> int:
    """Warn (``strict``: fail with exit 2 before any case runs) per signal no record of a
    test file's data file carries; returns the number of warnings."""
    done: set[tuple[str, str]] = set()
    total = 0
    label = "error" if strict else "warning"
    for path in files:
        doc, _ = load_yaml(path)
        spec = doc.data if doc is not None else None
        if not isinstance(spec, dict):
            continue
        named, data = spec.get("ruleset"), spec.get("data")
        if not isinstance(named, str) or not isinstance(data, str):
            continue
        base = os.path.dirname(path)
        ruleset_path = os.path.normpath(os.path.join(base, named))
        data_path = os.path.normpath(os.path.join(base, data))
        if (ruleset_path, data_path) in done or not os.path.isfile(ruleset_path):
            continue
        done.add((ruleset_path, data_path))
        rules, _ = runner.ruleset(ruleset_path)
        if rules is None or not os.path.isfile(data_path):
            continue  # the run reports it
        reader = account_reader(rules, runner.registry)
        carried = carried_fields(reader, [data_path], signals_read(rules, runner.registry), [0])
        if carried is None:
            continue
        report = check_columns(rules, runner.registry, carried)
        for line in report.lines():
            click.echo(f"upsell-rules: {label}: {path}: data {data}: {line}", err=True)
        total += len(report.warnings)
    if strict and total:
        usage_error(f"{total} signal(s) missing from every record of a "
                    "test data file (--strict); no case was run")
    return total
