"""``upsell-rules dry-run``: evaluate every account and print the queue; deliver nothing."""

from __future__ import annotations

import contextlib
import functools
import itertools
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import click

from upsell_rules.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    as_of_option,
    data_inputs_option,
    engine_option,
    errors_option,
    limit_options,
    load_or_exit,
    output_stream,
    parse_overrides,
    registry_with_report,
    report_join,
    resolve_as_of,
    resolve_limits,
    ruleset_argument,
    run_guard,
    set_option,
)
from upsell_rules.cli.state_common import (
    no_state_option,
    read_state,
    state_option,
    with_statuses,
)
from upsell_rules.engine.evaluate import Evaluator, Summary
from upsell_rules.engine.parallel import evaluate_inputs
from upsell_rules.errors import (
    InputError,
    PluginError,
    PluginTimeout,
    RecordError,
    UpsellRulesError,
)
from upsell_rules.io.formatters import (
    FORMATS,
    TABLE_HEADERS,
    EncodedDecision,
    error_record,
    is_error_record,
    printable,
    queue_order,
    table_rows,
    write_csv,
    write_json,
    write_jsonl,
    write_plain_table,
)
from upsell_rules.io.records import AccountReader

#: Show a progress bar on a terminal once this many accounts have been read.
PROGRESS_AFTER = 5000


def _decisions(
    evaluator: Evaluator,
    reader: AccountReader,
    data: Sequence[str],
    as_of: date,
    summary: Summary,
    include_errors: bool = False,
    jobs: int = 1,
    encoded: bool = False,
) -> Iterator[dict[str, Any] | EncodedDecision]:
    """Decisions in input order; record errors go to stderr as they happen.

    With several inputs, each decision says which inputs had the account (``inputs``).
    With ``include_errors`` each failed record is also yielded, in its place, as one
    error row holding all of its problems. With ``encoded`` (JSON Lines output), decisions
    made in worker processes arrive as their JSON text (:class:`EncodedDecision`).
    """
    progress = None
    task = None
    show_progress = sys.stderr.isatty()
    pending: list[RecordError] = []
    guard = contextlib.ExitStack()
    try:
        guard.enter_context(
            run_guard(
                reader.limits,
                evaluator.registry,
                # Reading counts each record; deciding moves in batches.
                lambda: reader.records_read + summary.read + summary.decided + summary.failed,
            )
        )
        for item in evaluate_inputs(evaluator, reader, data, as_of, summary, jobs, encoded):
            if isinstance(item, RecordError):
                click.echo(f"upsell-rules: error: {printable(str(item))}", err=True)
                if include_errors:
                    # One row per record: its problems arrive one after the other.
                    if pending and pending[0].location != item.location:
                        yield error_record(pending)
                        pending = []
                    pending.append(item)
                continue
            if pending:
                yield error_record(pending)
                pending = []
            if reader.join is not None and isinstance(item, dict):
                item["inputs"] = reader.join.inputs_of(item["account_id"])
            if show_progress and progress is None and summary.read >= PROGRESS_AFTER:
                from rich.progress import Progress, SpinnerColumn, TextColumn

                progress = Progress(
                    SpinnerColumn(), TextColumn("{task.completed:,} accounts decided"),
                    transient=True,
                )
                progress.start()
                task = progress.add_task("dry-run", total=None)
            if progress is not None and task is not None and summary.read % 1000 == 0:
                progress.update(task, completed=summary.decided)
            yield item
        if pending:
            yield error_record(pending)
    finally:
        guard.close()
        if progress is not None:
            progress.stop()


def _rich_table(decisions: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    styles = {"act_now": "bold green", "warming": "yellow", "monitor": "cyan", "wait": "dim"}
    table = Table(title="Upsell queue", header_style="bold")
    for header in TABLE_HEADERS:
        wrap = header in ("why", "window", "name", "play")
        table.add_column(header, overflow="fold", no_wrap=not wrap)
    for decision, row in zip(decisions, table_rows(decisions), strict=True):
        if is_error_record(decision):
            style = "bold red"
        else:
            style = "red" if decision["blocked"] else styles.get(decision["band"], "")
        # Text, not str: rich would read "[link=...]" in an account name as markup.
        table.add_row(*(Text(cell) for cell in row), style=style)
    Console().print(table)


@click.command("dry-run")
@ruleset_argument
@data_inputs_option
@as_of_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table: the prioritised queue; json/jsonl/csv: one decision record per account, "
    "in input order.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write here instead of stdout (written to a temporary file, then renamed).",
)
@engine_option
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Decide accounts in N worker processes (a large JSON Lines or CSV file is read "
    "by the workers, in byte ranges); output keeps the input order and is identical to a "
    "one-process run.",
)
@set_option
@errors_option
@limit_options
@state_option
@no_state_option
def dry_run(
    ruleset: str,
    data: tuple[str, ...],
    as_of: date | None,
    fmt: str,
    output: str | None,
    engine: str,
    jobs: int,
    overrides: tuple[str, ...],
    errors_to: str,
    max_input_mb: float | None,
    max_records: int | None,
    max_line_bytes: int | None,
    plugin_timeout: float | None,
    state: str | None = None,
    no_state: bool = False,
) -> None:
    """Evaluate RULESET against the accounts in --data and print the decisions.

    Nothing is delivered anywhere. The table is the queue: unblocked act-now accounts
    first, then by band and score. Bad rows are reported on stderr (file:line: field:
    problem) and every other account is still decided. Exit status: 0 when every
    record was decided, 1 when any failed, 2 when the ruleset or data cannot be used.
    With a state store (--state, or .upsell-rules/state.db when it exists), each
    account also shows its status from it (new, unchanged, snoozed until, cooling down
    until, over capacity, closed); the store is only read, never created.
    """
    state = read_state(state, no_state)
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry, parse_overrides(overrides))
    when = resolve_as_of(as_of)
    try:
        evaluator = Evaluator(rules, registry, engine)
    except UpsellRulesError as exc:
        click.echo(f"upsell-rules: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    limit = resolve_limits(max_input_mb, max_records, max_line_bytes, plugin_timeout)
    reader = AccountReader(
        registry,
        {name: sig.type for name, sig in rules.signals.items() if sig.is_input},
        limit,
        as_of=when,
        source_options=rules.sources,
    )
    summary = Summary()
    include = errors_to == "include"
    categories = [category.name for category in rules.categories]
    try:
        decisions = _decisions(
            evaluator, reader, data, when, summary, include, jobs,
            encoded=fmt == "jsonl" and state is None,
        )
        if state is not None:
            decisions = iter(with_statuses(state, rules, list(decisions), when))
        if fmt == "table":
            ordered = queue_order(list(decisions))
            if output is None and sys.stdout.isatty():
                _rich_table(ordered)
            else:
                with output_stream(output) as out:
                    write_plain_table(ordered, out)
        else:
            writer = {
                "json": write_json,
                "jsonl": write_jsonl,
                "csv": functools.partial(write_csv, categories=categories, errors=include),
            }[fmt]
            # Read up to the first decision before writing anything, so a data file that
            # cannot be read at all leaves no half-started output behind.
            stream = iter(decisions)
            first = next(stream, None)
            head = [first] if first is not None else []
            with output_stream(output) as out:
                writer(itertools.chain(head, stream), out)
    except (InputError, PluginError, PluginTimeout) as exc:
        click.echo(f"upsell-rules: error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    report_join(reader)
    summary.order_bands([band.id for band in rules.bands])
    click.echo(summary.line(), err=True)
    raise SystemExit(EXIT_FINDINGS if summary.failed else EXIT_OK)
