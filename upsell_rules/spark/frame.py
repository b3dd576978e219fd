"""``decide(dataframe, ruleset)``: a DataFrame of accounts in, a DataFrame of decisions out."""

from __future__ import annotations

import functools
import os
from datetime import date
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from upsell_rules.errors import RulesetError
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.spark.partition import OUTPUT_COLUMNS, POSITION, Job, decide_batches

__all__ = ["decide", "spark_schema"]

_SPARK_TYPES: dict[str, Any] = {"string": T.StringType(), "date": T.DateType(),
                                "number": T.DoubleType(), "bool": T.BooleanType()}


def spark_schema() -> T.StructType:
    """The schema of :func:`decide`'s result: the core decision columns, ``record``, ``error``."""
    return T.StructType([T.StructField(name, _SPARK_TYPES[kind], True)
                         for name, kind in OUTPUT_COLUMNS.items()])


def decide(
    dataframe: DataFrame,
    ruleset: str | os.PathLike[str],
    as_of: date | str | None = None,
    *,
    label: str = "spark",
    check_duplicates: bool = True,
) -> DataFrame:
    """Decide every account of ``dataframe`` with the ruleset at ``ruleset``.

    ``dataframe`` has one row per account, columns named like the data contract's fields
    (any Spark types: text as in a CSV, or dates, numbers, arrays). ``as_of`` is the
    evaluation date (default: today, fixed once here so every partition uses the same
    one). The ruleset is read and checked here, on the driver (a ruleset with errors
    raises :class:`~upsell_rules.errors.RulesetError` before any task runs), and its text
    travels with the tasks, so executors need upsell-rules and the ruleset's plugins
    installed, not the file. Returns a lazy DataFrame with :func:`spark_schema`: one row
    per input row; ``error`` holds the located message of a record that could not be
    decided (its other decision columns are null) and is null otherwise. Locations are
    ``spark partition P:N``: row N of the input DataFrame's partition P.

    A duplicate account id is reported as the CLI reports it, across the whole
    DataFrame: the first row (in partition, then row order) is decided, every later one
    is an error row naming it. That costs a shuffle (the rows are grouped by id, so the
    result's partitions are not the input's); ``check_duplicates=False`` skips it for
    ids known to be unique, and then finds duplicates within a partition only.
    """
    path = os.fspath(ruleset)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    checked, findings = check_ruleset(path, default_registry(), text=text)
    errors = [f for f in findings if f.is_error]
    if checked is None or errors:
        raise RulesetError(errors or findings)
    when = (date.fromisoformat(as_of) if isinstance(as_of, str)
            else as_of if as_of is not None else date.today())
    job = Job(path=path, text=text, as_of=when, label=label, positioned=True)
    rows = dataframe.withColumn(POSITION, F.monotonically_increasing_id())
    if check_duplicates and "account_id" in dataframe.columns:
        # Every row of an id in one task, in input order: the task's reader finds them.
        # The key is the id as the reader compares it (text, trimmed).
        key = F.trim(F.col("account_id").cast("string"))
        rows = rows.repartition(key).sortWithinPartitions(POSITION)
    return rows.mapInArrow(functools.partial(decide_batches, job=job), spark_schema())
