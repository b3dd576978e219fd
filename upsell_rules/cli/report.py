"""``upsell-rules report``: one self-contained HTML page of a run, and of a backtest."""

from __future__ import annotations

import os
from datetime import date

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, usage_error
from upsell_rules.cli.header_check import header_check, strict_option
from upsell_rules.cli.history_common import (
    future_note,
    horizon_option,
    outcomes_or_exit,
    replay_or_exit,
    report_error,
    unknown_accounts_warning,
)
from upsell_rules.cli.loading import (
    account_reader,
    evaluator_or_exit,
    load_or_exit,
    registry_with_report,
)
from upsell_rules.cli.options import (
    as_of_option,
    data_option,
    engine_option,
    resolve_as_of,
    ruleset_argument,
)
from upsell_rules.cli.output_file import output_stream, refuse_output_over_input
from upsell_rules.cli.progress import counting, records_total, working
from upsell_rules.engine.stream import decide_all
from upsell_rules.errors import InputError, RecordError
from upsell_rules.history.backtest import run_backtest, shape_of
from upsell_rules.history.report import ReportInput, render_report
from upsell_rules.io.records import Account
from upsell_rules.plugin.types import Summary
from upsell_rules.safetext import hide_credentials


@click.command("report")
@ruleset_argument
@data_option
@as_of_option
@click.option("--backtest-snapshots", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Add a backtest: account snapshots over time (with "
              "--backtest-outcomes).")
@click.option("--backtest-outcomes", type=click.Path(exists=True, dir_okay=False),
              default=None, help="Add a backtest: the outcomes file (with "
              "--backtest-snapshots).")
@horizon_option
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The HTML file to write.")
@engine_option
@strict_option
def report_command(
    ruleset: str,
    data: str,
    as_of: date | None,
    backtest_snapshots: str | None,
    backtest_outcomes: str | None,
    horizon: int,
    output: str,
    engine: str,
    strict: bool,
) -> None:
    """Write one self-contained HTML report of RULESET on --data.

    Band counts, the score distribution, the act-now queue with narratives, the accounts
    held back by each gate and red flag, and a breakdown by owner and plan; with
    --backtest-snapshots and --backtest-outcomes, the backtest charts too. The page has
    inline CSS and SVG only (no scripts, nothing fetched), so it works offline. Exit
    status: 0 written, 1 written but some records could not be read, 2 cannot run.
    """
    if (backtest_snapshots is None) != (backtest_outcomes is None):
        raise click.UsageError("--backtest-snapshots and --backtest-outcomes go together")
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry)
    evaluator = evaluator_or_exit(rules, registry, engine)
    when = resolve_as_of(as_of)
    reader = account_reader(rules, registry, as_of=when)
    header_check(rules, registry, reader, [data], strict)
    try:
        with counting("reading the accounts", records_total([data])) as reading:
            items = list(reading.track(reader.read(data)))
    except InputError as exc:
        usage_error(str(exc))
    plans = {
        item.account_id: str(item.values.get("plan", ""))
        for item in items if isinstance(item, Account)
    }
    summary = Summary()
    decisions = []
    with counting("deciding the accounts", len(items)) as deciding:
        for result in decide_all(evaluator, deciding.track(items), when, summary):
            if isinstance(result, RecordError):
                report_error(result)
            else:
                decisions.append(result)
    failed = summary.failed
    backtest = None
    label = ""
    if backtest_snapshots is not None and backtest_outcomes is not None:
        replay = replay_or_exit(evaluator, registry, backtest_snapshots, strict=strict)
        history = outcomes_or_exit(registry, backtest_outcomes)
        future_note(replay)
        with working("measuring against the outcomes"):
            backtest = run_backtest(replay.points, history, shape_of(rules), horizon)
        unknown_accounts_warning(backtest, backtest_outcomes)
        failed += len(replay.errors) + history.failed_rows
        label = (f"{os.path.basename(backtest_snapshots)} and "
                 f"{os.path.basename(backtest_outcomes)}")
    page = render_report(ReportInput(
        ruleset=rules,
        decisions=decisions,
        plans=plans,
        as_of=when,
        data_label=os.path.basename(hide_credentials(data)),
        failed=summary.failed,
        backtest=backtest,
        backtest_label=label,
        upsell_types={name: (kind.title, kind.description)
                      for name, kind in registry.upsell_types.items()},
    ))
    refuse_output_over_input(output, [ruleset, data, backtest_snapshots or "",
                                      backtest_outcomes or ""])
    with output_stream(output) as out:
        out.write(page)
    summary.order_bands([band.id for band in rules.bands])
    click.echo(f"{summary.line()}; report written to {output}", err=True)
    raise SystemExit(EXIT_FINDINGS if failed else EXIT_OK)
