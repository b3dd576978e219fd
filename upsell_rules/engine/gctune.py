"""Fewer garbage collections while a run streams accounts.

Deciding an account allocates a few hundred short-lived containers (the record's values,
the signals, the decision). With CPython's default thresholds that triggers a young
collection every 700 allocations and, as they pile up, full collections that walk every
object the process holds: about a fifth of a dry-run's time, measured in
bench/run_all.py. Nothing a run makes forms reference cycles that must be freed early,
so during a run the objects already alive are frozen out of the collector's view and
young collections are made rarer. The previous settings come back afterwards.

This changes process-wide settings, so it is off unless the program owns the process:
the command line turns it on with :func:`allow_gc_tuning`; a library user's garbage
collector is never touched. The command line also calls :func:`no_final_collection` as it
ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Allocations between young collections during a run (CPython's default is 700).
RUN_THRESHOLD = 50_000

_depth = 0
_allowed = False


def allow_gc_tuning(allowed: bool = True) -> None:
    """Let :func:`fewer_collections` change the collector's settings (the CLI does)."""
    global _allowed
    _allowed = allowed


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Freeze what is alive now and collect less often, until the block ends.

    Nested uses are free: only the outermost one changes and restores the settings.
    Without :func:`allow_gc_tuning` it changes nothing.
    """
    global _depth
    if not _allowed:
        yield
        return
    _depth += 1
    if _depth > 1:
        try:
            yield
        finally:
            _depth -= 1
        return
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(RUN_THRESHOLD, max(previous[1], 50), max(previous[2], 50))
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
        _depth -= 1


def no_final_collection() -> None:
    """Leave every object alive now out of the interpreter's collections at exit.

    As it shuts down, CPython runs a full collection that walks every object the
    process holds (after a 100,000-account run about 0.1 s, a twentieth of the run)
    to find reference cycles, only for the system to take back the memory a moment
    later. Objects are still freed as their last reference goes, so files are closed
    and flushed as before; a cycle left behind is not looked for. Only for a process
    the program owns (the command line, as it ends); a no-op without
    :func:`allow_gc_tuning`.
    """
    if _allowed:
        gc.freeze()
