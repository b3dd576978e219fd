"""``upsell-rules log``: an account's decision history from the state store."""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict
from typing import Any

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK
from upsell_rules.cli.options import text_or_json_option
from upsell_rules.cli.state_common import open_store, required_state_option
from upsell_rules.safetext import printable
from upsell_rules.state.history import Entry, account_history, input_values
from upsell_rules.state.store import StateStore


def _state(entry: Entry) -> str:
    blocked = " blocked" if entry.blocked else ""
    return f"{entry.band}{blocked} {entry.score:g}"


def _changed_inputs(store: StateStore, old: Entry, new: Entry, limit: int = 3) -> list[str]:
    before, after = input_values(store, old.input_digest), input_values(store, new.input_digest)
    if before is None or after is None:
        return []
    out = []
    for name, value in after["values"].items():
        was = before["values"].get(name)
        if was != value and isinstance(value, int | float) and isinstance(was, int | float) \
                and not isinstance(value, bool):
            out.append(f"{name} {was:g} -> {value:g}")
    return out[:limit]


def describe(store: StateStore, account: str, entries: list[Entry]) -> list[str]:
    """The text history: one line per logged run, then each change of state explained."""
    lines = []
    for e in entries:
        delivered = f", delivered as {e.transition}" if e.transition else ""
        if e.transition and e.deliveries and all(d.status != "delivered" for d in e.deliveries):
            delivered = f", queued as {e.transition}"
        waiting = [d for d in e.deliveries if d.status != "delivered"]
        if waiting:
            delivered += "; pending for " + ", ".join(
                f"{d.sink} after {d.attempts} attempt(s)" + (f" ({d.detail})" if d.detail else "")
                for d in waiting)
        lines.append(f"{e.as_of} run {e.run_id}: {_state(e)}, play {e.play}, owner "
                     f"{e.owner or '-'}: {e.status}{delivered}")
    changes = []
    for old, new in itertools.pairwise(entries):
        if (old.band, old.blocked, old.play) == (new.band, new.blocked, new.play):
            continue
        why = [f"{t} fired" for t in new.triggers if t not in old.triggers]
        why += [f"{t} stopped" for t in old.triggers if t not in new.triggers]
        why += _changed_inputs(store, old, new)
        changes.append(f"{account}: {_state(old)} on {old.as_of} -> {_state(new)} on "
                       f"{new.as_of}" + (f": {', '.join(why)}" if why else ""))
    return lines + changes


@click.command("log")
@click.argument("account")
@text_or_json_option("text: one line per run and per change; json: entries.")
@required_state_option
def log_command(account: str, fmt: str, state: str) -> None:
    """Show ACCOUNT's decisions logged by run --state, oldest first, and what changed.

    Exit status 1 when the log has nothing for ACCOUNT.
    """
    store = open_store(state, create=False)
    try:
        entries = account_history(store, account)
        if not entries:
            click.echo(f"upsell-rules: no logged decision for {printable(account)} in "
                       f"{store.shown}",
                       err=True)
            raise SystemExit(EXIT_FINDINGS)
        if fmt == "json":
            data: list[dict[str, Any]] = [asdict(e) for e in entries]
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            for line in describe(store, account, entries):
                click.echo(printable(line))
        holds = store.holds_of(account)
    finally:
        store.close()
    for hold in holds if fmt == "text" else ():
        on = f" on play {hold.play}" if hold.play else ""
        click.echo(printable(f"{account}: {hold.kind}{on} until {hold.until}: {hold.reason}"))
    raise SystemExit(EXIT_OK)
