"""``upsell-rules run``: evaluate every account and deliver the decisions to sinks."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any, TextIO

import click

from upsell_rules.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    as_of_option,
    data_inputs_option,
    engine_option,
    load_or_exit,
    registry_with_report,
    report_join,
    resolve_as_of,
    ruleset_argument,
)
from upsell_rules.cli.state_common import (
    deliver_with_state,
    no_state_option,
    run_state,
    state_lines,
    state_option,
)
from upsell_rules.engine.evaluate import Evaluator, Summary
from upsell_rules.errors import (
    InputError,
    Location,
    PluginError,
    RecordError,
    UpsellRulesError,
)
from upsell_rules.io.delivery import SinkConfigError, SinkTarget, resolve_sinks
from upsell_rules.io.delivery import deliver as deliver_to
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.types import DeliveryReport
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
    """The text report: one line per sink, then one located line per failed decision.

    Decisions a sink did not even try (its endpoint was unreachable) share one line.
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
        for error in report.errors:
            lines.append(f"{prefix}: {error}")
        untried: dict[str, list[str]] = {}
        for result in report.results:
            if result.status != "failed":
                continue
            if result.detail.startswith("not attempted"):
                untried.setdefault(result.detail, []).append(result.account_id)
                continue
            account = result.account_id
            if account in locations:
                account = f"{account} ({locations[account]})"
            lines.append(f"{prefix}: {account}: {result.detail}")
        for detail, accounts in untried.items():
            more = f" and {len(accounts) - limit} more" if len(accounts) > limit else ""
            lines.append(f"{prefix}: {', '.join(accounts[:limit])}{more}: {detail}")
    return lines


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
    help="Deliver only decisions in this band (e.g. act_now). Repeatable.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the delivery report.",
)
@engine_option
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
def run_command(
    ruleset: str,
    data: tuple[str, ...],
    as_of: date | None,
    sinks: tuple[str, ...],
    bands: tuple[str, ...],
    fmt: str,
    engine: str,
    state: str | None = None,
    deliver: str | None = None,
    lock_wait: float = 0.0,
    keep_inputs_days: int | None = None,
    shadow: str | None = None,
    no_state: bool = False,
    keep_log_days: int | None = None,
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
        click.echo(f"upsell-rules: error: {option} needs a state store (not --no-state)",
                   err=True)
        raise SystemExit(EXIT_USAGE)
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry)
    candidate = load_or_exit(shadow, registry) if shadow is not None else None
    when = resolve_as_of(as_of)
    try:
        targets = resolve_sinks(registry, rules, sinks)
    except SinkConfigError as exc:
        click.echo(f"upsell-rules: error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    band_ids = {band.id for band in rules.bands}
    unknown = [b for b in bands if b not in band_ids]
    if unknown:
        click.echo(
            f"upsell-rules: error: --band {unknown[0]}: not a band of {rules.name} "
            f"(bands: {', '.join(b.id for b in rules.bands)})",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)
    try:
        evaluator = Evaluator(rules, registry, engine)
    except UpsellRulesError as exc:
        click.echo(f"upsell-rules: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    reader = AccountReader(
        registry,
        {name: sig.type for name, sig in rules.signals.items() if sig.is_input},
        as_of=when,
        source_options=rules.sources,
    )
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
    try:
        for item in evaluator.evaluate(tracked(reader.read_all(data)), when, summary):
            if isinstance(item, RecordError):
                click.echo(f"upsell-rules: error: {item}", err=True)
                continue
            if reader.join is not None:
                item["inputs"] = reader.join.inputs_of(item["account_id"])
            decisions.append(item)
    except (InputError, PluginError) as exc:
        click.echo(f"upsell-rules: error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    report_join(reader)

    outcomes: list[tuple[SinkTarget, DeliveryReport]] = []
    state_block: dict[str, Any] | None = None
    if state is not None:
        outcomes, state_block = deliver_with_state(
            state, rules, decisions, inputs, targets, when, deliver=deliver or "transitions",
            bands=bands, engine=engine, data=data, lock_wait=lock_wait,
            keep_inputs_days=keep_inputs_days, keep_log_days=keep_log_days,
            shadow=(candidate, registry, accounts),
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
    click.echo(summary.line(), err=True)
    raise SystemExit(EXIT_FINDINGS if failed or summary.failed else EXIT_OK)
