"""File signal sources (CSV, JSON, JSON Lines) and the field types of data contract v1.

Registered through the ``upsell_rules`` entry point like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import FieldSpec, Source

from .contract import CONTRACT_FIELDS
from .csv_source import matches_csv, read_csv
from .json_source import matches_json, matches_jsonl, read_json, read_jsonl

__all__ = [
    "CONTRACT_FIELDS",
    "SOURCES",
    "upsell_rules_fields",
    "upsell_rules_sources",
]

SOURCES: tuple[Source, ...] = (
    Source(
        name="csv",
        description=(
            "CSV export, one account per row under a header row; lists as a|b|c, "
            "empty cells are missing values."
        ),
        matches=matches_csv,
        read=read_csv,
        byte_ranges="csv",
    ),
    Source(
        name="json",
        description=(
            'JSON file: an array of account objects, or an object with an "accounts" array.'
        ),
        matches=matches_json,
        read=read_json,
    ),
    Source(
        name="jsonl",
        description="JSON Lines (.jsonl or .ndjson): one account object per line.",
        matches=matches_jsonl,
        read=read_jsonl,
        byte_ranges="lines",
    ),
)


@hookimpl(trylast=True)
def upsell_rules_fields(register: Callable[[FieldSpec], None]) -> None:
    """Register every field of data contract v1 with its type."""
    for spec in CONTRACT_FIELDS:
        register(spec)


@hookimpl(trylast=True)
def upsell_rules_sources(register: Callable[[Source], None]) -> None:
    """Register the CSV, JSON and JSON Lines sources."""
    for source in SOURCES:
        register(source)
