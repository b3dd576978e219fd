"""Progress bars on stderr for the steps that can take more than a moment.

A bar counts what is done against the total where the total is known (rows of a file,
accounts to generate): ``deciding the accounts ━━━━━━╺━━━ 6,200/10,000 0:00:03``. It is
drawn only when stderr is a terminal (never in pipes, files, CI logs or tests) and cleared
when the step ends, so it never mixes with the output. ``UPSELL_RULES_NO_PROGRESS=1``
turns it off; ``NO_COLOR`` draws it without colour or bold.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

#: Read this many bytes at a time when counting the rows of a file.
_CHUNK = 1 << 20

#: dry-run and run draw a bar only once this many accounts have been read (a small file
#: is decided before a bar would be seen).
LARGE_INPUT = 5000


def progress_wanted() -> bool:
    """True when a progress bar may be drawn on stderr."""
    return sys.stderr.isatty() and not os.environ.get("UPSELL_RULES_NO_PROGRESS")


def plain_console_kwargs() -> dict[str, Any]:
    """Console settings for ``NO_COLOR`` (no-color.org): no colour, and no bold or
    italics either (rich's own ``no_color`` keeps them)."""
    return {"color_system": None} if os.environ.get("NO_COLOR") else {}


class Tally:
    """What a step has done so far; the bar is redrawn every few items, not on each."""

    def __init__(self, bar: Any = None, task: Any = None, total: int | None = None) -> None:
        self.done = 0
        self._bar = bar
        self._task = task
        self._next = 0
        self._step = max(1, (total or 0) // 500) if total else 100

    def advance(self, count: int = 1) -> None:
        """``count`` more items are done."""
        self.update(self.done + count)

    def update(self, done: int) -> None:
        """``done`` items are done in all."""
        self.done = done
        if self._bar is not None and done >= self._next:
            self._next = done + self._step
            self._bar.update(self._task, completed=done)

    def track(self, items: Iterable[T]) -> Iterator[T]:
        """Yield ``items``, counting each one as it is taken."""
        for item in items:
            yield item
            self.advance()


@contextmanager
def counting(label: str, total: int | None = None) -> Iterator[Tally]:
    """A bar for ``label`` counting done/``total`` (a running count when the total is
    unknown) while the block runs; a silent :class:`Tally` when no bar is wanted."""
    if not progress_wanted():
        yield Tally()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True, **plain_console_kwargs())
    columns: list[Any] = [TextColumn("{task.description}")]
    if total:
        columns += [BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("left"), TimeRemainingColumn()]
    else:
        columns += [SpinnerColumn(), TextColumn("{task.completed:,}"), TimeElapsedColumn()]
    # stdout stays where it is: only stderr lines are printed above the bar.
    with Progress(*columns, console=console, transient=True, redirect_stdout=False) as bar:
        task = bar.add_task(label, total=total or None)
        tally = Tally(bar, task, total)
        yield tally
        bar.update(task, completed=tally.done)


class _Deferred(Tally):
    """A tally that starts its bar once ``after`` items are done."""

    def __init__(self, stack: ExitStack, label: str, paths: Sequence[str], after: int) -> None:
        super().__init__()
        self._stack = stack
        self._label = label
        self._paths = paths
        self._after = after
        self._inner: Tally | None = None
        self._wanted = progress_wanted()

    def update(self, done: int) -> None:
        """``done`` items are done in all; the bar appears at ``after``."""
        self.done = done
        if self._inner is None and self._wanted and done >= self._after:
            total = count_records(self._paths)
            self._inner = self._stack.enter_context(counting(self._label, total))
        if self._inner is not None:
            self._inner.update(done)


@contextmanager
def counting_large(label: str, paths: Sequence[str], after: int = LARGE_INPUT
                   ) -> Iterator[Tally]:
    """:func:`counting` over the records of ``paths``, drawn only once ``after`` records
    are done, so a small file never shows a bar."""
    with ExitStack() as stack:
        yield _Deferred(stack, label, paths, after)


@contextmanager
def working(label: str) -> Iterator[None]:
    """A bar for a step with nothing to count (elapsed time only)."""
    with counting(label):
        yield


def count_records(paths: Sequence[str]) -> int | None:
    """About how many records the files hold: data rows of a CSV, lines of a JSON Lines
    file; None when one of them cannot be counted that way (a JSON array, a URL).

    Read only to size a bar: a quoted field across lines makes the count a little high.
    """
    total = 0
    for path in paths:
        lowered = path.lower()
        if not lowered.endswith((".csv", ".jsonl", ".ndjson")) or not os.path.isfile(path):
            return None
        lines = _lines(path)
        total += max(0, lines - 1) if lowered.endswith(".csv") else lines
    return total


def _lines(path: str) -> int:
    """Lines in the file (a last line without a newline counts)."""
    count = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def records_total(paths: Sequence[str]) -> int | None:
    """:func:`count_records` when a bar will be drawn (no file is read otherwise)."""
    return count_records(paths) if progress_wanted() else None
