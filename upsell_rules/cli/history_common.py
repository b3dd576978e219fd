"""What the history commands (backtest, calibrate, report) share: reading the files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import click

from upsell_rules.cli.exits import EXIT_USAGE, usage_error
from upsell_rules.cli.header_check import header_check
from upsell_rules.cli.options import encoding_option, input_encoding
from upsell_rules.cli.progress import counting, records_total
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.errors import InputError, RecordError
from upsell_rules.history.backtest import Replay, evaluate_snapshots, parse_horizon
from upsell_rules.history.outcomes import Outcomes, read_outcomes
from upsell_rules.history.snapshots import SCHEDULED_FIELDS, SNAPSHOT_FIELD, SnapshotReader
from upsell_rules.io.records import AccountReader
from upsell_rules.plugin.registry import Registry

F = TypeVar("F", bound=Callable[..., Any])


def horizon_callback(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """Click callback: ``90d`` / ``13w`` / ``90`` to days."""
    try:
        return parse_horizon(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def report_error(error: RecordError) -> None:
    """One bad record on stderr, located (identical plugin failures grouped)."""
    from upsell_rules.cli.failures import report_record_error

    report_record_error(error)


def replay_or_exit(
    evaluator: Evaluator,
    registry: Registry,
    snapshots: str,
    scheduled: tuple[str, ...] = SCHEDULED_FIELDS,
    strict: bool = False,
) -> Replay:
    """Decide every snapshot point-in-time; bad records go to stderr as they are met
    (a bar counts the snapshots on a terminal).

    The header check runs first (``strict``: a signal no snapshot carries exits 2).
    """
    rules = evaluator.ruleset
    reader = AccountReader(
        registry,
        rules.input_types(),
        source_options=rules.sources,
        signals=rules.signals,
        encoding=input_encoding(),
    )
    header_check(rules, registry, reader, [snapshots], strict, also_read=[SNAPSHOT_FIELD])
    try:
        with counting("deciding the snapshots", records_total([snapshots])) as tally:
            return evaluate_snapshots(
                evaluator, tally.track(SnapshotReader(reader, scheduled).read(snapshots)),
                report_error,
            )
    except InputError as exc:
        usage_error(str(exc))


def outcomes_or_exit(registry: Registry, path: str) -> Outcomes:
    """Read the outcomes file; bad rows go to stderr, an unreadable file exits 2."""
    context = click.get_current_context(silent=True)
    preset = context.meta.get("upsell_rules.outcomes_preset", "") if context else ""
    try:
        outcomes = read_outcomes(path, registry, preset)
    except InputError as exc:
        usage_error(str(exc))
    for error in outcomes.errors:
        report_error(error)
    if outcomes.rows and not outcomes.deals and not outcomes.churned:
        click.echo(
            f"upsell-rules: error: {path}: none of its {outcomes.rows} row(s) could be read "
            "(see the errors above; for a CRM export name its --outcomes-preset), so there "
            "is nothing to measure",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)
    failed = outcomes.failed_rows
    if failed and not outcomes.deals:
        # Churn rows alone measure no deal: a backtest of zero deals would look like a
        # result (empty tables, exit 1) while every deal was lost to a format problem.
        click.echo(
            f"upsell-rules: error: {path}: none of its deal rows could be read ({failed} "
            f"row(s) failed, see the errors above; only {len(outcomes.churned)} churn "
            "row(s) remain; for a CRM export name its --outcomes-preset), so there is "
            "nothing to measure",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)
    return outcomes


def future_note(replay: Replay) -> None:
    """Say on stderr how many snapshots carried facts from their future."""
    if replay.snapshots_with_future_facts:
        fields = ", ".join(f"{name} {count}" for name, count in
                           sorted(replay.hidden_fields.items(), key=lambda kv: -kv[1]))
        click.echo(
            f"upsell-rules: note: {replay.snapshots_with_future_facts} snapshot(s) held facts "
            f"dated after the snapshot; they were ignored ({fields})",
            err=True,
        )


def unknown_accounts_warning(result: dict[str, Any], outcomes_path: str) -> None:
    """Say on stderr when deals name accounts no snapshot has: usually the two files use
    different ids (a CRM's 18-character id against a 15-character one), and every such
    deal is left out of the rates."""
    volume = result["volume"]
    unknown: list[str] = volume.get("unknown_accounts", [])
    if not unknown:
        return
    shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5
                                      else "")
    click.echo(
        f"upsell-rules: warning: {outcomes_path}: {volume['deals_unknown_account']} deal(s) "
        f"name {len(unknown)} account(s) that no snapshot has ({shown}); they are left out "
        "of every rate (check that both files use the same account ids)",
        err=True,
    )


def iso(value: date | None) -> str:
    """A date as text, or ``-``."""
    return value.isoformat() if value else "-"


def snapshots_option(func: F) -> F:
    """``--snapshots FILE``, and ``--encoding``."""
    func = encoding_option(func)
    return click.option(
        "--snapshots",
        required=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Account snapshots over time: the data contract plus snapshot_date "
        "(CSV, JSON or JSONL; see docs/backtest.md).",
    )(func)


def outcomes_option(func: F) -> F:
    """``--outcomes FILE``."""
    return click.option(
        "--outcomes",
        required=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Upsell deals and churn: account_id, opened_on, closed_on, outcome, "
        "upsell_type, amount, churned_on (see docs/backtest.md).",
    )(_outcomes_preset(func))


def _outcomes_preset(func: F) -> F:
    """``--outcomes-preset NAME``: read a CRM's opportunity export (docs/data.md)."""

    def remember(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        ctx.meta["upsell_rules.outcomes_preset"] = value or ""

    return click.option(
        "--outcomes-preset",
        type=click.Choice(["salesforce_opportunities", "hubspot_deals"]),
        default=None,
        expose_value=False,
        callback=remember,
        help="Read --outcomes as a CRM export: its column names, formats and stage names "
        "(Closed Won / Closed Lost).",
    )(func)


def horizon_option(func: F) -> F:
    """``--horizon 90d``."""
    return click.option(
        "--horizon",
        default="90d",
        show_default=True,
        callback=horizon_callback,
        help="How long after a snapshot a deal may open and still be joined to it "
        "(days: 90d, weeks: 13w).",
    )(func)


def scheduled_option(func: F) -> F:
    """``--scheduled FIELD`` (repeatable)."""
    return click.option(
        "--scheduled",
        multiple=True,
        metavar="FIELD",
        help="A date field that is planned ahead and may lie after the snapshot "
        f"(repeatable; default: {', '.join(SCHEDULED_FIELDS)}). Every other date after "
        "the snapshot is ignored.",
    )(func)
