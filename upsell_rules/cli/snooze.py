"""``upsell-rules snooze``: hold an account back from delivery until a date."""

from __future__ import annotations

from datetime import date

import click

from upsell_rules.cli.exits import EXIT_OK, usage_error
from upsell_rules.cli.options import IsoDate, resolve_as_of
from upsell_rules.cli.state_common import changing, open_store, required_state_option
from upsell_rules.errors import did_you_mean
from upsell_rules.safetext import printable
from upsell_rules.state.store import StateStore


def _check(store: StateStore, account: str, until: date, play: str | None) -> None:
    """Refuse (exit 2, nothing written) a snooze that could never hold anything."""
    accounts = store.known_accounts()
    if account not in accounts:
        usage_error(printable(f"'{account}' is not in the decision log of state store "
                              f"{store.shown}{did_you_mean(account, accounts)}; snooze an "
                              "account a run has decided"))
    latest = store.latest_run()
    if latest is not None and until.isoformat() <= latest[1]:
        usage_error(f"--until {until.isoformat()} is not after the store's latest run "
                    f"(run {latest[0]}, as of {latest[1]}): the snooze would hold nothing")
    if play is not None:
        plays = store.known_plays()
        if play not in plays:
            usage_error(printable(f"--play '{play}' is not a play of the logged rulesets"
                                  f"{did_you_mean(play, plays)}"))


@click.command("snooze")
@click.argument("account")
@click.option("--until", "until", type=IsoDate(), required=True,
              help="Deliver nothing for the account before this date (YYYY-MM-DD).")
@click.option("--reason", required=True, help="Why (shown by log and in the queue's history).")
@click.option("--play", default=None, metavar="PLAY",
              help="Snooze only this play (default: every play).")
@click.option("--on", "made_on", type=IsoDate(), default=None,
              help="The day the snooze is recorded as made (YYYY-MM-DD; default: today). "
                   "snoozes shows it.")
@required_state_option
def snooze_command(account: str, until: date, reason: str, play: str | None,
                   made_on: date | None, state: str) -> None:
    """Snooze ACCOUNT: nothing is delivered for it until --until.

    The account stays in the queue (dry-run --state, run --state) with the status
    "snoozed until DATE"; a transition it makes meanwhile is delivered on that date if
    it still holds. snoozes lists them; unsnooze ends them. ACCOUNT must be in the
    store's decision log, --until after the store's latest run and --play a play of a
    logged ruleset; the store must exist (a run creates it). --on records the day
    it was made (default today), so a script or a test writes the same store every time.
    """
    if not reason.strip():
        usage_error("--reason is empty: say why, the team reads it in snoozes and log")
    store = open_store(state, create=False)
    try:
        _check(store, account, until, play)
        with changing(store, "Nothing was written"):
            store.add_hold(account, "snooze", until.isoformat(), reason, "snooze command",
                           resolve_as_of(made_on).isoformat(), play)
    finally:
        store.close()
    what = f"play {play} of {account}" if play else account
    click.echo(printable(f"snoozed {what} until {until.isoformat()}: {reason}"))
    raise SystemExit(EXIT_OK)
