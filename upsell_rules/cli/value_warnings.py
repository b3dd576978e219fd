"""The values a run left out of accounts, said once per field rather than once per row.

A reader leaves a value out of an account (the signal is missing for it) when the value
does not parse or is outside its signal's range, and records it in the decision's
``data_warnings``. On the terminal the first few of each field are printed, located; when
a whole column is in another format (US dates, ``$41,500``), the rest would be thousands
of lines saying the same thing, so they are counted instead and said in one line per
field at the end, with the total. Nothing is lost: every decision still carries its own.
"""

from __future__ import annotations

import click

from upsell_rules.io.account import WarningLine
from upsell_rules.safetext import printable

#: Located lines printed per field before the rest are only counted.
SHOWN_PER_FIELD = 5


class ValueWarnings:
    """Prints values left out of accounts: the first :data:`SHOWN_PER_FIELD` of each field,
    then one line per field for the rest (:meth:`finish`). Callable as a reader's
    ``on_warning`` (each line knows its field: ``io.account.WarningLine``)."""

    def __init__(self, shown: int = SHOWN_PER_FIELD) -> None:
        self.shown = shown
        #: Values left out so far, by field.
        self.counts: dict[str, int] = {}
        self.finished = False

    def __call__(self, line: WarningLine) -> None:
        self.note(line.field, line)

    def note(self, field: str, line: str) -> None:
        """Count one value left out of ``field``; print its located ``line`` if among the
        first of that field."""
        count = self.counts[field] = self.counts.get(field, 0) + 1
        if count <= self.shown:
            click.echo(f"upsell-rules: warning: {printable(line)}", err=True)

    def total(self) -> int:
        """Values left out in all."""
        return sum(self.counts.values())

    def finish(self) -> None:
        """One line per field with more values left out than were printed (once)."""
        if self.finished:
            return
        self.finished = True
        for field, count in self.counts.items():
            if count > self.shown:
                name = printable(field) or "values"
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
