"""One Spark partition decided by the Python engine: Arrow batches in, Arrow batches out.

This module runs on Spark's executors. It imports no PySpark: a :class:`Job` (the
ruleset's text, its path for messages, the as-of date) arrives pickled with the task;
the ruleset is loaded and prepared once per worker process and kept for the next task.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.stream import decide_all
from upsell_rules.errors import Location, RecordError, RulesetError
from upsell_rules.io.formatters import error_record, to_json
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.io.rows import DECISION_COLUMNS, contract_value, decision_row
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.types import RawRecord
from upsell_rules.ruleset.loader import check_ruleset

__all__ = ["ARROW_SCHEMA", "OUTPUT_COLUMNS", "POSITION", "Job", "decide_batches", "position_of"]

#: The column :func:`upsell_rules.spark.decide` adds: where a row was in the input
#: DataFrame (``monotonically_increasing_id``: the partition in the upper 31 bits, the
#: row within it in the lower 33), so locations survive the shuffle that groups ids.
POSITION = "__upsell_rules_position"
_ROW_BITS = 33

_ARROW_TYPES = {"string": pa.string(), "date": pa.date32(), "number": pa.float64(),
                "bool": pa.bool_()}
#: The output columns: the core decision columns, then ``error`` (``None`` when decided).
OUTPUT_COLUMNS: dict[str, str] = {**DECISION_COLUMNS, "error": "string"}
ARROW_SCHEMA = pa.schema([pa.field(name, _ARROW_TYPES[kind]) for name, kind in
                          OUTPUT_COLUMNS.items()])


@dataclass(frozen=True)
class Job:
    """What every task needs: the ruleset (text and path) and the as-of date."""

    path: str
    text: str
    as_of: date
    label: str = "spark"
    #: Whether rows carry :data:`POSITION` (their locations are then their input places).
    positioned: bool = False


_prepared: dict[tuple[str, str], tuple[Evaluator, AccountReader]] = {}
_lock = threading.Lock()


def prepare(job: Job) -> tuple[Evaluator, AccountReader]:
    """The evaluator and reader for ``job``'s ruleset, built once per process.

    Raises :class:`~upsell_rules.errors.RulesetError` if the ruleset has errors here
    (an executor with other plugins installed than the driver, say).
    """
    key = (job.path, job.text)
    with _lock:
        if key not in _prepared:
            registry = default_registry()
            ruleset, findings = check_ruleset(job.path, registry, text=job.text)
            errors = [f for f in findings if f.is_error]
            if ruleset is None or errors:
                raise RulesetError(errors or findings)
            reader = AccountReader(registry, ruleset.input_types(), as_of=job.as_of,
                                   signals=ruleset.signals)
            _prepared[key] = (Evaluator(ruleset, registry), reader)
        return _prepared[key]


def position_of(label: str, position: int) -> Location:
    """The input row at ``position`` (:data:`POSITION`): ``spark partition P``, row N."""
    partition, row = divmod(position, 1 << _ROW_BITS)
    return Location(f"{label} partition {partition}", row + 1)


def _accounts(
    reader: AccountReader, batches: Iterable[pa.RecordBatch], label: str
) -> Iterator[Account | RecordError]:
    """The partition's records; a row's location is its input position when it has one,
    else its place in this partition (``label`` names the partition then)."""
    seen: dict[str, Location] = {}
    number = 0
    for batch in batches:
        for row in batch.to_pylist():
            number += 1
            position = row.pop(POSITION, None)
            where = (Location(label, number) if position is None
                     else position_of(label, position))
            values = {key: contract_value(value) for key, value in row.items() if value is not None}
            yield from reader.coerce_record(RawRecord(values, where), seen)


def _error_row(errors: list[RecordError], as_of: date) -> dict[str, Any]:
    record = error_record(errors)
    row: dict[str, Any] = dict.fromkeys(OUTPUT_COLUMNS)
    row.update(account_id=record["account_id"], as_of=as_of, record=to_json(record),
               error="; ".join(str(e) for e in errors))
    return row


def _rows(results: Iterable[dict[str, Any] | RecordError], as_of: date) -> Iterator[dict[str, Any]]:
    """One row per record: a decision's columns, or one row for all of a record's errors."""
    pending: list[RecordError] = []
    for result in results:
        if pending and not (isinstance(result, RecordError)
                            and result.location == pending[0].location):
            yield _error_row(pending, as_of)
            pending = []
        if isinstance(result, RecordError):
            pending.append(result)
            continue
        row = decision_row(result, as_of.isoformat())
        row["as_of"] = date.fromisoformat(row["as_of"])
        row["error"] = None
        yield row
    if pending:
        yield _error_row(pending, as_of)


def decide_batches(
    batches: Iterable[pa.RecordBatch], job: Job, batch_size: int = 2048
) -> Iterator[pa.RecordBatch]:
    """Decide every account in a partition's batches; yield the output batches.

    A record that cannot be read or decided costs only its own row, which carries the
    located message under ``error``. A second record with an account id already seen in
    the batches is a duplicate (``decide`` hands every row of an id to the same task, in
    input order, so the first one wins as in the CLI).
    """
    evaluator, reader = prepare(job)
    label = job.label
    try:
        from pyspark import TaskContext

        context = TaskContext.get()
        if context is not None and not job.positioned:
            label = f"{job.label} partition {context.partitionId()}"
    except ImportError:  # pragma: no cover - called without Spark (tests, benchmarks)
        pass
    results = decide_all(evaluator, _accounts(reader, batches, label), job.as_of)
    chunk: list[dict[str, Any]] = []
    for row in _rows(results, job.as_of):
        chunk.append(row)
        if len(chunk) >= batch_size:
            yield pa.RecordBatch.from_pylist(chunk, schema=ARROW_SCHEMA)
            chunk = []
    if chunk:
        yield pa.RecordBatch.from_pylist(chunk, schema=ARROW_SCHEMA)
