"""``upsell-rules check-data``: profile an export against a ruleset before using it."""

from __future__ import annotations

import json
from datetime import date

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, usage_error
from upsell_rules.cli.loading import account_reader, load_or_exit, registry_with_report
from upsell_rules.cli.options import (
    as_of_option,
    data_inputs_option,
    resolve_as_of,
    ruleset_argument,
)
from upsell_rules.errors import InputError, PluginError
from upsell_rules.io.columns import carried_fields, check_columns, signals_read, silenced
from upsell_rules.io.profile import profile, render


@click.command("check-data")
@ruleset_argument
@data_inputs_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def check_data_command(
    ruleset: str, data: tuple[str, ...], as_of: date | None, fmt: str
) -> None:
    """Profile the accounts in --data against RULESET, deciding nothing.

    Per signal the rules read: how many records carry it, values that do not parse
    (with examples) or are out of range, min / median / max; then the signals no record
    carries, or none carries readably, and the rules that can therefore never fire, and
    the records that fail.
    Exit status: 0 the data can be used as it is, 1 something would change decisions
    silently (a signal no record carries, a value left out) or a record fails, 2 the
    ruleset or data cannot be read.
    """
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry)
    reader = account_reader(rules, registry, as_of=resolve_as_of(as_of))
    wanted = signals_read(rules, registry)
    try:
        carried = carried_fields(reader, data, wanted)
        columns = check_columns(rules, registry, carried or [])
        result = profile(reader.read_all(data), wanted, columns)
        result.silenced = {name: silenced(rules, registry, name)
                           for name in result.unreadable()}
    except (InputError, PluginError) as exc:
        usage_error(str(exc))
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in render(result):
            click.echo(line)
    raise SystemExit(EXIT_FINDINGS if result.silent_changes or result.failed else EXIT_OK)
