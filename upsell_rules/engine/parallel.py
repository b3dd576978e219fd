"""Deciding accounts in batches, in this process or spread over worker processes.

Two ways to use several processes, both giving output identical to one process, in
input order:

- **Byte ranges** (:func:`evaluate_inputs`), for one JSON Lines or CSV file read by the
  bundled sources. The file is cut at line ends into chunks of about
  :data:`CHUNK_BYTES`; each worker reads its chunk through the very same source and
  coercion (from a temporary file holding the CSV header and the chunk), decides its
  accounts, and sends back records and decisions with their real line numbers. The
  parent process checks ``account_id`` duplicates across chunks, exactly as one reader
  would, and writes the results in order. It reads nothing itself but the chunk
  boundaries, so the work spreads over the workers.
- **Batches** (:func:`decide_in_batches`), for every other input (other sources, several
  joined inputs, a CSV with quoted cells, whose rows may span lines): the parent reads
  as usual and the workers only decide. Sending accounts out and decisions back costs
  about as much as deciding them, so this pays only with many cores.

The byte-range path is not taken, and reading happens as usual, when it could change
a result: a file over the input size limit or with more lines than the record limit (the
limits must fail the same way), text that is not UTF-8 (or a file declared in another
encoding), a CSV with quotes or carriage returns. Workers are forked and inherit the
prepared evaluator (compiled functions and plugin objects are not pickled); where
``fork`` is not available, and for an engine that declares ``parallel_safe=False`` (C
extension state that must not be copied into a child), everything runs in this
process. Which sources' files may be cut is what each source declares
(:attr:`~upsell_rules.plugin.types.Source.byte_ranges`).

A worker that dies (a crash in C code, the kernel's out-of-memory killer) never leaves
the run waiting: what it and the other workers had not sent back is decided in this
process, with the same results, and the run's summary says so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import json
import os
import re
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io.fastjson import dumps_compact, loads_or_none
from upsell_rules.io.formatters import EncodedBatch, EncodedDecision
from upsell_rules.io.records import (
    Account,
    AccountReader,
    FirstSeen,
    duplicate_error,
)
from upsell_rules.io.source_choice import single_file
from upsell_rules.plugin.watchdog import batch_watchdog

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from upsell_rules.engine.evaluate import Evaluator

#: Accounts per batch when the parent reads: large enough to amortise inter-process
#: traffic, small enough to keep memory flat and the first results early.
BATCH = 512

#: Bytes per chunk on the byte-range path (a few thousand accounts).
CHUNK_BYTES = 2 * 1024 * 1024

#: Below this size a file is read in one process: starting workers would cost more.
MIN_PARALLEL_BYTES = 4 * 1024 * 1024

Result = tuple[bool, "dict[str, Any] | EncodedDecision | EncodedBatch | RecordError"]

#: Where a run's notes go (a worker lost, say): ``Summary.notes.append`` from the stream.
Note = Callable[[str], None]

#: What the run's summary says when a worker died and this process finished its work.
WORKER_LOST = ("a worker process stopped abruptly; what it had not sent back was "
               "decided in this process")

# What forked workers inherit from the parent (set just before the pool starts).
_worker_evaluator: Evaluator | None = None
_worker_reader: AccountReader | None = None
_worker_plan: Plan | None = None


def can_fork() -> bool:
    """True where worker processes can be forked from this one."""
    import multiprocessing  # only runs on more than one process need it (start-up time)

    return "fork" in multiprocessing.get_all_start_methods()


def parallel_allowed(evaluator: Evaluator, jobs: int) -> bool:
    return jobs > 1 and can_fork() and evaluator.engine.parallel_safe is not False


# --- batches: the parent reads, workers decide ------------------------------------------


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
    # A batch decided here holds decoded decisions only (never EncodedDecision).
    return cast(list[Result], _worker_evaluator.evaluate_batch(batch, as_of))


def _guarded(task: Any) -> Any:
    """Run one worker task under its own plugin watchdog.

    The parent's watchdog cannot see into a worker, so each task (a batch, a chunk) gets
    the whole ``--plugin-timeout`` budget; a stall comes back as a ``PluginError``.
    """
    fn, argument = task
    assert _worker_evaluator is not None
    with batch_watchdog(_worker_evaluator.registry):
        return fn(argument)


def decide_in_batches(
    evaluator: Evaluator,
    items: Iterable[Account | RecordError],
    as_of: date,
    jobs: int = 1,
    batch: int = BATCH,
    note: Note | None = None,
) -> Iterator[Result]:
    """``(was_read_error, decision or error)`` for every item, in input order.

    ``note`` hears about a worker that died (see the module's docstring)."""
    if not parallel_allowed(evaluator, jobs):
        for part in _batches(items, batch):
            yield from evaluator.evaluate_batch(part, as_of)
        return
    global _worker_evaluator
    _worker_evaluator = evaluator
    try:
        work = ((_decide, (part, as_of)) for part in _batches(items, batch))
        yield from _ordered(jobs, work, jobs * 4, note)
    finally:
        _worker_evaluator = None


def _fork_workers(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` worker processes, forked now, that never collect this process's objects.

    A forked child inherits every object of the parent, among them objects of C
    extensions (a DuckDB connection, a database driver's) whose finalizers must not run
    in a copy of the process: collected there, they crash it. So what can be freed is
    freed here first, and what is left is frozen out of the collector's view while the
    workers are forked; a child never unfreezes it.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    already = gc.get_freeze_count()
    gc.collect()
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))
        # With fork, the first task starts every worker; if one dies at once, the tasks
        # find the pool broken and run here.
        with contextlib.suppress(BrokenProcessPool):
            pool.submit(int).result()
    finally:
        if not already:
            gc.unfreeze()  # a run that froze the heap itself (gctune) unfreezes it
    return pool


def _ordered(
    jobs: int, work: Iterable[tuple[Any, Any]], window: int, note: Note | None
) -> Iterator[Any]:
    """Results of each ``(fn, argument)`` of ``work``, in order, decided by ``jobs``
    workers with at most ``window`` tasks in flight.

    The window keeps reading from running far ahead of writing, so memory stays flat
    however large the input. A task whose worker died, and every task after it, runs in
    this process instead (``note`` is told once).
    """
    from concurrent.futures.process import BrokenProcessPool

    pending: deque[tuple[Future[Any] | None, tuple[Any, Any]]] = deque()
    told = False

    def result(future: Future[Any] | None, task: tuple[Any, Any]) -> Any:
        nonlocal told
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool:
                pass
        if not told and note is not None:
            note(WORKER_LOST)
        told = True
        fn, argument = task
        return fn(argument)  # under the parent's own watchdog

    pool = _fork_workers(jobs)
    try:
        for task in work:
            try:
                future: Future[Any] | None = pool.submit(_guarded, task)
            except BrokenProcessPool:
                future = None
            pending.append((future, task))
            if len(pending) >= window:
                yield from result(*pending.popleft())
        while pending:
            yield from result(*pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- byte ranges: workers read and decide --------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Plan:
    """How one file is cut: its chunks as (start byte, end byte, first line)."""

    spec: str
    suffix: str
    header: bytes
    chunks: tuple[tuple[int, int, int], ...]
    folder: str = ""
    as_of: date | None = None


def plan_ranges(reader: AccountReader, data: Sequence[str], jobs: int) -> Plan | None:
    """The chunks of ``data`` for the byte-range path, or ``None`` when it does not apply."""
    found = single_file(reader.registry, tuple(data), ("lines", "csv")) if jobs > 1 else None
    if found is None:
        return None
    source, size = found
    if not reader.reads_utf8(source):
        return None  # chunks are cut and checked as UTF-8 bytes
    if reader.mapping_for(source).missing:
        return None  # the summary counts declared-missing cells, which workers would keep
    spec = data[0]
    limits = reader.limits
    if size < MIN_PARALLEL_BYTES or (limits.input_bytes and size > limits.input_bytes):
        return None
    csv = source.byte_ranges == "csv"
    chunks: list[tuple[int, int, int]] = []
    header = b""
    line = 1
    with open(spec, "rb") as handle:
        if csv:
            header = handle.readline()
            if not header.strip() or not header.endswith(b"\n"):
                return None
        start = handle.tell()
        while True:
            block = handle.read(CHUNK_BYTES)
            if not block:
                break
            block += handle.readline()  # finish the line the block cut
            if csv and (b'"' in block or b"\r" in block or b"\r" in header):
                return None  # a quoted cell may span lines: cut only where rows end
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                return None  # let the source report it, at its line
            first = line + (1 if csv else 0)
            chunks.append((start, start + len(block), first))
            line += block.count(b"\n")
            start += len(block)
    if limits.records and line > limits.records:
        return None  # the record limit must stop the run exactly where one reader would
    suffix = os.path.splitext(spec)[1]
    return Plan(spec, suffix, header, tuple(chunks))


#: What a worker sends back per record: its line and column, the account_id it takes
#: (empty for none), what happened (``decided``: the decision as JSON text, cheaper to
#: send than the dict; ``failed``: a plugin failed deciding it; ``errors``: it could not
#: be read; ``duplicate``: the reader saw its id earlier in the chunk), the payload and
#: the band of a decision ("" otherwise).
Sent = tuple[int, int, str, str, "str | list[RecordError]", str]


def _read_chunk(index: int) -> list[Sent]:
    """One chunk, read and decided: what :data:`Sent` says, per record, in order."""
    plan, reader, evaluator = _worker_plan, _worker_reader, _worker_evaluator
    assert plan is not None and reader is not None and evaluator is not None
    assert plan.as_of is not None
    start, end, first = plan.chunks[index]
    path = os.path.join(plan.folder, f"chunk{index}{plan.suffix}")
    with open(plan.spec, "rb") as source:
        source.seek(start)
        body = source.read(end - start)
    with_header = bool(plan.header)
    with open(path, "wb") as handle:
        handle.write(plan.header)
        handle.write(body)
    # Line 1 of the chunk file is `first` in the real file (line 2 after the CSV header).
    delta = first - (2 if with_header else 1)
    try:
        try:
            items = list(reader.read(path))
        except InputError as exc:
            text = re.sub(re.escape(path) + r":(\d+)",
                          lambda m: f"{plan.spec}:{int(m.group(1)) + delta}", str(exc))
            raise InputError(text.replace(path, plan.spec)) from None
    finally:
        os.unlink(path)
    # An account with values left out names its real place in its data_warnings.
    accounts = [
        dataclasses.replace(
            item, location=Location(plan.spec, item.location.line + delta, item.location.col)
        ) if item.warnings else item
        for item in items if isinstance(item, Account)
    ]
    decided = iter(evaluator.evaluate_batch(accounts, plan.as_of))
    out: list[Sent] = []
    for item in items:
        location = item.location
        line = location.line + delta if location.line else 0
        col = location.col
        if isinstance(item, Account):
            _, result = next(decided)
            if isinstance(result, dict):
                out.append((line, col, item.account_id, "decided", dumps_compact(result),
                            result["band"]))
            else:
                moved = dataclasses.replace(result, location=Location(plan.spec, line, col))
                out.append((line, col, item.account_id, "failed", [moved], ""))
            continue
        error = dataclasses.replace(item, location=Location(plan.spec, line, col))
        last = out[-1] if out else None
        if last is not None and last[:2] == (line, col) and last[3] == "errors":
            last[4].append(error)  # type: ignore[union-attr]  # the same record
            continue
        if item.field == "account_id" and item.message.startswith("duplicate account_id"):
            out.append((line, col, item.account_id, "duplicate", [error], ""))
            continue
        # A field error: the reader took the id before the field failed (an id error or a
        # source error takes none).
        claimed = item.account_id if item.field not in ("", "account_id") else ""
        out.append((line, col, claimed, "errors", [error], ""))
    return out


def decide_ranges(
    evaluator: Evaluator,
    reader: AccountReader,
    plan: Plan,
    as_of: date,
    jobs: int,
    encoded: bool = False,
    note: Note | None = None,
) -> Iterator[Result]:
    """Decide the chunks of ``plan`` on ``jobs`` workers: results as from
    :func:`decide_in_batches`, with duplicates judged across chunks."""
    global _worker_evaluator, _worker_reader, _worker_plan
    folder = tempfile.mkdtemp(prefix="upsell-rules-jobs-")
    _worker_plan = dataclasses.replace(plan, folder=folder, as_of=as_of)
    _worker_evaluator, _worker_reader = evaluator, reader
    # Every id of the file is kept, packed (as one reader keeps them): about a third of
    # the memory of a Location per account, which matters at a million accounts.
    seen = FirstSeen()
    spec = plan.spec
    try:
        chunks = ((_read_chunk, index) for index in range(len(plan.chunks)))
        for line, col, claimed, kind, payload, band in _ordered(
            jobs, chunks, jobs * 3, note
        ):
            if claimed:
                # Duplicates are judged here, across chunks, as one reader would:
                # the first record to take an id keeps it.
                if claimed in seen:
                    first = seen[claimed]
                    yield True, duplicate_error(Location(spec, line, col), claimed, first)
                    continue
                assert kind != "duplicate"
                seen[claimed] = Location(spec, line, col)
            if isinstance(payload, str):
                if encoded:
                    yield False, EncodedDecision(payload, band, claimed)
                    continue
                decision = loads_or_none(payload)
                yield False, decision if decision is not None else json.loads(payload)
            elif kind == "failed":
                yield False, payload[0]
            else:
                for error in payload:
                    yield True, error
    finally:
        _worker_evaluator = _worker_reader = _worker_plan = None
        shutil.rmtree(folder, ignore_errors=True)
