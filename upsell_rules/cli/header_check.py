"""The header check every command that reads accounts runs before deciding any."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from upsell_rules.cli.exits import EXIT_USAGE
from upsell_rules.cli.limit_options import run_guard
from upsell_rules.cli.value_warnings import ValueWarnings, left_out_suffix
from upsell_rules.errors import PluginTimeout
from upsell_rules.io.columns import (
    ColumnReport,
    carried_fields,
    check_columns,
    signals_read,
    silenced,
)
from upsell_rules.io.records import AccountReader
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import Summary
from upsell_rules.ruleset.model import Ruleset

F = TypeVar("F", bound=Callable[..., Any])


def strict_option(func: F) -> F:
    """``--strict``: a signal no record carries is an error (exit 2) before any decision."""
    return click.option(
        "--strict",
        is_flag=True,
        default=False,
        help="Stop with exit status 2, before deciding anything, when a signal the rules "
        "read is carried by no record of the data (see docs/data.md, the header check).",
    )(func)


def summary_format_option(func: F) -> F:
    """``--summary-format text|json``: the run summary on stderr as a line or one JSON object."""
    return click.option(
        "--summary-format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="The run summary on stderr: a line, or one JSON object (read, decided, failed, "
        "bands, header_check) as the last stderr line; stdout is unchanged.",
    )(func)


def missing_suffix(declared_missing: int) -> str:
    """What the summary line adds for cells read as missing by ``missing_values:``."""
    if not declared_missing:
        return ""
    cells = "cell" if declared_missing == 1 else "cells"
    return f"; {declared_missing} {cells} declared missing (missing_values)"


def summary_text(summary: Summary, columns: ColumnReport, fmt: str,
                 declared_missing: int = 0, left_out: ValueWarnings | None = None) -> str:
    """The run summary line, or its JSON form with the header check's warnings;
    ``declared_missing`` counts the cells ``missing_values:`` read as missing, ``left_out``
    the values readers left out of accounts (by field)."""
    if fmt != "json":
        return (summary.line() + columns.suffix() + missing_suffix(declared_missing)
                + left_out_suffix(left_out))
    payload = {"read": summary.read, "decided": summary.decided, "failed": summary.failed,
               "bands": dict(summary.bands), "header_check": columns.to_dict(),
               "declared_missing": declared_missing,
               "values_left_out": dict(left_out.counts) if left_out is not None else {},
               "read_for_no_account": left_out.unreadable() if left_out is not None else [],
               "engine": summary.engine, "notes": list(summary.notes)}
    return json.dumps(payload, ensure_ascii=False, sort_keys=False)


def header_check(
    rules: Ruleset,
    registry: Registry,
    reader: AccountReader,
    data: Sequence[str],
    strict: bool = False,
    *,
    value_warnings: bool = True,
    also_read: Sequence[str] = (),
    printed: set[str] | None = None,
) -> ColumnReport:
    """Warn, once per signal, about signals the rules read that no input record carries.

    Each warning names what it silences and a look-alike unmatched column; unmatched
    columns are listed once. With ``strict`` any warning ends the command (exit 2).
    From then on the reader prints, located, the bad values it leaves out of accounts, the
    first few of each field and then one line per field for the rest as the command ends
    (:class:`ValueWarnings`; unless ``value_warnings`` is false: dry-run prints them with
    each decision, in order, whichever process decided it). ``also_read`` names columns
    the command reads itself (a snapshot's date): never unmatched. ``printed`` collects
    the lines shown, so a command that checks several rulesets or inputs says each thing
    once.
    """
    if value_warnings:
        printer = ValueWarnings(silences=lambda field: silenced(rules, registry, field))
        reader.on_warning = printer
        context = click.get_current_context(silent=True)
        if context is not None:
            context.call_on_close(printer.finish)
    wanted = signals_read(rules, registry)
    seen = [0]
    try:
        with run_guard(reader.limits, registry, lambda: seen[0]):
            carried = carried_fields(reader, data, wanted, seen)
    except PluginTimeout:
        # A source that hangs while we peek: no check; the real read names it and keeps
        # what it read before it stopped.
        carried = None
    if carried is None:
        return ColumnReport()  # an input cannot be read; the command says why
    report = check_columns(rules, registry, carried, also_read)
    label = "error" if strict else "warning"
    for line in report.lines():
        if printed is not None:
            if line in printed:
                continue
            printed.add(line)
        click.echo(f"upsell-rules: {label}: {line}", err=True)
    if strict and report.warnings:
        click.echo(
            f"upsell-rules: error: {len(report.warnings)} signal(s) missing from every "
            "record (--strict); nothing was decided",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)
    return report

