"""``upsell-rules unsnooze``: end an account's snoozes."""

from __future__ import annotations

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK
from upsell_rules.cli.state_common import open_store, required_state_option


@click.command("unsnooze")
@click.argument("account")
@click.option("--play", default=None, metavar="PLAY",
              help="End only the snooze on this play (default: every snooze).")
@required_state_option
def unsnooze_command(account: str, play: str | None, state: str) -> None:
    """End ACCOUNT's snoozes; its next run delivers what changed meanwhile.

    Exit status 1 when the account had no snooze to end.
    """
    store = open_store(state, create=False)
    try:
        ended = store.end_holds(account, "snooze", play)
    finally:
        store.close()
    if not ended:
        click.echo(f"upsell-rules: {account} has no snooze{' on ' + play if play else ''}",
                   err=True)
        raise SystemExit(EXIT_FINDINGS)
    click.echo(f"unsnoozed {account} ({ended} snooze{'s' if ended > 1 else ''} ended)")
    raise SystemExit(EXIT_OK)
