"""The columnar path for a Parquet file: DuckDB checks and reads it with its own reader.

See ``sql/parquet_inputs.py`` for which column types are taken as they are; a file with
any other is read by the Parquet source and the Python reader, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from upsell_rules.sql.input_checks import quote_text
from upsell_rules.sql.parquet_inputs import parquet_check_sql, parquet_fields, parquet_view_sql
from upsell_rules.sql.sandbox import sandboxed


def parquet_shape(path: str, types: Mapping[str, str]
                  ) -> tuple[dict[str, str | None], int] | None:
    """The Parquet column type of each field and the number of rows, or ``None`` when
    DuckDB cannot read the file or some field's column would be converted by the reader."""
    import duckdb

    con = sandboxed([path])
    try:
        source = f"read_parquet({quote_text(path)})"
        columns = {str(row[0]): str(row[1])
                   for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        found = con.execute(f"SELECT count(*) FROM {source}").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    fields = parquet_fields(types, columns)
    return None if fields is None or found is None else (fields, int(found[0]))


def load_parquet(con: Any, path: str, types: Mapping[str, str],
                 ranges: Mapping[str, tuple[float | None, float | None]],
                 fields: Mapping[str, str | None], max_records: int,
                 lines_view: str | None) -> bool:
    """Check every row and, when all are clean, make the views over the file (as
    ``_load`` does for JSON Lines): ``_accounts``, and ``lines_view`` when given."""
    import duckdb

    try:
        found = con.execute(parquet_check_sql(path, types, ranges, fields)).fetchone()
        assert found is not None
        rows, unclean, distinct = found
        if unclean or distinct != rows or (max_records and rows > max_records):
            return False
        con.execute(parquet_view_sql(path, types, fields, "_accounts"))
        if lines_view is not None:
            con.execute(parquet_view_sql(path, types, fields, lines_view, lines=True))
    except duckdb.Error:
        return False
    return True
