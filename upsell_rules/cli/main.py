"""The ``upsell-rules`` command group."""

from __future__ import annotations

import click

from upsell_rules import __version__
from upsell_rules.cli.backtest import backtest_command
from upsell_rules.cli.calibrate import calibrate_command
from upsell_rules.cli.common import PluginGroup, check_limit_settings, plugin_options
from upsell_rules.cli.diff import diff_command
from upsell_rules.cli.dry_run import dry_run
from upsell_rules.cli.explain import explain_command
from upsell_rules.cli.fmt import fmt_command
from upsell_rules.cli.init import init_command
from upsell_rules.cli.new_plugin import new_plugin_command
from upsell_rules.cli.plugins import plugins_command
from upsell_rules.cli.report import report_command
from upsell_rules.cli.run import run_command
from upsell_rules.cli.sample import sample_command
from upsell_rules.cli.sample_history import sample_history_command
from upsell_rules.cli.schema import schema_command
from upsell_rules.cli.testing import test_command
from upsell_rules.cli.validate import validate


@click.group(
    cls=PluginGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="upsell-rules")
@plugin_options
def cli() -> None:
    """Decide when to start an upsell conversation with each account.

    Rulesets are YAML files (see docs/authoring.md). Start with:

    \b
        upsell-rules validate rulesets/upsell_timing.yaml
        upsell-rules dry-run rulesets/upsell_timing.yaml --data samples/accounts.csv --as-of 2026-11-02
    """
    check_limit_settings()


cli.add_command(validate)
cli.add_command(dry_run)
cli.add_command(explain_command)
cli.add_command(test_command)
cli.add_command(diff_command)
cli.add_command(fmt_command)
cli.add_command(schema_command)
cli.add_command(init_command)
cli.add_command(backtest_command)
cli.add_command(calibrate_command)
cli.add_command(report_command)
cli.add_command(sample_history_command)
cli.add_command(plugins_command)
cli.add_command(run_command)
cli.add_command(new_plugin_command)
cli.add_command(sample_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="upsell-rules")
