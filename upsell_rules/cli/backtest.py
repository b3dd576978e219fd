"""``upsell-rules backtest``: replay a ruleset over snapshots and score it against outcomes."""

from __future__ import annotations

import os
import sys
from datetime import date

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK
from upsell_rules.cli.header_check import strict_option
from upsell_rules.cli.history_common import (
    future_note,
    horizon_option,
    outcomes_option,
    outcomes_or_exit,
    replay_or_exit,
    scheduled_option,
    snapshots_option,
    unknown_accounts_warning,
)
from upsell_rules.cli.loading import evaluator_or_exit, load_or_exit, registry_with_report
from upsell_rules.cli.options import IsoDate, engine_option, ruleset_argument
from upsell_rules.cli.output_file import output_stream, refuse_output_over_input
from upsell_rules.cli.progress import working
from upsell_rules.history.backtest import run_backtest, shape_of
from upsell_rules.history.backtest_format import (
    FORMATS,
    write_json,
    write_markdown,
    write_table,
)
from upsell_rules.history.snapshots import SCHEDULED_FIELDS


@click.command("backtest")
@ruleset_argument
@snapshots_option
@outcomes_option
@horizon_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table: tables for reading; json: every figure, for scripts; markdown: for a "
    "pull request or a wiki.",
)
@click.option(
    "--observed-until",
    type=IsoDate(),
    default=None,
    help="The last day the data covers (default: the latest date in either file); churn "
    "windows ending after it are left out.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write here instead of stdout.",
)
@scheduled_option
@engine_option
@strict_option
def backtest_command(
    ruleset: str,
    snapshots: str,
    outcomes: str,
    horizon: int,
    fmt: str,
    observed_until: date | None,
    output: str | None,
    scheduled: tuple[str, ...],
    engine: str,
    strict: bool,
) -> None:
    """Replay RULESET over past --snapshots and measure it against real --outcomes.

    Each snapshot is decided as of its own snapshot_date; facts dated after it are
    ignored. Each deal is joined to the latest snapshot taken before it opened (within
    --horizon). Reports win rate and volume by band, trigger and upsell type, the lift of
    the top band, how early wins were surfaced, the wins never surfaced, and churn after
    won upsells against the base, each beside the research's healthy range. Exit status:
    0 when every row was read, 1 when any row was bad (the rest are still used), 2 when
    the ruleset or a file cannot be used.
    """
    refuse_output_over_input(output, [ruleset, snapshots, outcomes])
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry)
    evaluator = evaluator_or_exit(rules, registry, engine)
    replay = replay_or_exit(
        evaluator, registry, snapshots, scheduled or SCHEDULED_FIELDS, strict=strict
    )
    history = outcomes_or_exit(registry, outcomes)
    future_note(replay)
    with working("measuring against the outcomes"):
        result = run_backtest(replay.points, history, shape_of(rules), horizon, observed_until)
    unknown_accounts_warning(result, outcomes)
    if fmt == "table":
        # NO_COLOR (no-color.org): no colour, and no bold either.
        color = output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        with output_stream(output) as out:
            write_table(result, out, color=color)
    else:
        writer = write_json if fmt == "json" else write_markdown
        with output_stream(output, data=True) as out:
            writer(result, out)
    failed = len(replay.errors) + history.failed_rows
    click.echo(
        f"snapshots {len(replay.points)} decided, {len(replay.errors)} failed; "
        f"deals {len(history.deals)}, outcome rows failed {history.failed_rows}",
        err=True,
    )
    raise SystemExit(EXIT_FINDINGS if failed else EXIT_OK)
