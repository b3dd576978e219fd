"""``upsell-rules snooze``: hold an account back from delivery until a date."""

from __future__ import annotations

from datetime import date

import click

from upsell_rules.cli.exits import EXIT_OK
from upsell_rules.cli.options import IsoDate
from upsell_rules.cli.state_common import open_store, required_state_option


@click.command("snooze")
@click.argument("account")
@click.option("--until", "until", type=IsoDate(), required=True,
              help="Deliver nothing for the account before this date (YYYY-MM-DD).")
@click.option("--reason", required=True, help="Why (shown by log and in the queue's history).")
@click.option("--play", default=None, metavar="PLAY",
              help="Snooze only this play (default: every play).")
@required_state_option
def snooze_command(account: str, until: date, reason: str, play: str | None,
                   state: str) -> None:
    """Snooze ACCOUNT: nothing is delivered for it until --until.

    The account stays in the queue (dry-run --state, run --state) with the status
    "snoozed until DATE"; a transition it makes meanwhile is delivered on that date if
    it still holds. Undo with unsnooze.
    """
    store = open_store(state)
    try:
        store.add_hold(account, "snooze", until.isoformat(), reason, "snooze command",
                       date.today().isoformat(), play)
    finally:
        store.close()
    what = f"play {play} of {account}" if play else account
    click.echo(f"snoozed {what} until {until.isoformat()}: {reason}")
    raise SystemExit(EXIT_OK)
