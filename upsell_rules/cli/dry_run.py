"""``upsell-rules dry-run``: evaluate every account and print the queue; deliver nothing."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, usage_error
from upsell_rules.cli.failures import ErrorPrinter, debug_enabled
from upsell_rules.cli.header_check import (
    header_check,
    strict_option,
    summary_format_option,
    summary_text,
)
from upsell_rules.cli.limit_options import limit_options, resolve_limits, run_guard
from upsell_rules.cli.loading import (
    account_reader,
    evaluator_or_exit,
    load_or_exit,
    parse_overrides,
    registry_with_report,
    report_join,
)
from upsell_rules.cli.options import (
    as_of_option,
    data_inputs_option,
    engine_option,
    errors_option,
    resolve_as_of,
    ruleset_argument,
    set_option,
)
from upsell_rules.cli.output_file import output_stream, refuse_output_over_input
from upsell_rules.cli.progress import counting_large
from upsell_rules.cli.state_common import (
    no_state_option,
    read_state,
    state_option,
    with_statuses,
)
from upsell_rules.cli.value_warnings import ValueWarnings
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.stream import evaluate_inputs
from upsell_rules.errors import (
    InputError,
    PluginError,
    PluginTimeout,
    RecordError,
    did_you_mean,
)
from upsell_rules.io.columns import silenced
from upsell_rules.io.formatters import (
    FORMATS,
    EncodedBatch,
    EncodedDecision,
    error_record,
    is_error_record,
    queue_order,
    type_legend,
    write_json,
    write_jsonl,
)
from upsell_rules.io.queue import (
    DEFAULT_COLUMNS,
    GROUP_BY,
    STATUSES,
    QueueFilter,
    group_lines,
    parse_columns,
    queue_lines,
    write_queue_csv,
)
from upsell_rules.io.records import AccountReader, warning_line
from upsell_rules.plugin.types import Summary
from upsell_rules.safetext import printable


def _decisions(
    evaluator: Evaluator,
    reader: AccountReader,
    data: Sequence[str],
    as_of: date,
    summary: Summary,
    include_errors: bool = False,
    jobs: int = 1,
    encoded: bool = False,
    *,
    left_out: ValueWarnings,
) -> Iterator[dict[str, Any] | EncodedDecision | EncodedBatch]:
    """Decisions in input order; record errors go to stderr as they happen.

    With several inputs, each decision says which inputs had the account (``inputs``).
    With ``include_errors`` each failed record is also yielded, in its place, as one
    error row holding all of its problems. With ``encoded`` (JSON Lines output), decisions
    made in worker processes arrive as their JSON text (:class:`EncodedDecision`), and
    those DuckDB writes a run at a time (:class:`EncodedBatch`).
    """
    pending: list[RecordError] = []
    guard = contextlib.ExitStack()
    printer = ErrorPrinter()
    try:
        guard.enter_context(
            run_guard(
                reader.limits,
                evaluator.registry,
                # Reading counts each record; deciding moves in batches.
                lambda: reader.records_read + summary.read + summary.decided + summary.failed,
            )
        )
        tally = guard.enter_context(counting_large("deciding the accounts", data))
        for item in evaluate_inputs(evaluator, reader, data, as_of, summary, jobs, encoded):
            if isinstance(item, RecordError):
                printer(item, printable(str(item)))
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
            _warn_values(item, left_out)
            if reader.join is not None and isinstance(item, dict):
                item["inputs"] = reader.join.inputs_of(item["account_id"])
            tally.update(summary.read)
            yield item
        if pending:
            yield error_record(pending)
    finally:
        guard.close()
        printer.finish()


def cpu_cores() -> int:
    """The CPU cores this process may run on (a container's share, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _note_one_process(evaluator: Evaluator, jobs: int) -> None:
    """Say so when ``--jobs`` cannot be honoured because the engine runs in one process."""
    if jobs > 1 and evaluator.engine.parallel_safe is False:
        click.echo(f"upsell-rules: note: engine {evaluator.engine.name} decides in this "
                   f"process only (its state cannot be shared with worker processes); "
                   f"--jobs {jobs} was not used", err=True)


def capped_jobs(jobs: int) -> int:
    """``jobs``, or the number of CPU cores when more were asked for (with a warning
    saying what is used): more workers than cores only add start-up and hand-over cost.
    The output is the same either way."""
    cores = cpu_cores()
    if jobs <= cores:
        return jobs
    click.echo(f"upsell-rules: warning: --jobs {jobs} is more than the {cores} CPU core(s) "
               f"here; using --jobs {cores} (more workers than cores is slower, and the "
               "output is the same)", err=True)
    return cores


def _warn_values(item: dict[str, Any] | EncodedDecision | EncodedBatch,
                 printer: ValueWarnings) -> None:
    """Note, located, each value left out of a decided account (its data_warnings): the
    printer shows the first few of each field."""
    if type(item) is EncodedBatch:
        # Clean data: DuckDB writes no record with data warnings.
        printer.decided(None, len(item.lines))
        return
    if isinstance(item, EncodedDecision):
        if '"data_warnings"' not in item.text:
            printer.decided(_missing_signals(item.text))
            return
        item = json.loads(item.text)
    assert isinstance(item, dict)
    printer.decided(item.get("missing_signals", ()))
    for warning in item.get("data_warnings", ()):
        printer.note(warning["field"],
                     warning_line(warning["location"], item["account_id"], warning))


def _missing_signals(text: str) -> list[str] | None:
    """The ``missing_signals`` of a decision's compact JSON text, without decoding the
    rest of it (``None`` when it has none)."""
    start = text.find('"missing_signals":[')
    end = text.find("]", start)
    if start < 0 or end < 0:
        return None
    names = json.loads(text[start + len('"missing_signals":'):end + 1])
    return names if isinstance(names, list) else None


def _rich_table(
    decisions: list[dict[str, Any]],
    columns: Sequence[str] | None = None,
    width: int | None = None,
    types: dict[str, tuple[str, str]] | None = None,
) -> None:
    """The queue on a terminal: fitted to its width, one colour per band (none with
    NO_COLOR, which also drops bold)."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    plain = bool(os.environ.get("NO_COLOR")) or console.no_color
    styles = {"act_now": "bold green", "warming": "yellow", "monitor": "cyan", "wait": "dim"}
    lines = queue_lines(decisions, width or console.width, columns)
    console.print(Text(lines[0], style="" if plain else "bold"), soft_wrap=True)
    for decision, line in zip(decisions, lines[1:], strict=True):
        if plain:
            style = ""
        elif is_error_record(decision):
            style = "bold red"
        else:
            style = "red" if decision["blocked"] else styles.get(decision["band"], "")
        # Text, not str: rich would read "[link=...]" in an account name as markup.
        console.print(Text(line, style=style), soft_wrap=True)
    for text in _legend(lines, decisions, types or {}, width or console.width):
        console.print(Text(text), soft_wrap=True)


def _legend(
    lines: list[str],
    decisions: list[dict[str, Any]],
    types: dict[str, tuple[str, str]],
    width: int | None,
) -> list[str]:
    """A blank line and one line per upsell type shown, when the queue shows a types
    column (the legend explains it), each cut to ``width`` like the table's cells."""
    if not lines or "types" not in lines[0].split():
        return []
    legend = type_legend(decisions, types)
    if width:
        legend = [text if len(text) <= width else text[: width - 1] + "…" for text in legend]
    return ["", *legend] if legend else []


def _columns_env() -> int | None:
    """The COLUMNS environment variable as a width, when it is a sensible number."""
    text = os.environ.get("COLUMNS", "")
    return int(text) if text.isdigit() and int(text) >= 20 else None


#: ``-o`` file extensions and the format they mean when --format is not given.
EXTENSION_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def _format_for(fmt: str | None, output: str | None) -> str:
    if fmt is not None:
        return fmt
    if output is not None:
        return EXTENSION_FORMATS.get(os.path.splitext(output)[1].lower(), "table")
    return "table"


def _view(
    rules: Any, bands: tuple[str, ...], owners: tuple[str, ...], statuses: tuple[str, ...],
    top: int | None,
) -> QueueFilter:
    """The --band/--owner/--status/--top filter, bands checked against the ruleset."""
    known = [band.id for band in rules.bands]
    for band in bands:
        if band not in known:
            click.echo(
                f"upsell-rules: error: --band {band}: not a band of {rules.name}"
                f"{did_you_mean(band, known)} (bands: {', '.join(known)})",
                err=True,
            )
            raise SystemExit(EXIT_USAGE)
    return QueueFilter(bands, owners, statuses, top)


@click.command("dry-run")
@ruleset_argument
@data_inputs_option
@as_of_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="table: the prioritised queue; csv: the queue with every decision's columns "
    "(rank, status, ...); json/jsonl: one decision record per account, in input order. "
    "Default: from the -o file's extension (.csv, .json, .jsonl), else table.",
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
    "one-process run. More than the CPU cores is capped at the number of cores, with a "
    "warning.",
)
@click.option(
    "--band", "bands", multiple=True, metavar="BAND",
    help="Only decisions in this band (e.g. act_now). Repeatable.",
)
@click.option(
    "--owner", "owners", multiple=True, metavar="NAME",
    help="Only accounts whose owner (the record's owner field) is NAME. Repeatable.",
)
@click.option(
    "--status", "statuses", multiple=True, type=click.Choice(STATUSES),
    help="Only accounts ready for outreach, with a step to prepare first, or blocked. "
    "Repeatable.",
)
@click.option("--top", type=click.IntRange(min=1), default=None, metavar="N",
              help="Only the first N accounts of the queue.")
