"""``upsell-rules sample-history``: write a history with planted ground truth."""

from __future__ import annotations

from datetime import date

import click

from upsell_rules.cli.exits import EXIT_OK, usage_error
from upsell_rules.cli.loading import registry_with_report
from upsell_rules.cli.options import IsoDate
from upsell_rules.cli.progress import counting
from upsell_rules.errors import UpsellRulesError
from upsell_rules.history.sample_history import TRUTHS, generate_history, write_history


@click.command("sample-history")
@click.option("--accounts", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="How many accounts to simulate.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed: the same seed gives byte-identical files.")
@click.option("--output-dir", required=True, type=click.Path(file_okay=False),
              help="Folder for snapshots, outcomes and truth.json (created if needed).")
@click.option("--months", type=click.IntRange(1, 60), default=12, show_default=True,
              help="Monthly snapshots per account.")
@click.option("--start", type=IsoDate(), default="2025-11-01", show_default=True,
              help="Date of the first snapshot.")
@click.option("--truth", type=click.Choice(TRUTHS), default="band", show_default=True,
              help="band: win chance set by the band (act_now 0.55, warming 0.35, monitor "
              "0.20, wait 0.10); product: set mostly by the product category score.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              show_default=True)
@click.option("--ruleset", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Ruleset that decides each snapshot (default: the bundled "
              "upsell_timing.yaml).")
def sample_history_command(
    accounts: int, seed: int, output_dir: str, months: int, start: date, truth: str,
    fmt: str, ruleset: str | None,
) -> None:
    """Write a generated history with planted win rates, to try backtest and calibrate.

    Simulates --accounts accounts month by month and writes snapshots, outcomes drawn
    from planted win probabilities, and truth.json saying what was planted (see
    docs/backtest.md). The same options give byte-identical files.
    """
    registry = registry_with_report()
    try:
        with counting("generating the history", accounts) as tally:
            history = generate_history(accounts, seed, start, months, truth, ruleset,
                                       registry, on_account=tally.advance)
    except (UpsellRulesError, ValueError) as exc:
        usage_error(str(exc))
    paths = write_history(history, output_dir, fmt)
    deals = sum(1 for row in history.outcomes if "outcome" in row)
    click.echo(
        f"wrote {len(history.snapshots)} snapshots of {accounts} accounts and {deals} deals "
        f"to {', '.join(str(p) for p in paths)}",
        err=True,
    )
    raise SystemExit(EXIT_OK)
