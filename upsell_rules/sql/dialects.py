"""The SQL dialects a ruleset compiles to, and which of them run in the test suite."""

from __future__ import annotations

#: Dialect name (as SQLGlot spells it) -> what it is for.
DIALECTS: dict[str, str] = {
    "duckdb": "DuckDB (the duckdb engine; tested by running it)",
    "postgres": "PostgreSQL (tested on a real server)",
    "snowflake": "Snowflake (golden files, parsed back; not run)",
    "bigquery": "BigQuery (golden files, parsed back; not run)",
    "spark": "Spark SQL (run on a local Spark)",
    "databricks": "Databricks SQL (Spark SQL's list functions; run on a local Spark, "
                  "not on Databricks)",
}


def check_dialect(name: str) -> str:
    """``name`` if it is a supported dialect, else ``ValueError`` listing them."""
    if name not in DIALECTS:
        raise ValueError(f"unknown dialect '{name}' (choose from {', '.join(DIALECTS)})")
    return name
