"""DuckDB reading a Parquet file of accounts: each field checked and typed, as for JSON Lines.

The Parquet source hands the Python reader each row as a JSON export would hold it
(``plugins/upsell_rules_files/parquet_source.py``). Where a column's Parquet type is
already the field's type (a DOUBLE or an integer column for a ``number``, VARCHAR for a
``string``, DATE for a ``date``, lists of those), the reader takes its values as they
are, with the same checks as JSON Lines values: text starting with a printable
character, numbers inside their ``min:``/``max:`` and held exactly by a double, ids
unique and without spaces at either end. Any other column type (DECIMAL, TIMESTAMP, text
dates, a FLOAT...) is converted or judged by the reader, so the whole file goes to it:
:func:`parquet_fields` says ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping

from upsell_rules.io.contract import ID_CONTROL_RE2
from upsell_rules.sql.input_checks import (
    EXACT_INT,
    SOLID,
    in_range,
    integer_bits,
    quote_text,
    typed_view_sql,
)

_INTEGERS = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT")
#: Field type -> the Parquet column types (as DuckDB names them) taken as they are.
_TAKEN: dict[str, tuple[str, ...]] = {
    "number": ("DOUBLE", *_INTEGERS),
    "integer": _INTEGERS,
    "boolean": ("BOOLEAN",),
    "string": ("VARCHAR",),
    "date": ("DATE",),
    "number_list": ("DOUBLE[]",),
    "integer_list": tuple(f"{t}[]" for t in _INTEGERS),
    "string_list": ("VARCHAR[]",),
    "date_list": ("DATE[]",),
}
_STANDARD = {"number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN",
             "string": "VARCHAR", "date": "DATE"}


def parquet_fields(types: Mapping[str, str], columns: Mapping[str, str]
                   ) -> dict[str, str | None] | None:
    """Field -> its Parquet column type (``None``: not in the file), or ``None`` when
    some field's column is of a type the reader would convert."""
    found: dict[str, str | None] = {}
    for name, kind in types.items():
        column = columns.get(name)
        if column is not None and column not in _TAKEN[kind]:
            return None
        found[name] = column
    return None if found.get("account_id") != "VARCHAR" else found


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _item_ok(kind: str, x: str, bounds: tuple[float | None, float | None] | None) -> str:
    """The test a value ``x`` of a column already of the field's type must pass."""
    if kind == "string":
        return f"regexp_matches({x}, '^{SOLID}')"
    if kind == "date":
        return f"(year({x}) BETWEEN 1 AND 9999)"
    if kind in ("number", "integer"):
        exact = f"isfinite(CAST({x} AS DOUBLE)) AND abs(CAST({x} AS DOUBLE)) < {EXACT_INT}"
        return f"({exact} AND {in_range(f'CAST({x} AS DOUBLE)', bounds)})"
    return "TRUE"


def _field_ok(name: str, kind: str, bounds: tuple[float | None, float | None] | None) -> str:
    x = _ident(name)
    if not kind.endswith("_list"):
        return f"({x} IS NULL OR {_item_ok(kind, x, bounds)})"
    item = kind[: -len("_list")]
    return (f"({x} IS NULL OR len({x}) = 0 OR (NOT list_contains(list_transform({x}, "
            f"lambda v: v IS NULL), TRUE) AND list_bool_and(list_transform({x}, "
            f"lambda v: {_item_ok(item, 'v', bounds)}))))")


def parquet_check_sql(path: str, types: Mapping[str, str],
                      ranges: Mapping[str, tuple[float | None, float | None]],
                      fields: Mapping[str, str | None]) -> str:
    """One row: the rows of ``path``, how many are not clean, how many distinct ids."""
    tests = [f"regexp_full_match(account_id, '{SOLID}(.*{SOLID})?')",
             f"NOT regexp_matches(account_id, '{ID_CONTROL_RE2}')"]
    tests += [_field_ok(name, types[name], ranges.get(name))
              for name, column in fields.items() if column is not None]
    return (f"SELECT count(*), count(*) FILTER (WHERE NOT ({' AND '.join(tests)})), "
            f"count(DISTINCT account_id) FROM read_parquet({quote_text(path)})")


def _standard(kind: str) -> str:
    if kind.endswith("_list"):
        return _STANDARD[kind[: -len("_list")]] + "[]"
    return _STANDARD[kind]


def parquet_view_sql(path: str, types: Mapping[str, str], fields: Mapping[str, str | None],
                     view: str, lines: bool = False) -> str:
    """The view ``view`` over ``path`` with the columns of the JSON Lines view
    (``_row``, ``_ints``, one column per field of its standard type), in file order
    (``lines``: see :func:`typed_view_sql`).

    ``_ints`` has a bit per ``number`` field held in an integer column (see
    ``integer_bits``), as the reader keeps those values as integers.
    """
    columns = []
    for name, kind in types.items():
        column = fields.get(name)
        value = f"CAST(NULL AS {_standard(kind)})" if column is None else \
            f"CAST({_ident(name)} AS {_standard(kind)})"
        if column is not None and kind.endswith("_list"):
            value = f"CASE WHEN len({_ident(name)}) = 0 THEN NULL ELSE {value} END"
        columns.append(f"{value} AS {_ident(name)}")
    bits = [f"CASE WHEN {_ident(name)} IS NULL THEN 0 ELSE {bit} END"
            for bit, name in integer_bits(types) if fields.get(name) in _INTEGERS]
    return typed_view_sql(view, bits, columns, f"read_parquet({quote_text(path)})", lines)
