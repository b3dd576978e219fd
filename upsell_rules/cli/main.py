"""The ``upsell-rules`` command group."""

from __future__ import annotations

import click

from upsell_rules import __version__
from upsell_rules.cli.dry_run import dry_run
from upsell_rules.cli.explain import explain_command
from upsell_rules.cli.validate import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="upsell-rules")
def cli() -> None:
    """Decide when to start an upsell conversation with each account.

    Rulesets are YAML files (see docs/authoring.md). Start with:

    \b
        upsell-rules validate rulesets/upsell_timing.yaml
        upsell-rules dry-run rulesets/upsell_timing.yaml --data samples/accounts.csv --as-of 2026-11-02
    """


cli.add_command(validate)
cli.add_command(dry_run)
cli.add_command(explain_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="upsell-rules")