@click.option(
    "--group-by", "group_by", type=click.Choice(GROUP_BY), default=None,
    help="Print a summary per owner, band or plan (accounts, ready/prep/blocked, bands, "
    "top account) instead of the queue.",
)
@click.option(
    "--columns", default=None, metavar="A,B,...",
    help=f"The table's columns, in order (from: {', '.join(DEFAULT_COLUMNS)}). "
    "Default: as many as fit the terminal.",
)
@click.option("--width", type=click.IntRange(min=20), default=None, metavar="N",
              help="Fit the table to N characters (default: the terminal's width; "
              "unlimited when piped).")
@set_option
@errors_option
@limit_options
@strict_option
@state_option
@summary_format_option
@no_state_option
def dry_run(
    ruleset: str,
    data: tuple[str, ...],
    as_of: date | None,
    fmt: str | None,
    output: str | None,
    engine: str,
    jobs: int,
    bands: tuple[str, ...],
    owners: tuple[str, ...],
    statuses: tuple[str, ...],
    top: int | None,
    group_by: str | None,
    columns: str | None,
    width: int | None,
    overrides: tuple[str, ...],
    errors_to: str,
    max_input_mb: float | None,
    max_records: int | None,
    max_line_bytes: int | None,
    plugin_timeout: float | None,
    strict: bool,
    summary_format: str,
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
    refuse_output_over_input(output, [ruleset, *data])
    state = read_state(state, no_state)
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry, parse_overrides(overrides))
    when = resolve_as_of(as_of)
    fmt = _format_for(fmt, output)
    jobs = capped_jobs(jobs)
    view = _view(rules, bands, owners, statuses, top)
    try:
        picked = parse_columns(columns) if columns is not None else None
    except ValueError as exc:
        usage_error(f"--columns: {exc}")
    evaluator = evaluator_or_exit(rules, registry, engine)
    _note_one_process(evaluator, jobs)
    limit = resolve_limits(max_input_mb, max_records, max_line_bytes, plugin_timeout)
    reader = account_reader(rules, registry, as_of=when, limits=limit)
    column_report = header_check(rules, registry, reader, data, strict, value_warnings=False)
    summary = Summary()
    include = errors_to == "include"
    categories = [category.name for category in rules.categories]
    left_out = ValueWarnings(silences=lambda field: silenced(rules, registry, field))
    try:
        decisions: Iterator[Any] = _decisions(
            evaluator, reader, data, when, summary, include, jobs,
            encoded=fmt == "jsonl" and not view.active() and state is None, left_out=left_out,
        )
        if state is not None:
            decisions = iter(with_statuses(state, rules, list(decisions), when))
        band_order = [band.id for band in rules.bands]
        types = {name: (kind.title, kind.description)
                 for name, kind in registry.upsell_types.items()}
        if group_by is not None:
            ordered = view.apply(queue_order(list(decisions)))
            with output_stream(output) as out:
                out.write("\n".join(group_lines(ordered, group_by, band_order)) + "\n")
        elif fmt == "table":
            ordered = view.apply(queue_order(list(decisions)))
            if output is None and sys.stdout.isatty():
                _rich_table(ordered, picked, width, types)
            else:
                # Piped: as wide as it needs, unless COLUMNS (or --width) says otherwise.
                fit_to = (width or _columns_env()) if output is None else width
                with output_stream(output) as out:
                    lines = queue_lines(ordered, fit_to, picked)
                    out.write("\n".join([*lines, *_legend(lines, ordered, types, fit_to)]) + "\n")
        elif fmt == "csv":
            ordered = view.apply(queue_order(list(decisions)))
            with output_stream(output, data=True) as out:
                write_queue_csv(ordered, out, categories=categories, errors=include)
        else:
            if view.top is not None:
                decisions = iter(view.apply(queue_order(list(decisions))))
            elif view.active():
                decisions = (d for d in decisions if view.keeps(d))
            writer = {
                "json": write_json,
                "jsonl": write_jsonl,
            }[fmt]
            # Read up to the first decision before writing anything, so a data file that
            # cannot be read at all leaves no half-started output behind.
            stream = iter(decisions)
            first = next(stream, None)
            head = [first] if first is not None else []
            with output_stream(output, data=True) as out:
                writer(itertools.chain(head, stream), out)
    except (InputError, PluginError, PluginTimeout) as exc:
        if debug_enabled():
            raise
        usage_error(str(exc))
    report_join(reader)
    for owner in view.unmatched_owners():
        click.echo(printable(f"upsell-rules: warning: {owner}"), err=True)
    left_out.finish()
    summary.order_bands([band.id for band in rules.bands])
    click.echo(summary_text(summary, column_report, summary_format,
                            reader.declared_missing(), left_out), err=True)
    raise SystemExit(EXIT_FINDINGS if summary.failed else EXIT_OK)
