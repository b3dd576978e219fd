"""The ``upsell-rules`` command group."""

from __future__ import annotations

import traceback

import click

from upsell_rules import __version__
from upsell_rules.cli.environment import epilog as environment_epilog
from upsell_rules.cli.exits import EXIT_USAGE
from upsell_rules.cli.limit_options import check_limit_settings
from upsell_rules.cli.plugin_options import PluginGroup, plugin_options

#: Every command: name -> "module:attribute". A command's module is imported when that
#: command runs (or help lists it), so ``dry-run`` does not pay for importing
#: ``backtest`` or ``calibrate``.
COMMANDS = {
    "validate": "upsell_rules.cli.validate:validate",
    "dry-run": "upsell_rules.cli.dry_run:dry_run",
    "explain": "upsell_rules.cli.explain:explain_command",
    "test": "upsell_rules.cli.test:test_command",
    "diff": "upsell_rules.cli.diff:diff_command",
    "fmt": "upsell_rules.cli.fmt:fmt_command",
    "schema": "upsell_rules.cli.schema:schema_command",
    "init": "upsell_rules.cli.init:init_command",
    "backtest": "upsell_rules.cli.backtest:backtest_command",
    "calibrate": "upsell_rules.cli.calibrate:calibrate_command",
    "report": "upsell_rules.cli.report:report_command",
    "sample-history": "upsell_rules.cli.sample_history:sample_history_command",
    "plugins": "upsell_rules.cli.plugins:plugins_command",
    "run": "upsell_rules.cli.run:run_command",
    "new-plugin": "upsell_rules.cli.new_plugin:new_plugin_command",
    "sample": "upsell_rules.cli.sample:sample_command",
    "check-data": "upsell_rules.cli.check_data:check_data_command",
    "log": "upsell_rules.cli.log:log_command",
    "replay": "upsell_rules.cli.replay:replay_command",
    "snooze": "upsell_rules.cli.snooze:snooze_command",
    "unsnooze": "upsell_rules.cli.unsnooze:unsnooze_command",
    "snoozes": "upsell_rules.cli.snoozes:snoozes_command",
    "feedback": "upsell_rules.cli.feedback:feedback_command",
    "shadow-report": "upsell_rules.cli.shadow_report:shadow_report_command",
    "watch": "upsell_rules.cli.watch:watch_command",
    "compile": "upsell_rules.cli.compile:compile_command",
}


@click.group(
    cls=PluginGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=environment_epilog(),
)
@click.version_option(__version__, prog_name="upsell-rules")
@plugin_options
def cli() -> None:
    """Decide when to start an upsell conversation with each account.

    Rulesets are YAML files (see docs/authoring.md). The bundled rulesets
    (upsell_timing, expansion_triggers) and sample accounts (samples/accounts.csv) work
    by name from any folder. Start with:

    \b
        upsell-rules validate upsell_timing
        upsell-rules dry-run upsell_timing --data samples/accounts.csv --as-of 2026-11-02
        upsell-rules init my-rules
    """
    check_limit_settings()


def main() -> None:
    """Console-script entry point."""
    from upsell_rules.cli.plugin_stdout import keep_stdout_for_the_tool
    from upsell_rules.engine.gctune import allow_gc_tuning, no_final_collection

    allow_gc_tuning()  # this process is ours: fewer collections while accounts stream
    keep_stdout_for_the_tool()  # a plugin's print() never lands in the JSON or CSV output
    try:
        cli(prog_name="upsell-rules")
    except Exception:
        # Only --debug (or a bug) lets an exception out of a command: show its traceback,
        # but keep the status "could not be done"; Python's own 1 means "records failed".
        traceback.print_exc()
        raise SystemExit(EXIT_USAGE) from None
    finally:
        no_final_collection()  # the process ends: no walk over every object first
