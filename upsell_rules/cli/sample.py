"""``upsell-rules sample``: write N synthetic accounts in the data contract."""

from __future__ import annotations

import os
from datetime import date

import click

from upsell_rules.cli.exits import usage_error
from upsell_rules.cli.options import IsoDate
from upsell_rules.io.synthetic import generate_accounts, write_csv, write_jsonl


@click.command("sample")
@click.option("--accounts", "count", type=click.IntRange(min=0), required=True,
              help="How many accounts to write.")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Random seed: the same seed, count and date give the same file.")
@click.option("--as-of", "as_of", type=IsoDate(), required=True,
              help="The date the accounts are generated around (YYYY-MM-DD).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True,
              help="File to write (.jsonl or .csv).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="File format (default: from the --output extension, else jsonl).")
def sample_command(count: int, seed: int, as_of: date, output: str, fmt: str | None) -> None:
    """Write --accounts synthetic accounts to --output, deterministic by --seed.

    The accounts are plausible B2B SaaS customers in data contract v1 (plans, seat and
    usage histories, health, renewals, red flags at realistic rates), for trying
    rulesets and for benchmarks. Nothing depends on the clock or the machine.
    """
    if fmt is None:
        fmt = "csv" if output.lower().endswith(".csv") else "jsonl"
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        usage_error(f"--output {output}: folder {folder} does not exist")
    writer = write_csv if fmt == "csv" else write_jsonl
    written = writer(output, generate_accounts(count, seed, as_of))
    click.echo(f"wrote {written} accounts to {output} ({fmt}, seed {seed}, as of "
               f"{as_of.isoformat()})", err=True)
