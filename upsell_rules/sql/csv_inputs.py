"""DuckDB reading a CSV file of accounts: each cell checked and typed, as for JSON Lines.

DuckDB's ``read_csv`` reads every cell as text, with the dialect of the bundled CSV
source spelled out (header row, the separator, ``"`` quoting with ``""`` for a quote, no
sniffing). :func:`csv_check_sql` then says whether each row is clean: whether the Python
reader (``io/coercion.py`` on the text of each cell) would take every cell as it is,
with no conversion, warning or error. The rules are deliberately narrower than what
the reader accepts; each kind of cell is taken only in a form that both read the same:

- an empty cell: missing (the reader leaves it out);
- text: no space of any kind at either end (the reader strips cells);
- a number: plain decimal text (``12``, ``-3.25``, ``0.5``; no sign ``+``, exponent,
  leading or trailing ``.``, leading zero, ``-0``, spaces) with at most 15 digits
  before the point. Python's ``float`` and DuckDB's ``DOUBLE`` both round such text to
  the nearest double; one without a fraction is an integer to the reader, and a double
  holds every integer of 15 digits exactly;
- an integer: ``0`` or ``-?[1-9][0-9]*`` of at most 18 digits;
- a boolean: one of the reader's words (``true``, ``yes``, ``y``, ``1``, ``t`` and
  their opposites) in any ASCII letter case;
- a date: ``YYYY-MM-DD`` that is a real day from year 1;
- a list: items separated by ``|``, each clean as its type, none empty.

:func:`csv_view_sql` is the view the compiled query reads, with the columns of the
JSON Lines view (``sql/input_checks.py``): ``_row``, ``_ints``, a typed column per field
(``NULL`` for a field the header does not have). The shape of the file (the header,
one row per line, the number of cells, the quotes) is the caller's to check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from upsell_rules.io.contract import ID_CONTROL_RE2, TOTALS_ROW_ID
from upsell_rules.sql.input_checks import (
    SOLID,
    in_range,
    integer_bits,
    quote_text,
    typed_view_sql,
)

#: At most 15 digits before the point: finite, and an integer is below 2**53.
_NUMBER = r"(0|-?[1-9][0-9]{0,14})(\.[0-9]+)?|-0\.[0-9]+"
_INTEGER = "0|-?[1-9][0-9]{0,17}"
_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TRUE = ("true", "yes", "y", "1", "t")
_FALSE = ("false", "no", "n", "0", "f")
_TYPES = {"number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN",
          "string": "VARCHAR", "date": "DATE"}

Bounds = tuple[float | None, float | None] | None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _words(words: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{w}'" for w in words) + ")"


def read_csv_sql(path: str, names: Sequence[str], separator: str) -> str:
    """DuckDB's reader over ``path``: every column of the header, in order, as text."""
    columns = ", ".join(f"{quote_text(name)}: 'VARCHAR'" for name in names)
    return (f"read_csv({quote_text(path)}, delim = {quote_text(separator)}, quote = '\"', "
            f"escape = '\"', header = true, auto_detect = false, strict_mode = true, "
            f"null_padding = false, columns = {{{columns}}})")


def _scalar_ok(c: str, kind: str, bounds: Bounds) -> str:
    """The test that the non-empty cell text ``c`` is clean as ``kind``."""
    if kind == "string":
        return f"regexp_full_match({c}, '{SOLID}(.*{SOLID})?')"
    if kind == "number":
        value = f"TRY_CAST({c} AS DOUBLE)"
        return f"(regexp_full_match({c}, '{_NUMBER}') AND {in_range(value, bounds)})"
    if kind == "integer":
        return (f"(regexp_full_match({c}, '{_INTEGER}') AND "
                f"{in_range(f'TRY_CAST({c} AS BIGINT)', bounds)})")
    if kind == "boolean":
        return (f"(regexp_full_match({c}, '[A-Za-z01]{{1,5}}') AND "
                f"lower({c}) IN {_words(_TRUE + _FALSE)})")
    if kind == "date":
        return (f"(regexp_full_match({c}, '{_DATE}') AND {c} >= '0001' "
                f"AND TRY_CAST({c} AS DATE) IS NOT NULL)")
    return "FALSE"


def cell_check(c: str, kind: str, bounds: Bounds) -> str:
    """Whether the cell ``c`` (text, ``NULL`` when empty) is clean as ``kind``."""
    if not kind.endswith("_list"):
        test = _scalar_ok(c, kind, bounds)
    else:
        item = _scalar_ok("x", kind[: -len("_list")], bounds)
        test = f"list_bool_and(list_transform(string_split({c}, '|'), lambda x: {item}))"
    return f"({c} IS NULL OR {c} = '' OR coalesce({test}, FALSE))"


def csv_check_sql(path: str, names: Sequence[str], separator: str,
                  types: Mapping[str, str], ranges: Mapping[str, Bounds]) -> str:
    """One row: the rows DuckDB read, how many are not clean, how many distinct ids.

    Columns the ruleset and the contract do not know are read and ignored, as the
    reader ignores them."""
    tests = [f"coalesce(regexp_full_match(account_id, '{SOLID}(.*{SOLID})?'), FALSE)",
             f"NOT coalesce(regexp_full_match(account_id, '{TOTALS_ROW_ID}'), FALSE)",
             f"NOT coalesce(regexp_matches(account_id, '{ID_CONTROL_RE2}'), FALSE)"]
    tests += [cell_check(_ident(name), types[name], ranges.get(name))
              for name in names if name in types and name != "account_id"]
    return (f"SELECT count(*), count(*) FILTER (WHERE NOT ({' AND '.join(tests)})), "
            f"count(DISTINCT account_id) FROM {read_csv_sql(path, names, separator)}")


def _typed(c: str, kind: str) -> str:
    """The typed value of a clean cell ``c`` (``NULL`` when empty)."""
    if kind.endswith("_list"):
        items = f"string_split({c}, '|')"
        item = kind[: -len("_list")]
        return items if item == "string" else f"CAST({items} AS {_TYPES[item]}[])"
    if kind == "boolean":
        return f"lower({c}) IN {_words(_TRUE)}"
    return c if kind == "string" else f"CAST({c} AS {_TYPES[kind]})"


def _sql_type(kind: str) -> str:
    if kind.endswith("_list"):
        return _TYPES[kind[: -len("_list")]] + "[]"
    return _TYPES[kind]


def csv_view_sql(path: str, names: Sequence[str], separator: str, types: Mapping[str, str],
                 view: str, lines: bool = False) -> str:
    """The view ``view`` over ``path``: ``_row`` (the row's number, from 1), ``_ints`` and
    a typed column per field, in file order (``lines``: see :func:`typed_view_sql`).
    Right only for a file :func:`csv_check_sql` found clean (and whose shape the caller
    checked).

    ``_ints`` has a bit per ``number`` field written without a fraction (the reader
    keeps those as integers).
    """
    present = set(names)
    columns = []
    for name, kind in types.items():
        cell = f"NULLIF({_ident(name)}, '')"
        value = (f"CAST({_typed(cell, kind)} AS {_sql_type(kind)})" if name in present
                 else f"CAST(NULL AS {_sql_type(kind)})")
        columns.append(f"{value} AS {_ident(name)}")
    bits = [f"CASE WHEN {_ident(name)} IS NULL OR {_ident(name)} = '' "
            f"OR contains({_ident(name)}, '.') THEN 0 ELSE {bit} END"
            for bit, name in integer_bits(types) if name in present]
    return typed_view_sql(view, bits, columns, read_csv_sql(path, names, separator), lines)
