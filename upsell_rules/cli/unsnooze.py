"""``upsell-rules unsnooze``: end an account's snoozes, or one snooze by its number."""

from __future__ import annotations

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, usage_error
from upsell_rules.cli.state_common import changing, open_store, required_state_option
from upsell_rules.safetext import printable
from upsell_rules.state.store import StateStore


def _end_one(store: StateStore, hold_id: int, account: str | None) -> str:
    """End snooze ``hold_id`` (of ``account``, when named); the line to print."""
    found = [row for row in store.snoozes(account, ended=True) if row.hold_id == hold_id]
    if not found:
        whose = f" of {printable(account)}" if account else ""
        click.echo(f"upsell-rules: no snooze {hold_id}{whose} in state store {store.shown} "
                   "(upsell-rules snoozes lists them)", err=True)
        raise SystemExit(EXIT_FINDINGS)
    row = found[0]
    if not store.end_snooze(hold_id):
        click.echo(f"upsell-rules: snooze {hold_id} of {printable(row.account_id)} was "
                   "already ended", err=True)
        raise SystemExit(EXIT_FINDINGS)
    what = f"play {row.play} of " if row.play else ""
    return printable(f"unsnoozed {what}{row.account_id} (snooze {hold_id}, until "
                     f"{row.until}: {row.reason})")


@click.command("unsnooze")
@click.argument("account", required=False)
@click.option("--play", default=None, metavar="PLAY",
              help="End only the snoozes on this play (default: every snooze).")
@click.option("--id", "hold_id", type=click.IntRange(min=1), default=None, metavar="N",
              help="End only snooze number N (the number upsell-rules snoozes shows).")
@required_state_option
def unsnooze_command(account: str | None, play: str | None, hold_id: int | None,
                     state: str) -> None:
    """End ACCOUNT's snoozes, or one snooze by its number (--id N).

    The account's next run delivers what changed meanwhile. upsell-rules snoozes lists
    the snoozes with their numbers. Exit status 1 when there was no snooze to end.
    """
    if account is None and hold_id is None:
        usage_error("name the ACCOUNT whose snoozes to end, or --id N for one snooze "
                    "(upsell-rules snoozes lists them with their numbers)")
    if hold_id is not None and play is not None:
        usage_error("--play and --id do not go together: a numbered snooze is one snooze")
    store = open_store(state, create=False)
    try:
        with changing(store, "No snooze was ended"):
            if hold_id is not None:
                done = _end_one(store, hold_id, account)
            else:
                assert account is not None
                ended = store.end_holds(account, "snooze", play)
                done = printable(f"unsnoozed {account} ({ended} snooze"
                                 f"{'s' if ended > 1 else ''} ended)") if ended else ""
    finally:
        store.close()
    if not done:
        on = printable(f" on {play}") if play else ""
        click.echo(f"upsell-rules: {printable(account or '')} has no snooze{on}", err=True)
        raise SystemExit(EXIT_FINDINGS)
    click.echo(done)
    raise SystemExit(EXIT_OK)
