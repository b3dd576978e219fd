"""Options and helpers shared by the commands."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TextIO, TypeVar

import click

from upsell_rules.errors import Diagnostic, RulesetError
from upsell_rules.loader import check_ruleset
from upsell_rules.model import Ruleset
from upsell_rules.registry import Registry, default_registry

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes: 0 clean, 1 findings or failed records, 2 usage error / cannot run.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class IsoDate(click.ParamType):
    """A ``YYYY-MM-DD`` date."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value), re.ASCII):
                raise ValueError
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date (expected YYYY-MM-DD)", param, ctx)


def as_of_option(func: F) -> F:
    """``--as-of DATE``: the evaluation date (default: today)."""
    return click.option(
        "--as-of",
        type=IsoDate(),
        default=None,
        help="Evaluate as of this date (YYYY-MM-DD). Default: today. Pass it for "
        "reproducible output.",
    )(func)


def data_option(func: F) -> F:
    """``--data FILE``: the accounts file."""
    return click.option(
        "--data",
        "data",
        required=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Accounts file: CSV, JSON or JSONL in the data contract.",
    )(func)


def engine_option(func: F) -> F:
    """``--engine NAME``."""
    return click.option(
        "--engine",
        default="python",
        show_default=True,
        help="Engine that evaluates conditions (see docs/cli.md).",
    )(func)


def ruleset_argument(func: F) -> F:
    """The RULESET argument."""
    return click.argument("ruleset", type=click.Path(exists=True, dir_okay=False))(func)


def resolve_as_of(value: date | None) -> date:
    """The given date, or today's."""
    return value if value is not None else date.today()


def registry_with_report() -> Registry:
    """The plugin registry; plugin problems go to stderr, one line each."""
    registry = default_registry()
    for problem in registry.problems:
        click.echo(f"upsell-rules: warning: {problem}", err=True)
    return registry


def print_diagnostics(findings: list[Diagnostic], out: TextIO | None = None) -> None:
    """Print findings as ``path:line:col: CODE message``."""
    for finding in findings:
        click.echo(str(finding), file=out or sys.stdout)


def load_or_exit(path: str, registry: Registry) -> Ruleset:
    """Load a ruleset for running; print its findings and exit 2 if it has errors."""
    ruleset, findings = check_ruleset(path, registry)
    errors = [f for f in findings if f.is_error]
    if ruleset is None or errors:
        print_diagnostics(findings, sys.stderr)
        click.echo(
            f"upsell-rules: {path}: the ruleset has {len(errors) or len(findings)} error(s) "
            "(listed above); fix them and run again",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)
    for warning in findings:
        click.echo(f"upsell-rules: warning: {warning}", err=True)
    return ruleset


@contextmanager
def output_stream(path: str | None) -> Iterator[TextIO]:
    """Write to ``path`` atomically (temp file then rename), or to stdout."""
    if path is None:
        yield sys.stdout
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        click.echo(f"upsell-rules: error: --output {path}: folder {directory} does not exist",
                   err=True)
        raise SystemExit(EXIT_USAGE)
    fd, tmp = tempfile.mkstemp(prefix=".upsell-rules-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "RulesetError"]
