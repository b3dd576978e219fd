"""Deciding accounts in batches, in this process or spread over worker processes.

:func:`decide_in_batches` cuts the stream of accounts into batches and decides each
with :meth:`Evaluator.evaluate_batch`. With ``jobs`` > 1 the batches go to a pool of
worker processes, and the results come back in input order (``imap`` keeps order), so
the output is the same, byte for byte, as with one process.

Reading stays in the parent process, through the same source and coercion as always:
record limits, error messages, line numbers and duplicate ``account_id`` checks are
exactly those of a single-process run, whatever the source. Workers are started with
``fork`` and inherit the prepared evaluator (compiled functions and plugin objects do not
need to be pickled); only accounts go out and decision records come back. Where
``fork`` is not available the accounts are decided in this process. A durable-rules
engine is never forked: its C extension state is not safe to copy into a child.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from upsell_rules.errors import RecordError
from upsell_rules.records import Account

if TYPE_CHECKING:
    from upsell_rules.evaluate import Evaluator

#: Accounts per batch: large enough to amortise inter-process traffic, small enough to
#: keep memory flat and the first results early.
BATCH = 512

#: Engines that evaluate in-process C state and must not be forked.
NOT_FORKABLE = frozenset({"durable"})

Result = tuple[bool, "dict[str, Any] | RecordError"]

_worker_evaluator: Evaluator | None = None


def _batches(
    items: Iterable[Account | RecordError], size: int
) -> Iterator[list[Account | RecordError]]:
    iterator = iter(items)
    while True:
        batch = list(itertools.islice(iterator, size))
        if not batch:
            return
        yield batch


def _decide(args: tuple[list[Account | RecordError], date]) -> list[Result]:
    batch, as_of = args
    assert _worker_evaluator is not None
    return _worker_evaluator.evaluate_batch(batch, as_of)


def can_fork() -> bool:
    """True where worker processes can be forked from this one."""
    return "fork" in multiprocessing.get_all_start_methods()


def decide_in_batches(
    evaluator: Evaluator,
    items: Iterable[Account | RecordError],
    as_of: date,
    jobs: int = 1,
    batch: int = BATCH,
) -> Iterator[Result]:
    """``(was_read_error, decision or error)`` for every item, in input order."""
    if jobs <= 1 or not can_fork() or evaluator.engine.name in NOT_FORKABLE:
        for part in _batches(items, batch):
            yield from evaluator.evaluate_batch(part, as_of)
        return
    global _worker_evaluator
    _worker_evaluator = evaluator
    context = multiprocessing.get_context("fork")
    # A bounded window of batches in flight: reading never runs far ahead of writing,
    # so memory stays flat however large the input.
    window = jobs * 4
    try:
        with context.Pool(jobs) as pool:
            pending: deque[Any] = deque()
            for part in _batches(items, batch):
                pending.append(pool.apply_async(_decide, ((part, as_of),)))
                if len(pending) >= window:
                    yield from pending.popleft().get()
            while pending:
                yield from pending.popleft().get()
    finally:
        _worker_evaluator = None
