"""``upsell-rules feedback``: import CRM outcomes (closed lost, not now, won) from a CSV."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, usage_error
from upsell_rules.cli.loading import load_or_exit, registry_with_report
from upsell_rules.cli.options import ruleset_argument
from upsell_rules.cli.state_common import changing, open_store, required_state_option
from upsell_rules.ruleset.memory import FeedbackEffect, outcome_key
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.safetext import printable

if TYPE_CHECKING:
    from upsell_rules.state.store import StateStore

_COLUMNS = {"account": ("account_id", "account"), "outcome": ("outcome",),
            "date": ("date", "on", "closed_on")}


#: What an import stopped by a store it cannot write leaves behind.
_STOPPED_AT = ("The import stopped at {where}: each row before it was imported whole, "
               "that row and the rest were not; importing the file again imports them")


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _holds(effect: FeedbackEffect, on: date, label: str) -> list[tuple[str, str, str]]:
    """The snooze and cooldown an outcome starts: ``(kind, until, reason)``."""
    out = []
    for kind, days in (("snooze", effect.snooze_days), ("cooldown", effect.cooldown_days)):
        if days:
            out.append((kind, (on + timedelta(days=days)).isoformat(), f"feedback: {label}"))
    return out


def _note_unknown(imported: list[str], known: list[str]) -> None:
    """Name the imported accounts no run has decided (a typo, or not exported yet)."""
    seen = set(known)
    unknown = sorted({a for a in imported if a not in seen})
    if unknown:
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        names = ", ".join(printable(a) for a in unknown[:10])
        click.echo(f"upsell-rules: note: {len(unknown)} imported account(s) no run has "
                   f"decided yet: {names}{more} (their outcome applies if they appear)",
                   err=True)


def _same_ruleset(store: StateStore, rules: Ruleset) -> None:
    """Refuse (exit 2) a ruleset other than the one the store's runs follow: its
    memory.feedback effects are not the ones the store's decisions are held by."""
    from upsell_rules.state.daily import follows_another

    other = follows_another(store, rules)
    if other is not None:
        run_id, as_of, name = other
        usage_error(
            f"state store {store.shown} follows ruleset '{name}' (run {run_id}, as of "
            f"{as_of}), not '{rules.name}' ({rules.path}); nothing was imported. Import "
            f"the outcomes with the ruleset the store's runs use ('{name}'), or name the "
            "store of this ruleset with --state"
        )


@click.command("feedback")
@ruleset_argument
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@required_state_option
def feedback_command(ruleset: str, csv_file: str, state: str) -> None:
    """Import CRM outcomes from FILE.csv (columns account_id, outcome, date).

    Each outcome has the effect the ruleset's memory.feedback section gives it (for
    example closed_lost snoozes the account 90 days from the date, won closes its
    outreach and starts a cooldown). Importing the same row twice changes nothing.
    A bad row is reported with its line and the other rows are imported. Exit status:
    0 when every row was imported, 1 when some were not, 2 when the file cannot be used.
    """
    rules = load_or_exit(ruleset, registry_with_report())
    effects = rules.memory.feedback
    known = ", ".join(sorted(effects)) or "none: add memory.feedback to the ruleset"
    store = open_store(state)
    imported = repeated = bad = 0
    fresh: list[str] = []
    try:
        _same_ruleset(store, rules)
        with open(csv_file, encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            cols = {key: _column(header, names) for key, names in _COLUMNS.items()}
            missing = [key for key, col in cols.items() if col is None]
            if missing:
                click.echo(f"upsell-rules: error: {csv_file}:1: no {missing[0]} column "
                           "(expected account_id, outcome, date)", err=True)
                raise SystemExit(2)
            for row in rows:
                line = rows.line_num
                where = f"{csv_file}:{line}"
                try:
                    account, outcome, when = (row[cols[k] or 0].strip() for k in _COLUMNS)
                except IndexError:
                    click.echo(f"upsell-rules: error: {where}: too few columns", err=True)
                    bad += 1
                    continue
                effect = effects.get(outcome_key(outcome))
                problem = None
                if not account:
                    problem = "account_id: empty"
                elif effect is None:
                    problem = f"outcome: {outcome!r} has no effect in the ruleset ({known})"
                elif not re.fullmatch(r"\d{4}-\d{2}-\d{2}", when):
                    problem = f"date: {when!r} is not a date (expected YYYY-MM-DD)"
                if problem is None and effect is not None:
                    try:
                        on = date.fromisoformat(when)
                    except ValueError:
                        problem = f"date: {when!r} is not a date (expected YYYY-MM-DD)"
                    else:
                        with changing(store, _STOPPED_AT.format(where=where)):
                            fresh_row = store.add_feedback(
                                account, effect.outcome, when, where,
                                _holds(effect, on, outcome.strip()), effect.close)
                        if fresh_row:
                            imported += 1
                            fresh.append(account)
                        else:
                            repeated += 1
                        continue
                click.echo(f"upsell-rules: error: {where}: {problem}", err=True)
                bad += 1
        _note_unknown(fresh, store.known_accounts())
    finally:
        store.close()
    click.echo(f"feedback: {imported} imported, {repeated} already imported, {bad} failed")
    raise SystemExit(EXIT_FINDINGS if bad else EXIT_OK)
