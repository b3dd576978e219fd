"""DuckDB reading a JSON Lines file of accounts: each field typed, each record checked.

:func:`typed_inputs_sql` gives a query with one row per line: ``_row`` (the line
number), ``_clean`` (whether the Python reader would take every field of the record as
it is, with no conversion, warning or error), ``_ints`` (a bit per ``number`` field
written as an integer, which the reader keeps as an ``int``) and a typed column per
field. Only records that are clean are decided from these columns; the rules for
"clean" are deliberately narrower than what the reader accepts (see
``io/coercion.py``: its fast paths are what is mirrored here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

#: JSON numbers whose value a double holds exactly as the reader's Python int.
_EXACT_INT = 9007199254740992
#: A first (or last) character Python's ``str.isspace`` is false for: printable ASCII,
#: or a code point past U+00A0 that is not one of Unicode's spaces.
_SOLID = (r"[!-~\x{A1}-\x{167F}\x{1681}-\x{1FFF}\x{200B}-\x{2027}\x{2030}-\x{205E}"
          r"\x{2060}-\x{2FFF}\x{3001}-\x{10FFFF}]")
_ISO_DAY = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_NUMERIC = "('BIGINT', 'UBIGINT', 'DOUBLE')"
_INTEGRAL = "('BIGINT', 'UBIGINT')"


#: What the reader accepts without looking twice, for the line as a whole: an object;
#: no more colons than distinct keys (the reader re-reads a line with more, to refuse a
#: key written twice, anywhere); no NaN or Infinity, which DuckDB reads and the reader
#: refuses. (Lone surrogates and bytes that are not UTF-8 stop DuckDB's reader itself.)
_LINE_CHECKS = (
    "json_type(json) = 'OBJECT'",
    "length(json) - length(replace(json, ':', '')) <= len(list_distinct(json_keys(json)))",
    "NOT contains(json, 'NaN') AND NOT contains(json, 'Infinity')",
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _absent(j: str) -> str:
    return f"({j} IS NULL OR json_type({j}) = 'NULL')"


def _in_range(value: str, bounds: tuple[float | None, float | None] | None) -> str:
    low, high = bounds if bounds is not None else (None, None)
    tests = [f"{value} >= {float(low)!r}" if low is not None else "",
             f"{value} <= {float(high)!r}" if high is not None else ""]
    kept = [t for t in tests if t]
    return " AND ".join(kept) if kept else "TRUE"


def _number_ok(j: str) -> str:
    """A JSON number the reader keeps as it is and a double holds exactly."""
    return (f"(json_type({j}) IN {_INTEGRAL} AND abs(CAST({j} AS DOUBLE)) < {_EXACT_INT}) OR "
            f"(json_type({j}) = 'DOUBLE' AND regexp_matches(CAST({j} AS VARCHAR), '[.eE]') "
            f"AND isfinite(CAST({j} AS DOUBLE)))")


def _integer_ok(j: str) -> str:
    return f"json_type({j}) IN {_INTEGRAL} AND TRY_CAST({j} AS BIGINT) IS NOT NULL"


def _text_ok(j: str) -> str:
    return (f"json_type({j}) = 'VARCHAR' AND "
            f"regexp_matches(({j} ->> '$'), '^{_SOLID}')")


def _date_ok(j: str) -> str:
    text = f"({j} ->> '$')"
    return (f"json_type({j}) = 'VARCHAR' AND regexp_full_match({text}, '{_ISO_DAY}') "
            f"AND {text} >= '0001' AND TRY_CAST({text} AS DATE) IS NOT NULL")


#: type -> (the typed value of JSON value ``j``, the test that ``j`` is already of it).
_SCALARS: dict[str, tuple[Callable[[str], str], Callable[[str], str]]] = {
    "number": (lambda j: f"CAST({j} AS DOUBLE)", _number_ok),
    "integer": (lambda j: f"TRY_CAST({j} AS BIGINT)", _integer_ok),
    "boolean": (lambda j: f"CAST({j} AS BOOLEAN)", lambda j: f"json_type({j}) = 'BOOLEAN'"),
    "string": (lambda j: f"({j} ->> '$')", _text_ok),
    "date": (lambda j: f"TRY_CAST(({j} ->> '$') AS DATE)", _date_ok),
}


def _field(j: str, kind: str, bounds: tuple[float | None, float | None] | None
           ) -> tuple[str, str]:
    """(typed value, clean test) of one field held in JSON value ``j``."""
    if not kind.endswith("_list"):
        make, ok = _SCALARS[kind]
        value = make(j)
        clean = f"({ok(j)})"
        if kind in ("number", "integer"):
            clean = f"({clean} AND {_in_range(value, bounds)})"
        return f"CASE WHEN {_absent(j)} THEN NULL ELSE {value} END", \
            f"({_absent(j)} OR {clean})"
    make, ok = _SCALARS[kind[: -len("_list")]]
    items = f"json_extract({j}, '$[*]')"
    item_ok = f"list_bool_and(list_transform({items}, lambda x: ({ok('x')})))"
    if kind in ("number_list", "integer_list"):
        item_ok += (f" AND list_bool_and(list_transform({items}, lambda x: "
                    f"{_in_range(make('x'), bounds)}))")
    if kind == "string_list":
        item_ok += f" AND NOT list_contains(list_transform({items}, lambda x: x ->> '$'), '')"
    empty = f"len({items}) = 0"
    value = (f"CASE WHEN {_absent(j)} OR {empty} THEN NULL "
             f"ELSE list_transform({items}, lambda x: {make('x')}) END")
    clean = (f"({_absent(j)} OR (json_type({j}) = 'ARRAY' AND "
             f"({empty} OR ({item_ok}))))")
    return value, clean


def typed_inputs_sql(path: str, types: Mapping[str, str],
                     ranges: Mapping[str, tuple[float | None, float | None]]) -> str:
    """The query reading ``path`` (JSON Lines) into typed, checked columns; see above."""
    names = list(types)
    paths = ", ".join(_quote("$." + _json_key(n)) for n in names)
    columns: list[str] = []
    cleans = [*_LINE_CHECKS, _account_id_ok(f"_j[{names.index('account_id') + 1}]")]
    for index, name in enumerate(names, start=1):
        value, clean = _field(f"_j[{index}]", types[name], ranges.get(name))
        columns.append(f"{value} AS {_ident(name)}")
        cleans.append(clean)
    bits = [f"CASE WHEN json_type(_j[{names.index(name) + 1}]) IN {_INTEGRAL} THEN {bit} "
            "ELSE 0 END" for bit, name in integer_bits(types)]
    ints = " + ".join(bits) if bits else "0"
    source = (f"SELECT json, json_extract(json, [{paths}]) AS _j "
              f"FROM read_ndjson_objects({_quote(path)})")
    return (f"SELECT row_number() OVER () AS _row, ({' AND '.join(cleans)}) AS _clean, "
            f"CAST({ints} AS BIGINT) AS _ints, {', '.join(columns)} FROM ({source})")


def _account_id_ok(j: str) -> str:
    """A text id with no space at either end (the reader strips ids)."""
    text = f"({j} ->> '$')"
    return (f"json_type({j}) = 'VARCHAR' AND regexp_full_match({text}, "
            f"'{_SOLID}(.*{_SOLID})?')")


def integer_bits(types: Mapping[str, str]) -> list[tuple[int, str]]:
    """(bit of ``_ints``, field) for each ``number`` field, in field order: the bit is set
    when the record wrote that number as an integer."""
    numbers = [name for name, kind in types.items() if kind == "number"]
    return [(1 << index, name) for index, name in enumerate(numbers)]


def _json_key(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
