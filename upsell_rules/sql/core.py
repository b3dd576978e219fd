"""The decision columns a compiled query returns, taken from a Python decision record.

Both sides of every comparison (tests, the ``duckdb`` engine's self-check) use this one
definition of which parts of a record the query computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from upsell_rules.ruleset.model import Ruleset
from upsell_rules.sql.query import category_column, output_columns


def _ids(items: list[str]) -> str | None:
    return ",".join(items) if items else None


def core_of_record(ruleset: Ruleset, record: Mapping[str, Any]) -> dict[str, Any]:
    """The compiled query's columns, as the Python engine's record gives them."""
    row: dict[str, Any] = {
        "account_id": record["account_id"],
        "score": float(record["score"]),
        "raw_score": float(record["raw_score"]),
        "band": record["band"],
        "blocked": record["blocked"],
        "capped_at": None if record["capped_at"] is None else float(record["capped_at"]),
    }
    for category in ruleset.categories:
        row[category_column(category.name)] = float(record["category_scores"][category.name])
    triggers = record["triggers"]
    row["trigger"] = triggers[0]["id"] if triggers else None
    row["triggers"] = _ids([t["id"] for t in triggers])
    row["upsell_types"] = _ids(list(record["upsell_types"]))
    row["failed_gates"] = _ids([g["id"] for g in record["gates"] if not g["passed"]])
    row["red_flags"] = _ids([f["id"] for f in record["red_flags"]])
    row["play"] = record["action"]["play"]
    row["owner"] = record["action"]["owner"]
    return row


def core_of_row(ruleset: Ruleset, values: tuple[Any, ...]) -> dict[str, Any]:
    """A result row of the compiled query as a dict (numbers as floats)."""
    row = dict(zip(output_columns(ruleset), values, strict=True))
    for key in ("score", "raw_score", "capped_at",
                *(category_column(c.name) for c in ruleset.categories)):
        if row[key] is not None:
            row[key] = float(row[key])
    return row
