"""File signal sources (CSV, JSON, JSON Lines, Parquet) and the field types of data contract
v1.

Registered through the ``upsell_rules`` entry point like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable

from upsell_rules.io.contract import CONTRACT_V1
from upsell_rules.io.encoding import encoding_problems
from upsell_rules.io.mapping import MAPPING_OPTIONS
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import FieldSpec, ParamSpec, Source

from .csv_source import delimiter_problems, matches_csv, read_csv, read_csv_with_context
from .json_source import (
    matches_json,
    matches_jsonl,
    read_json,
    read_json_with_context,
    read_jsonl,
    read_jsonl_with_context,
)
from .parquet_source import matches_parquet, read_parquet

__all__ = [
    "CONTRACT_V1",
    "SOURCES",
    "upsell_rules_fields",
    "upsell_rules_sources",
]

#: The text sources also take the file's encoding (UTF-8 unless declared; never guessed).
TEXT_OPTIONS = {
    **MAPPING_OPTIONS,
    "encoding": ParamSpec(
        "string", description="The file's text encoding: utf-8 (default), cp1252 (Excel's "
        "plain CSV on Windows), latin-1, utf-16...; --encoding on the command line wins.",
        check=encoding_problems,
    ),
}
#: The JSON source also takes the key of the account array in a file that is one object.
JSON_OPTIONS = {
    **TEXT_OPTIONS,
    "records_key": ParamSpec(
        "string", description="In a file that is one JSON object, the key whose array holds "
        "the accounts: accounts (default), results (HubSpot's API), records (Salesforce's "
        "API), data...",
    ),
}
#: The CSV source also takes the cell separator (a tab for .tsv / .tab files by default).
CSV_OPTIONS = {
    **TEXT_OPTIONS,
    "delimiter": ParamSpec(
        "string", description="Cell separator: ',' (default), ';', '|' or a tab (\"\\t\" "
        "or tab; the default for .tsv and .tab files).", check=delimiter_problems,
    ),
}

SOURCES: tuple[Source, ...] = (
    Source(
        name="csv",
        description=(
            "CSV export (.csv; tab-separated .tsv / .tab too), one account per row under "
            "a header row; lists as a|b|c, empty cells are missing values."
        ),
        matches=matches_csv,
        read=read_csv,
        options=CSV_OPTIONS,
        read_with_context=read_csv_with_context,
        byte_ranges="csv",
        columnar="csv",
    ),
    Source(
        name="json",
        description=(
            'JSON file: an array of account objects, or an object with an "accounts" array '
            "(records_key: names another key)."
        ),
        matches=matches_json,
        read=read_json,
        options=JSON_OPTIONS,
        read_with_context=read_json_with_context,
    ),
    Source(
        name="jsonl",
        description="JSON Lines (.jsonl or .ndjson): one account object per line.",
        matches=matches_jsonl,
        read=read_jsonl,
        options=TEXT_OPTIONS,
        read_with_context=read_jsonl_with_context,
        byte_ranges="lines",
    ),
    Source(
        name="parquet",
        description=(
            "Parquet file (.parquet or .pq), read by DuckDB: one account per row; dates "
            "as DATE (or a TIMESTAMP at midnight), lists as LIST columns."
        ),
        matches=matches_parquet,
        read=read_parquet,
        options=MAPPING_OPTIONS,
        columnar="parquet",
    ),
)


@hookimpl(trylast=True)
def upsell_rules_fields(register: Callable[[FieldSpec], None]) -> None:
    """Register every field of data contract v1 with its type."""
    for spec in CONTRACT_V1:
        register(spec)


@hookimpl(trylast=True)
def upsell_rules_sources(register: Callable[[Source], None]) -> None:
    """Register the CSV, JSON, JSON Lines and Parquet sources."""
    for source in SOURCES:
        register(source)
