"""The watch loop: every interval, when the inputs changed, decide again and deliver.

The loop owns no I/O of its own: it asks ``signature()`` what the inputs look like now
and calls ``tick(as_of)`` when that changed (or the date did). Time comes from a
:class:`Clock`, so tests drive the loop with a fake clock and never sleep; the real
clock sleeps on an event that :meth:`WatchLoop.stop` (a SIGTERM or Ctrl-C handler) sets,
so stopping never waits for the interval to run out and never interrupts a tick.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Clock(Protocol):
    """Where the loop gets the time and waits."""

    def now(self) -> dt.datetime:
        """The current time."""

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        """Wait ``seconds``, or less when ``stop`` is set."""


class SystemClock:
    """The real clock (UTC)."""

    def now(self) -> dt.datetime:
        """The current time in UTC."""
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        """Wait on ``stop`` for at most ``seconds``."""
        stop.wait(seconds)


_INTERVAL = re.compile(r"^(\d+)(s|m|h|d)$")


def parse_interval(text: str) -> float:
    """``15m`` -> 900.0 seconds (units s, m, h, d); ValueError otherwise."""
    match = _INTERVAL.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not an interval (expected e.g. 30s, 15m, 1h, 1d)")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def file_signature(paths: Sequence[str], folder: str | None) -> tuple[Any, ...]:
    """What the inputs look like: each file's size and modification time, and for a
    folder every file in it (so a new or appended export changes the signature)."""
    items: list[tuple[str, int, int]] = []
    files = list(paths)
    if folder is not None:
        files += [os.path.join(folder, name) for name in sorted(os.listdir(folder))
                  if not name.startswith(".")]
    for path in files:
        try:
            info = os.stat(path)
        except OSError:
            items.append((path, -1, -1))
            continue
        items.append((path, info.st_size, info.st_mtime_ns))
    return tuple(items)


@dataclass
class WatchLoop:
    """Call ``tick`` whenever ``signature`` or the as-of date changes; see the module."""

    tick: Callable[[dt.date], None]
    signature: Callable[[], Any]
    clock: Clock
    every: float
    as_of: dt.date | None = None
    #: Called at a look without changes (a watcher retries waiting deliveries there).
    idle: Callable[[dt.date], None] | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    ticks: int = 0

    def stop(self) -> None:
        """Ask the loop to stop after the current tick (safe from a signal handler)."""
        self.stopping.set()

    def run(self, max_ticks: int | None = None) -> int:
        """Loop until stopped (or ``max_ticks`` intervals); returns how many ticks ran."""
        last: Any = None
        last_day: dt.date | None = None
        intervals = 0
        while not self.stopping.is_set():
            # The local date, as run takes without --as-of: one store, one calendar.
            day = self.as_of or self.clock.now().astimezone().date()
            seen = self.signature()
            if seen != last or day != last_day:
                self.tick(day)
                self.ticks += 1
                last, last_day = seen, day
            elif self.idle is not None:
                self.idle(day)
            intervals += 1
            if max_ticks is not None and intervals >= max_ticks:
                break
            self.clock.sleep(self.every, self.stopping)
        return self.ticks
