"""``upsell-rules calibrate``: fit weights and band cut-offs to history, as a YAML proposal."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, usage_error
from upsell_rules.cli.header_check import header_check, strict_option
from upsell_rules.cli.history_common import (
    future_note,
    horizon_option,
    outcomes_option,
    outcomes_or_exit,
    report_error,
    scheduled_option,
    snapshots_option,
)
from upsell_rules.cli.loading import (
    evaluator_or_exit,
    load_or_exit,
    print_diagnostics,
    registry_with_report,
)
from upsell_rules.cli.options import (
    engine_option,
    input_encoding,
    ruleset_argument,
    text_or_json_option,
)
from upsell_rules.cli.progress import counting, records_total, working
from upsell_rules.errors import InputError, RecordError
from upsell_rules.history.backtest import evaluate_snapshots, shape_of
from upsell_rules.history.backtest_format import pct
from upsell_rules.history.calibrate import (
    MIN_HELD_OUT_EACH,
    CalibrationError,
    Proposal,
    judge,
    propose,
)
from upsell_rules.history.snapshots import (
    SCHEDULED_FIELDS,
    SNAPSHOT_FIELD,
    Snapshot,
    SnapshotReader,
)
from upsell_rules.io.records import AccountReader
from upsell_rules.io.sinks import replacing
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.ruleset.yamlload import load_yaml


def _number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}"


def render_text(proposal: Proposal, label: str) -> str:
    """The human-readable calibration report (the diff comes last)."""
    split = proposal.split
    lines = [
        f"Calibration of {label}",
        f"Split by account: {len(split.train)} accounts ({proposal.train_deals} deals) to fit, "
        f"{len(split.test)} accounts ({proposal.test_deals} deals) held out to judge.",
        "",
        "Weights (maximum likelihood of won ~ timing score; rounded to 0.01, sum 1):",
        f"  {'category':<14}{'current':>9}{'proposed':>10}",
    ]
    for name, before, after in zip(proposal.categories, proposal.weights_before,
                                   proposal.weights_after, strict=True):
        lines.append(f"  {name:<14}{before:>9.2f}{after:>10.2f}")
    lines += ["", "Band minimums (each band keeps its share of the training snapshots):",
              f"  {'band':<14}{'current':>9}{'proposed':>10}"]
    for (band_id, before), (_, after) in zip(proposal.bands_before, proposal.bands_after,
                                             strict=True):
        lines.append(f"  {band_id:<14}{before:>9g}{after:>10g}")
    metrics = proposal.metrics
    lines += [
        "",
        f"Held-out accounts, decided by each ruleset ({len(split.test)} accounts never used "
        "to fit):",
        f"  {'metric':<36}{'current':>10}{'proposed':>10}",
        f"  {'AUC of score against won':<36}{_number(metrics['auc']['before']):>10}"
        f"{_number(metrics['auc']['after']):>10}",
        f"  {'top-band win rate':<36}{pct(metrics['top_win_rate']['before']):>10}"
        f"{pct(metrics['top_win_rate']['after']):>10}",
        f"  {'top-band deals':<36}{metrics['top_deals']['before']:>10}"
        f"{metrics['top_deals']['after']:>10}",
        f"  {'top-band share of snapshots':<36}{pct(metrics['top_share']['before']):>10}"
        f"{pct(metrics['top_share']['after']):>10}",
        f"  {'lift of the top band':<36}{_number(metrics['lift']['before'], 2):>10}"
        f"{_number(metrics['lift']['after'], 2):>10}",
    ]
    before_bands = {r["band"]: r for r in proposal.backtest_before.get("by_band", [])}
    after_bands = {r["band"]: r for r in proposal.backtest_after.get("by_band", [])}
    if before_bands:
        lines += ["", "Held-out backtest by band (win rate, deals):",
                  f"  {'band':<14}{'current':>18}{'proposed':>18}"]
        for band_id in before_bands:
            b, a = before_bands[band_id], after_bands.get(band_id, {})
            lines.append(
                f"  {band_id:<14}{pct(b['win_rate']) + ' of ' + str(b['deals']):>18}"
                f"{pct(a.get('win_rate')) + ' of ' + str(a.get('deals', 0)):>18}"
            )
    lines.append("")
    if proposal.too_few_held_out:
        won = proposal.test_won
        lines.append(f"Verdict: too few held-out deals to judge ({won} won, "
                     f"{proposal.test_deals - won} not; need {MIN_HELD_OUT_EACH} of each); "
                     "keep the current ruleset, or hold out more with --holdout.")
    elif proposal.improved:
        gain = metrics["auc"]["after"] - metrics["auc"]["before"]
        lines.append(f"Verdict: the proposal ranks held-out deals better (AUC +{gain:.3f}).")
    else:
        lines.append("Verdict: no improvement on the held-out accounts; keep the current "
                     "ruleset.")
    return "\n".join(lines) + "\n"


def _write(path: str, text: str) -> None:
    with replacing(path) as handle:
        handle.write(text)


@click.command("calibrate")
@ruleset_argument
@snapshots_option
@outcomes_option
@horizon_option
@click.option("--holdout", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.3, show_default=True,
              help="Share of accounts held out to judge the proposal (never used to fit).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the account split (the same seed gives the same split).")
@click.option("--fit-bands", is_flag=True,
              help="Also move the band cut-offs (so each band keeps its share of "
              "accounts). Without it only the weights are tuned and the cut-offs stay.")
@click.option("--keep-bands", is_flag=True, hidden=True,
              help="The default now: fit the weights only (kept for old scripts).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the proposed ruleset to this file.")
@click.option("--write", "write_in_place", is_flag=True,
              help="Overwrite RULESET with the proposal (only when it does better on the "
              "held-out accounts).")
@text_or_json_option("text: the comparison and the diff; json: all figures.")
@scheduled_option
@engine_option
@strict_option
def calibrate_command(
    ruleset: str,
    snapshots: str,
    outcomes: str,
    horizon: int,
    holdout: float,
    seed: int,
    fit_bands: bool,
    keep_bands: bool,
    output: str | None,
    write_in_place: bool,
    fmt: str,
    scheduled: tuple[str, ...],
    engine: str,
    strict: bool,
) -> None:
    """Fit RULESET's category weights (band cut-offs too with --fit-bands) to past
    snapshots and outcomes.

    Accounts are split with --seed: the weights are fitted on the others (maximum
    likelihood, scipy) and the proposal is judged on the --holdout share by the AUC of
    the score against won, with the backtest before and after. The proposal is an edit of
    the YAML that keeps every comment and the layout; it is printed as a diff, written to
    --output, and written over RULESET only with --write. Needs the calibrate extra
    (pip install 'upsell-rules[calibrate]'). Exit status: 0 done, 1 bad rows were skipped
    or --write refused a proposal that did not improve, 2 cannot run.
    """
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry)
    doc, findings = load_yaml(ruleset)
    if doc is None:
        print_diagnostics(findings, sys.stderr)
        raise SystemExit(EXIT_USAGE)
    evaluator = evaluator_or_exit(rules, registry, engine)
    inputs = rules.input_types()
    accounts = AccountReader(registry, inputs, source_options=rules.sources,
                             signals=rules.signals, encoding=input_encoding())
    header_check(rules, registry, accounts, [snapshots], strict, also_read=[SNAPSHOT_FIELD])
    reader = SnapshotReader(accounts, scheduled or SCHEDULED_FIELDS)
    try:
        with counting("reading the snapshots", records_total([snapshots])) as reading:
            items: list[Snapshot | RecordError] = list(reading.track(reader.read(snapshots)))
    except InputError as exc:
        usage_error(str(exc))
    with counting("deciding the snapshots", len(items)) as deciding:
        replay = evaluate_snapshots(evaluator, deciding.track(items), report_error)
    history = outcomes_or_exit(registry, outcomes)
    future_note(replay)
    shape = shape_of(rules)
    try:
        with working("fitting the weights"):
            proposal = propose(doc, replay.points, history, shape, horizon_days=horizon,
                               holdout=holdout, seed=seed, fit_bands=fit_bands)
    except CalibrationError as exc:
        usage_error(str(exc))
    proposed, problems = check_ruleset(ruleset, registry, text=proposal.text)
    if proposed is None or any(p.is_error for p in problems):
        print_diagnostics(problems, sys.stderr)
        usage_error("the proposal does not validate; nothing written")
    after_evaluator = evaluator_or_exit(proposed, registry, engine)
    held_out = [s for s in items
                if isinstance(s, Snapshot) and s.account.account_id in proposal.split.test]
    with counting("deciding the held-out snapshots again", len(held_out)) as deciding:
        after = evaluate_snapshots(after_evaluator, deciding.track(held_out))
    judge(proposal, replay.points, after.points, history, shape, shape_of(proposed), horizon)

    if fmt == "json":
        click.echo(json.dumps(proposal.to_dict(), indent=2))
    else:
        click.echo(render_text(proposal, f"{rules.name} {rules.version} ({ruleset})"), nl=False)
        if proposal.diff:
            click.echo("")
            click.echo(proposal.diff, nl=False)
    status = EXIT_FINDINGS if replay.errors or history.errors else EXIT_OK
    if output is not None:
        _write(output, proposal.text)
        click.echo(f"upsell-rules: proposal written to {output}", err=True)
    if write_in_place:
        if proposal.improved:
            _write(ruleset, proposal.text)
            click.echo(f"upsell-rules: {ruleset} updated", err=True)
        else:
            why = ("there are too few held-out deals to judge it"
                   if proposal.too_few_held_out
                   else "the proposal does not do better on the held-out accounts")
            click.echo(f"upsell-rules: {ruleset} left unchanged: {why}", err=True)
            status = EXIT_FINDINGS
    if output is None and not write_in_place:
        click.echo("upsell-rules: nothing written (use --output FILE, or --write to update "
                   "the ruleset)", err=True)
    raise SystemExit(status)
