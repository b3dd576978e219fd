"""The values a run left out of accounts, said once per field rather than once per row.

A reader leaves a value out of an account (the signal is missing for it) when the value
does not parse or is outside its signal's range, and records it in the decision's
``data_warnings``. On the terminal the first few of each field are printed, located; when
a whole column is in another format (US dates, ``$41,500``), the rest would be thousands
of lines saying the same thing, so they are counted instead and said in one line per
field at the end, with the total. Nothing is lost: every decision still carries its own.
When no decision had a field at all (every value left out, the other cells blank), that
line says so instead, with what it silences in the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import click

from upsell_rules.io.account import WarningLine
from upsell_rules.io.columns import effects_text
from upsell_rules.safetext import printable

#: Located lines printed per field before the rest are only counted.
SHOWN_PER_FIELD = 5


class ValueWarnings:
    """Prints values left out of accounts: the first :data:`SHOWN_PER_FIELD` of each field,
    then one line per field for the rest (:meth:`finish`). Callable as a reader's
    ``on_warning`` (each line knows its field: ``io.account.WarningLine``); told each
    decision's missing signals (:meth:`decided`), it can say a field no account had."""

    def __init__(self, shown: int = SHOWN_PER_FIELD, *,
                 silences: Callable[[str], Sequence[str]] | None = None) -> None:
        self.shown = shown
        #: Values left out so far, by field.
        self.counts: dict[str, int] = {}
        self.finished = False
        #: Decisions passed to :meth:`decided`, how many of them lacked each signal, and
        #: decisions counted without their signals (no field can then be said missing
        #: from every one).
        self.decisions = 0
        self.lacking: dict[str, int] = {}
        self.unseen = 0
        #: What the rules do without a field (``io.columns.silenced``), said when no
        #: decision had it (:meth:`finish`).
        self.silences = silences

    def __call__(self, line: WarningLine) -> None:
        self.note(line.field, line)

    def note(self, field: str, line: str) -> None:
        """Count one value left out of ``field``; print its located ``line`` if among the
        first of that field."""
        count = self.counts[field] = self.counts.get(field, 0) + 1
        if count <= self.shown:
            click.echo(f"upsell-rules: warning: {printable(line)}", err=True)

    def decided(self, missing: Iterable[str] | None, count: int = 1) -> None:
        """Count ``count`` decisions and the signals each was made without
        (``missing_signals``; ``None``: not known, as for a run of records DuckDB wrote)."""
        self.decisions += count
        if missing is None:
            self.unseen += count
            return
        lacking = self.lacking
        for name in missing:
            lacking[name] = lacking.get(name, 0) + count

    def unreadable(self) -> list[str]:
        """Fields with values left out that no decision had (every one passed to
        :meth:`decided`, none of them unknown)."""
        if not self.decisions or self.unseen:
            return []
        return [field for field in self.counts
                if self.lacking.get(field, 0) >= self.decisions]

    def total(self) -> int:
        """Values left out in all."""
        return sum(self.counts.values())

    def finish(self) -> None:
        """One line per field with more values left out than were printed (once).

        A field that no decision had (each value left out or blank: a whole column in
        another format, say US dates) is said as such, with what that does to the rules,
        as the header check says it of a column no record carries: every account was
        decided as if the column were not there. That needs every decision passed to
        :meth:`decided`; a command that does not pass them gets the count line only.
        """
        if self.finished:
            return
        self.finished = True
        unreadable = self.unreadable()
        for field, count in self.counts.items():
            name = printable(field) or "values"
            if field in unreadable:
                effect = printable(effects_text(
                    self.silences(field) if self.silences is not None else ()))
                shown = "shown above" if count <= self.shown else (
                    f"the first {self.shown} shown above")
                others = "" if count >= self.decisions else "; the other accounts have none"
                click.echo(
                    f"upsell-rules: warning: {name}: not one account's value could be read "
                    f"({count:,} left out, {shown}{others}), so every account was decided "
                    f"without it: {effect}", err=True)
            elif count > self.shown:
                more = count - self.shown
                click.echo(
                    f"upsell-rules: warning: {name}: {more:,} more value{_s(more)} left out "
                    f"as above, {count:,} in all (the first {self.shown} are shown; each "
                    "decision lists its own under data_warnings)", err=True)


def left_out_suffix(warnings: ValueWarnings | None) -> str:
    """What the summary line adds for values left out (``; 2,000 values left out ...``)."""
    total = warnings.total() if warnings is not None else 0
    if not total:
        return ""
    return f"; {total:,} value{_s(total)} left out (see warnings)"


def _s(count: int) -> str:
    return "" if count == 1 else "s"
