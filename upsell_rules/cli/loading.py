"""Loading what a command runs on: the plugin registry and the ruleset, findings printed."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any, TextIO

import click

from upsell_rules.cli.exits import EXIT_USAGE, usage_error
from upsell_rules.cli.options import input_encoding
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.errors import Diagnostic, UpsellRulesError
from upsell_rules.io.records import AccountReader
from upsell_rules.limits import Limits
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.ruleset.overrides import OverrideError, OverrideSet
from upsell_rules.safetext import printable


def registry_with_report() -> Registry:
    """The plugin registry; plugin problems go to stderr, one line each.

    A plugin left out because it is broken is one error line each, and the command goes
    on; a fatal problem (two plugins registering one name) stops the command with exit
    status 2.
    """
    registry = default_registry()
    left_out = {why for _origin, why in registry.failed.values()}
    for problem in registry.problems:
        level = "error" if problem in left_out else "warning"
        click.echo(f"upsell-rules: {level}: {problem}", err=True)
    if registry.fatal:
        for problem in registry.fatal:
            click.echo(f"upsell-rules: error: {problem}", err=True)
        usage_error("a plugin is broken (see above); fix it, or leave it out with -p no:NAME, "
                    "then run again", prefix="")
    return registry


def evaluator_or_exit(rules: Ruleset, registry: Registry, engine: str | None) -> Evaluator:
    """An evaluator for ``rules``, or ``upsell-rules: error: ...`` and exit 2 (an unknown
    engine, or one that cannot run here), worded alike by every command."""
    try:
        return Evaluator(rules, registry, engine)
    except UpsellRulesError as exc:
        usage_error(str(exc))


def report_join(reader: Any) -> None:
    """Print how several ``--data`` inputs lined up (nothing for a single input)."""
    join = getattr(reader, "join", None)
    if join is not None:
        for line in join.lines():
            click.echo(f"upsell-rules: note: {line}", err=True)


def print_diagnostics(findings: list[Diagnostic], out: TextIO | None = None) -> None:
    """Print findings as ``path:line:col: CODE message``."""
    for finding in findings:
        click.echo(printable(str(finding)), file=out or sys.stdout)


def parse_overrides(texts: tuple[str, ...]) -> OverrideSet:
    """Parse ``--set`` values; a malformed one is a usage error (exit 2)."""
    try:
        return OverrideSet.parse(texts)
    except OverrideError as exc:
        usage_error(str(exc))


def load_or_exit(
    path: str, registry: Registry, overrides: OverrideSet | None = None,
    *, text: str | None = None,
) -> Ruleset:
    """Load a ruleset for running; print its findings and exit 2 if it has errors.

    ``overrides`` (from ``--set``) are applied before the checks; ``text`` replaces the
    file's contents (a ruleset read from git).
    """
    try:
        ruleset, findings = check_ruleset(
            path, registry, text=text, patch=overrides.patch if overrides else None
        )
    except OverrideError as exc:
        usage_error(str(exc))
    if overrides is not None:
        findings = overrides.annotate(findings)
        for note in overrides.notes:
            click.echo(f"upsell-rules: note: {note}", err=True)
    errors = [f for f in findings if f.is_error]
    if ruleset is None or errors:
        print_diagnostics(findings, sys.stderr)
        if overrides is not None and overrides.overrides:
            sets = ", ".join(f"--set {o.text}" for o in overrides.overrides)
            click.echo(
                f"upsell-rules: {path} with {sets}: {len(errors) or len(findings)} "
                "error(s) (listed above); check the --set values",
                err=True,
            )
        else:
            click.echo(
                f"upsell-rules: {path}: the ruleset has {len(errors) or len(findings)} "
                "error(s) (listed above); fix them and run again",
                err=True,
            )
        raise SystemExit(EXIT_USAGE)
    for warning in findings:
        click.echo(printable(f"upsell-rules: warning: {warning}"), err=True)
    if overrides is not None:
        ruleset = overrides.identify(ruleset)
    return ruleset


def account_reader(
    rules: Ruleset, registry: Registry, *, as_of: date | None = None, limits: Limits | None = None
) -> AccountReader:
    """The reader of ``rules``' accounts: its input types, its ``sources:`` options, and
    its signals' ranges and ``required:``, and ``--encoding`` (every command reads the data
    the same way)."""
    return AccountReader(
        registry,
        rules.input_types(),
        limits,
        as_of=as_of,
        source_options=rules.sources,
        signals=rules.signals,
        encoding=input_encoding(),
    )
