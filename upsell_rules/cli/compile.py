"""``upsell-rules compile``: a ruleset as one SQL query (and dbt model, and table DDL)."""

from __future__ import annotations

from datetime import date

import click

from upsell_rules.cli.exits import usage_error
from upsell_rules.cli.loading import load_or_exit, parse_overrides, registry_with_report
from upsell_rules.cli.options import as_of_option, resolve_as_of, ruleset_argument, set_option
from upsell_rules.sql.dialects import DIALECTS


def _table_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """``--table`` checked as a name before anything is loaded (never read as SQL)."""
    from upsell_rules.sql.tables import parse_table_name

    try:
        parse_table_name(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@click.command("compile")
@ruleset_argument
@click.option("--dialect", type=click.Choice(list(DIALECTS)), default="duckdb",
              show_default=True, help="SQL dialect to write the query in.")
@as_of_option
@click.option("--table", default="accounts", show_default=True, callback=_table_name,
              help="Table (or view) of accounts in the data contract the query reads: "
              "TABLE, SCHEMA.TABLE or DATABASE.SCHEMA.TABLE (\"quote\" odd parts).")
@click.option("--dbt", "dbt_dir", type=click.Path(file_okay=False), default=None,
              help="Write a dbt model of the query, its tests (schema .yml and a score "
              "range test) and the source of --table into this dbt project directory.")
@click.option("--ddl", is_flag=True,
              help="Print CREATE TABLE for --table (the data contract's fields plus the "
              "ruleset's own inputs) instead of the query.")
@set_option
def compile_command(ruleset: str, dialect: str, as_of: date | None, table: str,
                    dbt_dir: str | None, ddl: bool, overrides: tuple[str, ...]) -> None:
    """Compile RULESET to SQL: one query deciding every account of a table.

    The query returns one row per account: account_id, account_name, owner, score,
    raw_score, band, blocked, capped_at, one score_<category> column per category, the
    first fired trigger and all of them, the failed gates, the fired red flags (ids
    joined by |), the play and its owner role (action_owner). The text of a decision
    (evidence, narrative, message) is not computed. See docs/sql.md.

    \b
    Examples:
      upsell-rules compile upsell_timing --dialect snowflake --as-of 2026-11-02
      upsell-rules compile upsell_timing --dialect postgres --ddl
      upsell-rules compile upsell_timing --dialect bigquery --dbt my_dbt_project
    """
    from upsell_rules.sql import NotCompilable, compile_ruleset
    from upsell_rules.sql.dbt import write_dbt
    from upsell_rules.sql.ddl import create_table

    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry, parse_overrides(overrides))
    if ddl:
        click.echo(create_table(dialect, table, rules))
        return
    try:
        if dbt_dir is not None:
            try:
                files = write_dbt(dbt_dir, rules, registry, dialect, table)
            except (ValueError, OSError) as exc:
                usage_error(f"--dbt {dbt_dir}: {exc}")
            for name in files.all():
                click.echo(f"wrote {dbt_dir.rstrip('/')}/{name}")
            return
        click.echo(compile_ruleset(rules, registry, dialect=dialect,
                                   as_of=resolve_as_of(as_of), table=table) + ";")
    except NotCompilable as exc:
        usage_error(f"{ruleset}: cannot compile to SQL: {exc}")
