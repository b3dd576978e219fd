"""``upsell-rules shadow-report``: how a shadow ruleset compared with production."""

from __future__ import annotations

import json

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK
from upsell_rules.cli.options import IsoDate, text_or_json_option
from upsell_rules.cli.state_common import open_store, required_state_option
from upsell_rules.state.shadow import ShadowReport, shadow_reports


def _lines(report: ShadowReport, limit: int = 10) -> list[str]:
    start, end = report.period or ("-", "-")
    lines = [
        f"candidate {report.candidate}: {report.runs} run(s) from {start} to {end}",
        f"  agreement: {report.agreed} of {report.decisions} account-days "
        f"({100 * report.agreement:.1f}%) had the same band, blocked state and play",
    ]
    if report.failed:
        shown = [f"{a} ({w}, {d}): {m}" for a, (d, w, m) in sorted(report.failures.items())[:3]]
        more = f"; and {len(report.failures) - 3} more" if len(report.failures) > 3 else ""
        lines.append(f"  failed under the candidate: {report.failed} account-day(s) of "
                     f"{len(report.failures)} account(s), not compared: {'; '.join(shown)}{more}")
    for title, items in (("would have acted earlier", report.earlier),
                         ("would have acted later or not at all", report.later)):
        shown = [f"{a} ({p or 'never'} -> {c or 'never'})" for a, (p, c) in
                 sorted(items.items())[:limit]]
        more = f" and {len(items) - limit} more" if len(items) > limit else ""
        lines.append(f"  {title}: {len(items)}" + (f": {', '.join(shown)}{more}" if shown else ""))
    if report.outcomes:
        o = report.outcomes
        verdict = ("neither did better (a tie)" if o["better"] == "tie"
                   else f"{o['better']} did better")
        lines.append(
            f"  outcomes: of {o['won']} won, production flagged {o['won_flagged']['production']}"
            f", the candidate {o['won_flagged']['candidate']}; of {o['lost']} lost or not now, "
            f"production flagged {o['lost_flagged']['production']}, the candidate "
            f"{o['lost_flagged']['candidate']}: {verdict}"
        )
    else:
        lines.append("  outcomes: none imported yet (upsell-rules feedback)")
    return lines


@click.command("shadow-report")
@click.option("--since", type=IsoDate(), default=None, help="First as-of date to compare.")
@click.option("--until", type=IsoDate(), default=None, help="Last as-of date to compare.")
@text_or_json_option()
@required_state_option
def shadow_report_command(since: object, until: object, fmt: str, state: str) -> None:
    """Compare the shadow rulesets logged by run --shadow with production.

    For each candidate: how often it agreed with production, the records it could not
    decide (failed under the candidate, left out of the agreement), the accounts it would have
    put in act-now earlier or later, and, where CRM outcomes were imported, which one
    flagged more won and fewer lost accounts. Exit status 1 when nothing was shadowed.
    """
    store = open_store(state, create=False)
    try:
        reports = shadow_reports(store, since=str(since) if since else None,
                                 until=str(until) if until else None)
    finally:
        store.close()
    if not reports:
        click.echo("upsell-rules: no shadow runs in the log (run --state --shadow "
                   "CANDIDATE.yaml)", err=True)
        raise SystemExit(EXIT_FINDINGS)
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        for report in reports:
            for line in _lines(report):
                click.echo(line)
    raise SystemExit(EXIT_OK)
