"""``upsell-rules snoozes``: the snoozes a state store holds, numbered for ``unsnooze --id``."""

from __future__ import annotations

import json
from datetime import date

import click

from upsell_rules.cli.exits import EXIT_OK
from upsell_rules.cli.options import IsoDate, text_or_json_option
from upsell_rules.cli.state_common import open_store, required_state_option
from upsell_rules.safetext import printable
from upsell_rules.state.store import SnoozeRow


def snooze_status(row: SnoozeRow, day: str | None) -> str:
    """``active``, ``expired`` (its date is not after ``day``) or ``ended`` (unsnoozed)."""
    if row.ended:
        return "ended"
    return "expired" if day is not None and row.until <= day else "active"


def _line(row: SnoozeRow, status: str) -> str:
    what = f"play {row.play}" if row.play else "every play"
    state = "" if status == "active" else f" [{status}]"
    return printable(f"{row.hold_id}: {row.account_id} until {row.until}, {what}: "
                     f"{row.reason} (by {row.source} on {row.created_on})") + state


@click.command("snoozes")
@click.argument("account", required=False)
@click.option("--as-of", "as_of", type=IsoDate(), default=None,
              help="List the snoozes that hold on this date (default: the date of the "
              "store's latest run).")
@click.option("--all", "show_all", is_flag=True, default=False,
              help="Also list snoozes whose date has passed and those ended by unsnooze.")
@text_or_json_option("text: one line per snooze; json: an array of snoozes.")
@required_state_option
def snoozes_command(account: str | None, as_of: date | None, show_all: bool, fmt: str,
                    state: str) -> None:
    """List the active snoozes (of ACCOUNT, or of every account), numbered.

    A snooze is active while its date is after the day (the store's latest run, or
    --as-of): it holds the account's deliveries. Snoozes come from the snooze command
    and from CRM feedback. The number is what unsnooze --id ends. An empty list is not
    an error (exit 0; the text form says so on stderr).
    """
    store = open_store(state, create=False)
    try:
        latest = store.latest_run()
        rows = store.snoozes(account, ended=show_all)
    finally:
        store.close()
    day = as_of.isoformat() if as_of else (latest[1] if latest else None)
    listed = [(row, snooze_status(row, day)) for row in rows]
    if not show_all:
        listed = [(row, status) for row, status in listed if status == "active"]
    if fmt == "json":
        click.echo(json.dumps([
            {"id": row.hold_id, "account_id": row.account_id, "play": row.play,
             "until": row.until, "reason": row.reason, "source": row.source,
             "created_on": row.created_on, "status": status}
            for row, status in listed], indent=2, ensure_ascii=False))
        raise SystemExit(EXIT_OK)
    for row, status in listed:
        click.echo(_line(row, status))
    if not listed:
        whose = f" for {printable(account)}" if account else ""
        when = f" on {day}" if day else ""
        click.echo(f"upsell-rules: no {'' if show_all else 'active '}snooze{whose}{when} "
                   f"in state store {store.shown}", err=True)
    raise SystemExit(EXIT_OK)
