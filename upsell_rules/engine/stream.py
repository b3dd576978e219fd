"""Running a stream of accounts: read, decide (in this process or in workers), count.

:class:`~upsell_rules.engine.evaluate.Evaluator` decides one account (or one batch);
this module runs whole inputs through it, in input order, counting every record into a
:class:`~upsell_rules.plugin.types.Summary` and running the plugins' before/after
evaluation hooks around the stream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, cast

from upsell_rules.engine.columnar import columnar_rows, plan_columnar
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.gctune import fewer_collections
from upsell_rules.engine.parallel import (
    decide_in_batches,
    decide_ranges,
    parallel_allowed,
    plan_ranges,
)
from upsell_rules.errors import RecordError
from upsell_rules.io.formatters import EncodedBatch, EncodedDecision
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.types import Summary


def decide_all(
    evaluator: Evaluator,
    items: Iterable[Account | RecordError],
    as_of: date,
    summary: Summary | None = None,
    jobs: int = 1,
) -> Iterator[dict[str, Any] | RecordError]:
    """Decide every account in ``items``; pass record errors through, counted.

    Results stream in input order. With ``jobs`` > 1 the accounts are decided in
    that many worker processes (see :mod:`upsell_rules.engine.parallel`); the results are
    the same, in the same order.

    Plugins' ``upsell_rules_before_evaluation`` runs before the first account and
    ``upsell_rules_after_evaluation`` after the last one.
    """
    summary = summary if summary is not None else Summary()
    # Batches in this process or in workers are decoded decisions, never encoded ones.
    batches = decide_in_batches(evaluator, items, as_of, jobs, note=summary.notes.append)
    decided = tally(evaluator, batches, as_of, summary)
    return cast(Iterator[dict[str, Any] | RecordError], decided)


def tally(
    evaluator: Evaluator,
    results: Iterable[tuple[bool, dict[str, Any] | EncodedDecision | EncodedBatch | RecordError]],
    as_of: date,
    summary: Summary | None = None,
    engine: str | None = None,
) -> Iterator[dict[str, Any] | EncodedDecision | EncodedBatch | RecordError]:
    """Count ``(was_read_error, result)`` pairs into ``summary`` and pass them on.

    Runs the before/after evaluation hooks around the stream, like :func:`decide_all`
    (which is ``tally`` over :meth:`Evaluator.evaluate_batch` results). ``engine``
    names the engine that decided when it is not the evaluator's own.
    """
    summary = summary if summary is not None else Summary()
    summary.engine = engine or evaluator.engine.name
    summary.engine_note = "" if engine else evaluator.fallback
    hooks = evaluator.registry.hooks
    hooks.before_evaluation(evaluator.ruleset, as_of)
    failed_at: set[Any] = set()
    bands = summary.bands
    with fewer_collections():
        yield from _count(results, summary, failed_at, bands)
    hooks.after_evaluation(evaluator.ruleset, summary)


def _count(
    results: Iterable[tuple[bool, dict[str, Any] | EncodedDecision | EncodedBatch | RecordError]],
    summary: Summary,
    failed_at: set[Any],
    bands: dict[str, int],
) -> Iterator[dict[str, Any] | EncodedDecision | EncodedBatch | RecordError]:
    for read_error, result in results:
        if read_error:
            assert isinstance(result, RecordError)
            if result.location not in failed_at:
                failed_at.add(result.location)
                summary.read += 1
                summary.failed += 1
            yield result
            continue
        if isinstance(result, EncodedBatch):
            count = len(result.lines)
            summary.read += count
            summary.decided += count
            for band, many in Counter(result.bands).items():
                bands[band] = bands.get(band, 0) + many
            yield result
            continue
        summary.read += 1
        if isinstance(result, RecordError):
            summary.failed += 1
            yield result
            continue
        summary.decided += 1
        band = result.band if isinstance(result, EncodedDecision) else result["band"]
        bands[band] = bands.get(band, 0) + 1
        yield result


def evaluate_inputs(
    evaluator: Evaluator,
    reader: AccountReader,
    data: Sequence[str],
    as_of: date,
    summary: Summary | None = None,
    jobs: int = 1,
    encoded: bool = False,
) -> Iterator[dict[str, Any] | EncodedDecision | EncodedBatch | RecordError]:
    """Read ``data`` and decide every account, on ``jobs`` processes, in input order.

    The same as ``decide_all(evaluator, reader.read_all(data), as_of, summary)``, result
    for result; with ``jobs`` > 1 a large JSON Lines or CSV file is cut into byte
    ranges that the workers read themselves. With ``encoded`` (for JSON Lines output)
    their decisions arrive as :class:`~upsell_rules.io.formatters.EncodedDecision` text.

    With the ``duckdb`` engine (or ``auto``), one clean JSON Lines file is read and
    decided by DuckDB (:mod:`upsell_rules.engine.columnar`), with the same results.
    """
    columnar = plan_columnar(evaluator, reader, data, as_of, encoded)
    if columnar is not None:
        rows = columnar_rows(evaluator, columnar, as_of, reader.limits)
        if rows is not None:
            return tally(evaluator, rows, as_of, summary, engine="duckdb")
    plan = plan_ranges(reader, data, jobs) if parallel_allowed(evaluator, jobs) else None
    if plan is None:
        return decide_all(evaluator, reader.read_all(data), as_of, summary, jobs=jobs)
    summary = summary if summary is not None else Summary()
    ranged = decide_ranges(evaluator, reader, plan, as_of, jobs, encoded, summary.notes.append)
    return tally(evaluator, ranged, as_of, summary)
