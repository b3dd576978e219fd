"""The decision columns a compiled query returns, taken from a Python decision record.

Both sides of every comparison (tests, benchmarks, Spark's two paths) use this one
definition of which parts of a record the query computes; the columns it shares with a
table of decisions (the SQL sink, ``upsell_rules.spark.decide``) come from
:func:`upsell_rules.io.rows.decision_core`, so they mean the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from upsell_rules.io.rows import decision_core
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.sql.query import category_column, output_columns


def core_of_record(ruleset: Ruleset, record: Mapping[str, Any]) -> dict[str, Any]:
    """The compiled query's columns, as the Python engine's record gives them."""
    row: dict[str, Any] = {
        **decision_core(record),
        "raw_score": float(record["raw_score"]),
        **{category_column(c.name): float(record["category_scores"][c.name])
           for c in ruleset.categories},
    }
    return {column: row[column] for column in output_columns(ruleset)}


def core_of_row(ruleset: Ruleset, values: tuple[Any, ...]) -> dict[str, Any]:
    """A result row of the compiled query as a dict (numbers as floats)."""
    row = dict(zip(output_columns(ruleset), values, strict=True))
    for key in ("score", "raw_score", "capped_at",
                *(category_column(c.name) for c in ruleset.categories)):
        if row[key] is not None:
            row[key] = float(row[key])
    return row
