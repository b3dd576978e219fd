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
from upsell_rules.engine.evaluate import Evaluator, Summary
from upsell_rules.errors import (
    InputError,
    Location,
    PluginError,
    RecordError,
    UpsellRulesError,
)
from upsell_rules.io.delivery import SinkConfigError, SinkTarget, deliver, resolve_sinks
from upsell_rules.io.queue import did_you_mean, status_of
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.types import DeliveryReport


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
    help="Deliver only decisions in this band (e.g. act_now). Repeatable. Blocked "
    "accounts keep their band: add --ready-only to leave them out.",
)
@click.option(
    "--ready-only",
    is_flag=True,
    help="Deliver only accounts outreach can start on now: not blocked and with no step "
    "to prepare first.",
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
def run_command(
    ruleset: str,
    data: tuple[str, ...],
    as_of: date | None,
    sinks: tuple[str, ...],
    bands: tuple[str, ...],
    ready_only: bool,
    fmt: str,
    engine: str,
) -> None:
    """Evaluate RULESET against --data and deliver the decisions to sinks.

    Unlike dry-run, this sends decisions somewhere: the sinks named with --sink, or
    every sink in the ruleset's sinks: section. Then it reports, per sink, what was
    delivered, what had already been delivered before (webhooks never send the same
    decision twice) and what failed, each failure with where the sink was configured.
    The report goes to stdout (to stderr when a stdout sink prints the decisions).
    Exit status: 0 when everything was decided and delivered, 1 when any record or
    delivery failed, 2 when the ruleset, data or a sink cannot be used.
    """
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry)
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
            f"upsell-rules: error: --band {unknown[0]}: not a band of {rules.name}"
            f"{did_you_mean(unknown[0], sorted(band_ids))} "
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

    def tracked(items: Any) -> Any:
        for item in items:
            if isinstance(item, Account):
                locations[item.account_id] = item.location
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
    for target in targets:
        chosen = [
            d for d in decisions
            if target.wants(d) and (not bands or d["band"] in bands)
            and (not ready_only or status_of(d) in ("ready", "-"))
        ]
        outcomes.append((target, deliver(target, chosen, evaluator.identity, when)))

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
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False), file=out)
    else:
        for line in render_report(outcomes, locations):
            click.echo(line, file=out)
    click.echo(summary.line(), err=True)
    raise SystemExit(EXIT_FINDINGS if failed or summary.failed else EXIT_OK)
