"""``upsell-rules replay``: decide a logged run again from its stored inputs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from typing import Any

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, usage_error
from upsell_rules.cli.loading import evaluator_or_exit, load_or_exit, registry_with_report
from upsell_rules.cli.output_file import output_stream
from upsell_rules.cli.state_common import open_store, required_state_option
from upsell_rules.engine.stream import decide_all
from upsell_rules.errors import Location, RecordError
from upsell_rules.io.formatters import to_json
from upsell_rules.io.records import Account
from upsell_rules.state.history import input_values, logged_run
from upsell_rules.state.store import StateError


@click.command("replay")
@click.argument("run_id", type=click.IntRange(min=1))
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the decisions here (JSON Lines) instead of stdout.")
@required_state_option
def replay_command(run_id: int, output: str | None, state: str) -> None:
    """Decide logged run RUN_ID again, from the inputs and ruleset the store kept.

    Prints the decisions as JSON Lines, in the run's order, and checks each against the
    digest logged at the time. Exit status: 0 when every decision is byte-identical, 1
    when any differs (named on stderr), 2 when the run or its inputs are gone (pruned
    by --keep-inputs-days) or the ruleset cannot be loaded.
    """
    store = open_store(state, create=False)
    try:
        run = logged_run(store, run_id)
        records = [(account, input_values(store, digest), extra, want)
                   for account, digest, extra, want in run.decisions]
    except StateError as exc:
        usage_error(str(exc))
    finally:
        store.close()
    gone = [account for account, values, _, _ in records if values is None]
    if gone or run.ruleset_text is None:
        what = f"the inputs of {len(gone)} account(s) (first {gone[0]})" if gone else "its ruleset"
        usage_error(f"run {run_id}: {what} are no longer in the store "
                    "(pruned by --keep-inputs-days)")
    registry = registry_with_report()
    rules = load_or_exit(run.ruleset_path, registry, text=run.ruleset_text)
    if rules.sha256 != run.ruleset_sha256:
        usage_error(f"run {run_id}: the stored ruleset loads with sha256 "
                    f"{rules.sha256}, not {run.ruleset_sha256}")
    evaluator = evaluator_or_exit(rules, registry, run.engine)

    def accounts() -> Iterator[Account]:
        for seq, (_, values, _, _) in enumerate(records, start=1):
            assert values is not None
            yield Account(values["id"], values["name"], values["owner"], values["values"],
                          Location(f"run {run_id}", seq, 0))

    differ: list[str] = []
    as_of = date.fromisoformat(run.as_of)
    with output_stream(output, data=True) as out:
        decided = decide_all(evaluator, accounts(), as_of)
        for item, (account, _, extra, want) in zip(decided, records, strict=True):
            if isinstance(item, RecordError):
                click.echo(f"upsell-rules: error: {item}", err=True)
                differ.append(account)
                continue
            decision: dict[str, Any] = item
            if extra is not None:
                decision["inputs"] = extra
            line = to_json(decision)
            if hashlib.sha256(line.encode("utf-8")).hexdigest() != want:
                differ.append(account)
            out.write(line + "\n")
    if differ:
        more = f" and {len(differ) - 10} more" if len(differ) > 10 else ""
        click.echo(f"upsell-rules: run {run_id}: {len(differ)} decision(s) differ from the "
                   f"log: {', '.join(differ[:10])}{more}", err=True)
        raise SystemExit(EXIT_FINDINGS)
    click.echo(f"replay: run {run_id} ({run.as_of}): {len(records)} decisions, all identical "
               "to the log", err=True)
    raise SystemExit(EXIT_OK)
