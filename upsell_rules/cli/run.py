"""``upsell-rules run``: evaluate every account and deliver the decisions to sinks."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from typing import Any, TextIO

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, usage_error
from upsell_rules.cli.failures import ErrorPrinter, debug_enabled
from upsell_rules.cli.header_check import header_check, missing_suffix, strict_option
from upsell_rules.cli.loading import (
    account_reader,
    evaluator_or_exit,
    load_or_exit,
    registry_with_report,
    report_join,
)
from upsell_rules.cli.options import (
    as_of_option,
    data_inputs_option,
    engine_option,
    resolve_as_of,
    ruleset_argument,
    text_or_json_option,
)
from upsell_rules.cli.progress import counting_large
from upsell_rules.cli.state_common import (
    deliver_with_state,
    no_state_option,
    run_state,
    state_lines,
    state_option,
)
from upsell_rules.cli.value_warnings import ValueWarnings
from upsell_rules.engine.stream import decide_all
from upsell_rules.errors import (
    InputError,
    Location,
    PluginError,
    PluginTimeout,
    RecordError,
    did_you_mean,
)
from upsell_rules.io.delivery import (
    ALLOW_ENV,
    SinkConfigError,
    SinkTarget,
    resolve_sinks,
)
from upsell_rules.io.delivery import deliver as deliver_to
from upsell_rules.io.queue import status_of
from upsell_rules.io.records import Account
from upsell_rules.plugin.types import DeliveryReport, Summary
from upsell_rules.safetext import printable
from upsell_rules.state.codec import encode_account


def _describe(target: SinkTarget, report: DeliveryReport) -> str:
    """``sink 'csm_slack' (webhook https://hooks.example.com/...)``."""
    where = f" {report.target}" if report.target else ""
    return f"sink '{target.label}' ({target.sink.name}{where})"


def render_report(
    outcomes: list[tuple[SinkTarget, DeliveryReport]],
    locations: dict[str, Location],
    limit: int = 10,
) -> list[str]:
    """The text report: one line per sink, then one line per distinct failure.

    A failure of one decision names it and where it was read; decisions that failed for
    the same reason share one line that names the first ``limit`` and counts the rest.
    Everything from the data or a remote server is shown :func:`printable`.
    """
    lines: list[str] = []
    for target, report in outcomes:
        counts = [f"{report.count('delivered')} delivered"]
        if report.count("skipped"):
            counts.append(f"{report.count('skipped')} already delivered (not sent again)")
        if report.count("failed"):
            counts.append(f"{report.count('failed')} failed")
        lines.append(f"{_describe(target, report)}: {', '.join(counts)}")
        prefix = target.where if target.where.startswith("--sink") else (
            f"{target.where}: sink '{target.label}'"
        )
        for error in dict.fromkeys(report.errors):
            lines.append(f"{prefix}: {printable(error)}")
        shared = "; ".join(report.errors)
        by_detail: dict[str, list[str]] = {}
        for result in report.results:
            if result.status == "failed" and not (shared and result.detail == shared):
                by_detail.setdefault(result.detail, []).append(result.account_id)
        for detail, accounts in by_detail.items():
            shown = [printable(a) for a in accounts[:limit]]
            if len(accounts) == 1 and accounts[0] in locations:
                shown = [f"{shown[0]} ({locations[accounts[0]]})"]
            more = f" and {len(accounts) - limit} more" if len(accounts) > limit else ""
            lines.append(f"{prefix}: {', '.join(shown)}{more}: {printable(detail)}")
    return lines


def _allow_env(ctx: click.Context, param: click.Parameter, names: tuple[str, ...]) -> None:
    # Read by resolve_sinks: the operator lets the ruleset's ${NAME} be expanded.
    if names:
        listed = [n for n in os.environ.get(ALLOW_ENV, "").split(",") if n]
        os.environ[ALLOW_ENV] = ",".join([*listed, *names])


@click.command("run")
@ruleset_argument
@data_inputs_option
@as_of_option
@click.option(
    "--sink",
    "sinks",
    multiple=True,
    metavar="SINK",
    help="Deliver here: the id of an entry in the ruleset's sinks: section, or "
    "NAME[:TARGET] for an installed sink (stdout, file:decisions.jsonl, "
    "webhook:https://...). Repeatable. Default: every sink in the ruleset.",
)
@click.option(
    "--band",
    "bands",
    multiple=True,
    metavar="BAND",
    help="Deliver only decisions in this band (e.g. act_now). Repeatable. Blocked "
    "accounts keep their band: add --ready-only to leave them out.",
)
@click.option(
    "--ready-only",
    is_flag=True,
    help="Deliver only accounts outreach can start on now: not blocked and with no step "
    "to prepare first.",
)
@text_or_json_option("How to print the delivery report.")
@click.option(
    "--allow-env",
    multiple=True,
    metavar="NAME",
    expose_value=False,
    callback=_allow_env,
    help="Let the ruleset's ${NAME} read this environment variable (variables named "
    "UPSELL_RULES_... are always allowed). Repeatable.",
)
@engine_option
@strict_option
@state_option
@no_state_option
@click.option(
    "--deliver",
    type=click.Choice(["transitions", "all"]),
    default=None,
    help="transitions (default) delivers only what changed since the last delivered "
    "decision; all delivers every decision not held back (and still logs the run).",
)
@click.option(
    "--lock-wait",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="SECONDS",
    help="With a store: wait this long for another run on the store to end (default: "
    "refuse at once).",
)
@click.option(
    "--keep-inputs-days",
    type=click.IntRange(min=1),
    default=None,
    metavar="DAYS",
    help="With a store: drop stored inputs not used by a run in the last DAYS days "
    "(replay of older runs then says so). Default: keep them.",
)
@click.option(
    "--keep-log-days",
    type=click.IntRange(min=1),
    default=None,
    metavar="DAYS",
    help="With a store: drop decision-log rows of runs older than DAYS days, except "
    "outreach starts (cooldowns and capacity count them). Default: keep the log.",
)
@click.option(
    "--shadow",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    metavar="CANDIDATE.yaml",
    help="With a store: also decide with this candidate ruleset, log it beside the run, "
    "deliver nothing for it (compare with shadow-report).",
)
@click.option(
    "--switch-ruleset",
    is_flag=True,
    default=False,
    help="With a store that follows another ruleset (by name): carry the accounts' state "
    "over to this one instead of refusing.",
)
def run_command(
    ruleset: str,
    data: tuple[str, ...],
    as_of: date | None,
    sinks: tuple[str, ...],
    bands: tuple[str, ...],
    ready_only: bool,
    fmt: str,
    engine: str,
    strict: bool,
    state: str | None = None,
    deliver: str | None = None,
    lock_wait: float = 0.0,
    keep_inputs_days: int | None = None,
    shadow: str | None = None,
    no_state: bool = False,
    keep_log_days: int | None = None,
    switch_ruleset: bool = False,
) -> None:
    """Evaluate RULESET against --data and deliver the decisions to sinks.

    Unlike dry-run, this sends decisions somewhere: the sinks named with --sink, or
    every sink in the ruleset's sinks: section. Then it reports, per sink, what was
    delivered, what had already been delivered before (webhooks never send the same
    decision twice) and what failed, each failure with where the sink was configured.
    The report goes to stdout (to stderr when a stdout sink prints the decisions).
    The run uses a state store (--state, default .upsell-rules/state.db): it is logged
    and only transitions are delivered (entered act-now, play changed, blocked,
    unblocked, left act-now), minus what snoozes, cooldowns and owner capacity hold
    back; --deliver all sends every decision; --no-state runs without memory. See
    docs/operations.md.
    Exit status: 0 when everything was decided and delivered, 1 when any record or
    delivery failed, 2 when the ruleset, data or a sink cannot be used.
    """
    state = run_state(state, no_state)
    if (deliver is not None or shadow is not None) and state is None:
        option = "--deliver" if deliver is not None else "--shadow"
        usage_error(f"{option} needs a state store (not --no-state)")
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry)
    candidate = load_or_exit(shadow, registry) if shadow is not None else None
    when = resolve_as_of(as_of)
    try:
        targets = resolve_sinks(registry, rules, sinks)
    except SinkConfigError as exc:
        usage_error(str(exc))
    band_ids = {band.id for band in rules.bands}
    unknown = [b for b in bands if b not in band_ids]
    if unknown:
        click.echo(
            f"upsell-rules: error: --band {unknown[0]}: not a band of {rules.name}"
            f"{did_you_mean(unknown[0], sorted(band_ids))} "
            f"(bands: {', '.join(b.id for b in rules.bands)})",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)
    evaluator = evaluator_or_exit(rules, registry, engine)
    reader = account_reader(rules, registry, as_of=when)
    columns = header_check(rules, registry, reader, data, strict)
    summary = Summary()
    locations: dict[str, Location] = {}
    inputs: dict[str, tuple[str, bytes]] = {}
    accounts: list[Account] = []

    def tracked(items: Any) -> Any:
        for item in items:
            if isinstance(item, Account):
                locations[item.account_id] = item.location
                if state is not None:
                    inputs[item.account_id] = encode_account(
                        item.account_id, item.account_name, item.owner, item.values)
                if shadow is not None:
                    accounts.append(item)
            yield item

    decisions: list[dict[str, Any]] = []
    printer = ErrorPrinter()
    # The header check's printer of values left out: told each decision's missing
    # signals, it can say when a field was read for no account at all.
    left_out = reader.on_warning if isinstance(reader.on_warning, ValueWarnings) else None
    try:
        with counting_large("deciding the accounts", data) as tally:
            for item in decide_all(evaluator, tracked(reader.read_all(data)), when, summary):
                tally.update(summary.read)
                if isinstance(item, RecordError):
                    printer(item)
                    continue
                if left_out is not None:
                    left_out.decided(item.get("missing_signals", ()))
                if reader.join is not None:
                    item["inputs"] = reader.join.inputs_of(item["account_id"])
                decisions.append(item)
    except (InputError, PluginError, PluginTimeout) as exc:
        if debug_enabled():
            raise
        usage_error(str(exc))
    finally:
        printer.finish()
    report_join(reader)

    outcomes: list[tuple[SinkTarget, DeliveryReport]] = []
    if ready_only:
        decisions = [d for d in decisions if status_of(d) in ("ready", "-")]
    state_block: dict[str, Any] | None = None
    if state is not None:
        outcomes, state_block = deliver_with_state(
            state, rules, decisions, inputs, targets, when, deliver=deliver or "transitions",
            bands=bands, engine=summary.engine or evaluator.engine.name, data=data,
            lock_wait=lock_wait,
            keep_inputs_days=keep_inputs_days, keep_log_days=keep_log_days,
            shadow=(candidate, registry, accounts), switch_ruleset=switch_ruleset,
        )
    for target in targets if state is None else ():
        chosen = [d for d in decisions if target.wants(d) and (not bands or d["band"] in bands)]
        outcomes.append((target, deliver_to(target, chosen, evaluator.identity, when)))

    stdout_used = any(t.sink.name == "stdout" for t in targets)
    out: TextIO = sys.stderr if stdout_used else sys.stdout
    failed = any(not report.ok for _, report in outcomes)
    summary.order_bands([band.id for band in rules.bands])
    if fmt == "json":
        payload = {
            "summary": {"read": summary.read, "decided": summary.decided,
                        "failed": summary.failed, "bands": summary.bands},
            "join": reader.join.to_dict() if reader.join is not None else None,
            "header_check": columns.to_dict(),
            "sinks": [
                {"label": target.label, "where": target.where, **report.to_dict()}
                for target, report in outcomes
            ],
            "ok": not failed and not summary.failed,
        }
        if state_block is not None:
            payload["state"] = state_block
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False), file=out)
    else:
        for line in render_report(outcomes, locations):
            click.echo(line, file=out)
        for line in state_lines(state_block) if state_block is not None else ():
            click.echo(line, file=out)
    click.echo(summary.line() + columns.suffix() + missing_suffix(reader.declared_missing()),
               err=True)
    raise SystemExit(EXIT_FINDINGS if failed or summary.failed else EXIT_OK)
