"""DuckDB reading a JSON Lines file of accounts: each field typed, each record checked.

A file is read twice, and held nowhere. :func:`check_sql` reads every line and says
whether each record is clean: whether the Python reader would take every field of it
as it is, with no conversion, warning or error. Only a file whose records are all clean
is decided here; the rules for "clean" are deliberately narrower than what the reader
accepts (see ``io/coercion.py``: its fast paths are what is mirrored here). Then
:func:`accounts_view_sql` is the view ``_accounts`` the compiled query reads: ``_row``
(the line number), ``_ints`` (a bit per ``number`` field written as an integer, which
the reader keeps as an ``int``) and a typed column per field, from DuckDB's typed JSON
reader.

Every test works on the text of one field as DuckDB's JSON reader writes it back
(``json_extract``: compact, numbers and strings re-written from their values). Most
values are settled by a comparison or one short regular expression on that text; a
value the short test does not take goes to the exact test (``json_type`` and the
decoded value), so the verdict is always the exact test's. The short tests only ever
take values the exact test takes (tests/sql/test_input_checks.py tries both on many
values).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from upsell_rules.io.contract import ID_CONTROL_RE2

#: JSON numbers whose value a double holds exactly as the reader's Python int.
EXACT_INT = 9007199254740992
#: A first (or last) character Python's ``str.isspace`` is false for: printable ASCII,
#: or a code point past U+00A0 that is not one of Unicode's spaces.
SOLID = (r"[!-~\x{A1}-\x{167F}\x{1681}-\x{1FFF}\x{200B}-\x{2027}\x{2030}-\x{205E}"
          r"\x{2060}-\x{2FFF}\x{3001}-\x{10FFFF}]")
#: Printable ASCII but a quote or a backslash: a character of a JSON string's text that
#: is itself (no escape), and not a space.
_PLAIN = r"[!#-\[\]-~]"
_ISO_DAY = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_INTEGRAL = "('BIGINT', 'UBIGINT')"
#: A number in a list the short test takes: an integer of at most 15 digits (below
#: 2**53), or one with a fraction and no exponent (finite).
_LIST_NUMBER = r"-?[0-9]{1,15}(\.[0-9]+)?"
_LIST_INTEGER = "-?[0-9]{1,18}"
#: A text in a list the short test takes: no escape, no space first.
_LIST_TEXT = rf'"{_PLAIN}[^"\\]*"'


def quote_text(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def in_range(value: str, bounds: tuple[float | None, float | None] | None) -> str:
    """The test that SQL ``value`` is within a field's ``min:``/``max:`` (``TRUE``: none)."""
    low, high = bounds if bounds is not None else (None, None)
    tests = [f"{value} >= {float(low)!r}" if low is not None else "",
             f"{value} <= {float(high)!r}" if high is not None else ""]
    kept = [t for t in tests if t]
    return " AND ".join(kept) if kept else "TRUE"


# --- the exact tests, on a JSON value j ------------------------------------------------

def _number_exact(j: str) -> str:
    """A JSON number the reader keeps as it is and a double holds exactly."""
    return (f"(json_type({j}) IN {_INTEGRAL} AND abs(TRY_CAST({j} AS DOUBLE)) < {EXACT_INT}) "
            f"OR (json_type({j}) = 'DOUBLE' AND regexp_matches(CAST({j} AS VARCHAR), '[.eE]') "
            f"AND isfinite(TRY_CAST({j} AS DOUBLE)))")


def _integer_exact(j: str) -> str:
    return f"json_type({j}) IN {_INTEGRAL} AND TRY_CAST({j} AS BIGINT) IS NOT NULL"


def _text_exact(j: str) -> str:
    return (f"json_type({j}) = 'VARCHAR' AND "
            f"regexp_matches(({j} ->> '$'), '^{SOLID}')")


def _date_exact(j: str) -> str:
    text = f"({j} ->> '$')"
    return (f"json_type({j}) = 'VARCHAR' AND regexp_full_match({text}, '{_ISO_DAY}') "
            f"AND {text} >= '0001' AND TRY_CAST({text} AS DATE) IS NOT NULL")


#: type -> (the typed value of JSON value ``j``, the exact test that ``j`` is of it). Never
#: an error, whatever ``j`` holds (DuckDB's message for a failed cast may cut a character
#: in two, which the Python client cannot even decode).
_EXACT: dict[str, tuple[Callable[[str], str], Callable[[str], str]]] = {
    "number": (lambda j: f"TRY_CAST({j} AS DOUBLE)", _number_exact),
    "integer": (lambda j: f"TRY_CAST({j} AS BIGINT)", _integer_exact),
    "boolean": (lambda j: f"TRY_CAST({j} AS BOOLEAN)", lambda j: f"json_type({j}) = 'BOOLEAN'"),
    "string": (lambda j: f"({j} ->> '$')", _text_exact),
    "date": (lambda j: f"TRY_CAST(({j} ->> '$') AS DATE)", _date_exact),
}


def _exact(j: str, kind: str, bounds: tuple[float | None, float | None] | None) -> str:
    """The exact test that JSON value ``j`` (not null) is clean as ``kind``."""
    if not kind.endswith("_list"):
        make, ok = _EXACT[kind]
        if kind in ("number", "integer"):
            return f"({ok(j)}) AND {in_range(make(j), bounds)}"
        return ok(j)
    make, ok = _EXACT[kind[: -len("_list")]]
    items = f"json_extract({j}, '$[*]')"
    item_ok = f"list_bool_and(list_transform({items}, lambda x: ({ok('x')})))"
    if kind in ("number_list", "integer_list"):
        item_ok += (f" AND list_bool_and(list_transform({items}, lambda x: "
                    f"{in_range(make('x'), bounds)}))")
    if kind == "string_list":
        item_ok += f" AND NOT list_contains(list_transform({items}, lambda x: x ->> '$'), '')"
    return f"json_type({j}) = 'ARRAY' AND (len({items}) = 0 OR ({item_ok}))"


# --- the short tests and the typed values, on the text t of a JSON value ---------------

def _is_number(t: str) -> str:
    # A JSON value's text starts with '-' or a digit exactly when it is a number.
    return f"({t} >= '-' AND {t} < ':')"


def _whole(t: str) -> str:
    """Written as an integer (DuckDB writes back every double with '.', 'e' or 'E')."""
    return f"NOT regexp_matches({t}, '[.eE]')"


def _number_short(t: str, bounds: tuple[float | None, float | None] | None) -> str:
    value = f"TRY_CAST({t} AS DOUBLE)"
    return (f"{_is_number(t)} AND CASE WHEN {_whole(t)} THEN abs({value}) < {EXACT_INT} "
            f"ELSE isfinite({value}) END AND {in_range(value, bounds)}")


def _integer_short(t: str, bounds: tuple[float | None, float | None] | None) -> str:
    # The text a BIGINT is written as: no fraction, no exponent, no "-0" (quicker than
    # a regular expression looking for '.', 'e' or 'E').
    value = f"TRY_CAST({t} AS BIGINT)"
    return (f"{_is_number(t)} AND CAST({value} AS VARCHAR) = {t} "
            f"AND {in_range(value, bounds)}")


def _list_range(value: str, bounds: tuple[float | None, float | None] | None) -> str:
    low, high = bounds if bounds is not None else (None, None)
    tests = [f"list_min({value}) >= {float(low)!r}" if low is not None else "",
             f"list_max({value}) <= {float(high)!r}" if high is not None else ""]
    kept = [t for t in tests if t]
    # An empty list has no least or greatest item (NULL): it is within any bounds.
    return f"coalesce({' AND '.join(kept)}, TRUE)" if kept else "TRUE"


def _list_of(item: str) -> str:
    return rf"\[({item}(,{item})*)?\]"


def _short(t: str, kind: str, bounds: tuple[float | None, float | None] | None) -> str:
    """A test on text ``t`` that only takes values the exact test takes."""
    if kind == "number":
        return _number_short(t, bounds)
    if kind == "integer":
        return _integer_short(t, bounds)
    if kind == "boolean":
        return f"{t} IN ('true', 'false')"
    if kind == "string":
        return f"regexp_matches({t}, '^\"{_PLAIN}')"
    if kind == "date":
        return (f"regexp_full_match({t}, '\"{_ISO_DAY}\"') AND {t} >= '\"0001' "
                f"AND TRY_CAST(substr({t}, 2, 10) AS DATE) IS NOT NULL")
    if kind in ("integer_list", "number_list"):
        item = _LIST_INTEGER if kind == "integer_list" else _LIST_NUMBER
        return (f"regexp_full_match({t}, '{_list_of(item)}') "
                f"AND {_list_range(_value(t, kind), bounds)}")
    if kind == "string_list":
        return f"regexp_full_match({t}, '{_list_of(_LIST_TEXT)}')"
    return "FALSE"  # date lists: the exact test only (rare, and cheap enough)


def _value(t: str, kind: str) -> str:
    """The typed value of text ``t`` (a text, or a list of numbers): right for every
    clean value (anything for others), and never an error."""
    if kind == "string":
        return (f"CASE WHEN NOT starts_with({t}, '\"') THEN NULL WHEN contains({t}, '\\') "
                f"THEN (CAST({t} AS JSON) ->> '$') ELSE {t}[2:-2] END")
    # JSON's own reader, not a cast from text: three times quicker on lists of numbers
    # (``t`` is always JSON, written back by DuckDB, so it never fails to parse).
    item = "BIGINT" if kind == "integer_list" else "DOUBLE"
    return f"from_json({t}, '[\"{item}\"]')"


def field_check(t: str, kind: str, bounds: tuple[float | None, float | None] | None) -> str:
    """Whether the field whose JSON text is ``t`` (NULL: absent) is clean as ``kind``."""
    return (f"CASE WHEN {t} IS NULL OR {t} = 'null' THEN TRUE "
            f"WHEN {_short(t, kind, bounds)} THEN TRUE "
            f"ELSE coalesce({_exact(f'CAST({t} AS JSON)', kind, bounds)}, FALSE) END")


def date_text_check(v: str) -> str:
    """Whether a ``date`` field read as text (``v``: DuckDB's ``VARCHAR`` reading, NULL when
    absent or null) is clean. That reading is a string's decoded text and any other JSON
    value's own text, and no number, literal, list or object is written like a date, so
    this is the exact test: no written-back JSON text to make, no quotes to skip."""
    return (f"({v} IS NULL OR coalesce(regexp_full_match({v}, '{_ISO_DAY}') "
            f"AND {v} >= '0001' AND TRY_CAST({v} AS DATE) IS NOT NULL, FALSE))")


def _account_id_check(t: str) -> str:
    """A text id with no space at either end (the reader strips ids). The short test
    takes only text without an escape: ``"A\\t"`` ends with a tab, not a ``t``."""
    j = f"CAST({t} AS JSON)"
    text = f"({j} ->> '$')"
    exact = (f"json_type({j}) = 'VARCHAR' AND regexp_full_match({text}, "
             f"'{SOLID}(.*{SOLID})?') AND NOT regexp_matches({text}, '{ID_CONTROL_RE2}')")
    # A control character inside is written raw (DEL, C1, U+2028...) or escaped (a
    # backslash: the exact test, on the decoded text).
    return (f"CASE WHEN regexp_full_match({t}, '\"{_PLAIN}([^\\\\]*{_PLAIN})?\"') THEN "
            f"NOT regexp_matches({t}, '{ID_CONTROL_RE2}') "
            f"ELSE coalesce({exact}, FALSE) END")


def _as(path: str, types: Mapping[str, str], kinds: Mapping[str, str]) -> str:
    """DuckDB's typed JSON Lines reader over ``path``, field ``name`` read as
    ``kinds[types[name]]`` (an object per line, or an error)."""
    read = ", ".join(f"{quote_text(n)}: '{kinds[kind]}'" for n, kind in types.items())
    return (f"read_json({quote_text(path)}, format = 'newline_delimited', "
            f"columns = {{{read}}})")


def check_sql(path: str, types: Mapping[str, str],
              ranges: Mapping[str, tuple[float | None, float | None]]) -> str:
    """One row: the lines DuckDB read in ``path``, how many are not clean, how many
    fields not null they hold in all, how many commas a clean line of those fields
    holds in all (see :func:`colons_sql`), and how many distinct account ids.

    Each field is read as its JSON text (a date as its text). DuckDB refuses a line that is
    not an object, and a key of the contract written twice in a line. Left to the caller:
    no NaN or Infinity (which DuckDB reads and the reader refuses), no more colons than
    keys and no trailing comma (see :func:`colons_sql`).
    """
    texts = {name: f"CAST({_ident(name)} AS VARCHAR)" for name in types}
    cleans = [_account_id_check(texts["account_id"])]
    cleans += [date_text_check(texts[n]) if types[n] == "date"
               else field_check(texts[n], types[n], ranges.get(n)) for n in types]
    present = " + ".join(f"CAST({_ident(n)} IS NOT NULL AS INTEGER)" for n in types)
    # The commas between the fields, and those a text or a list holds (none in a clean
    # number, boolean or date): DuckDB writes each value back without a trailing comma.
    # Bytes, not characters (a comma is one byte): strlen does not decode the text.
    commas = " + ".join([f"greatest({present} - 1, 0)",
                         *(f"coalesce(strlen({texts[n]}) - strlen(replace({texts[n]}, ',', "
                           "'')), 0)" for n, kind in types.items()
                           if kind == "string" or kind.endswith("_list"))])
    account = _value(texts["account_id"], "string")
    return (f"SELECT count(*), count(*) FILTER (WHERE NOT ({' AND '.join(cleans)})), "
            f"coalesce(sum({present}), 0), coalesce(sum({commas}), 0), "
            f"count(DISTINCT {account}) "
            f"FROM {_as(path, types, _CHECK_READS)}")


def colons_sql(path: str) -> str:
    """The number of lines of ``path`` the reader may not take as DuckDB does: with more
    colons than distinct keys, a trailing comma, or a NaN or an infinity in any letter
    case.

    The reader re-reads a line with more colons than keys to refuse a key written twice,
    anywhere, so a colon in a text value or in a nested object sends the file to the
    reader too. DuckDB takes a comma before a closing bracket or brace, and ``nan`` or
    ``-inf`` as numbers, where the reader says the line is not JSON (the same text
    inside a value sends the file to the reader too). Each key has its colon: when the
    colons of the file (the caller counts them as it counts lines) are no more than the
    fields not null :func:`check_sql` found, every line has exactly one colon per field
    and no other key; when its commas are as many as the clean fields hold, there is no
    trailing comma either (a value is not written back with one), and this slower
    query is not needed. A file with other keys, or fields written as ``null``, needs it.
    """
    return ("SELECT count(*) FILTER (WHERE length(json) - length(replace(json, ':', '')) "
            "> len(list_distinct(json_keys(json))) "
            r"OR regexp_matches(json, ',[ \t]*[\]}]|[:,\[][ \t]*[-+]?(?i:nan|inf)')) "
            f"FROM read_ndjson_objects({quote_text(path)})")


#: Field type -> the DuckDB type ``read_json`` gives it (numbers stay JSON text, so that
#: the ones written as integers are known).
_READ_AS = {"number": "JSON", "integer": "BIGINT", "boolean": "BOOLEAN", "string": "VARCHAR",
            "date": "DATE", "number_list": "DOUBLE[]", "integer_list": "BIGINT[]",
            "string_list": "VARCHAR[]", "date_list": "DATE[]"}


#: Field type -> the DuckDB type the check reads it as: each value's JSON text, but a date's
#: plain text (see :func:`date_text_check`).
_CHECK_READS = {**{kind: "JSON" for kind in _READ_AS}, "date": "VARCHAR"}


def accounts_view_sql(path: str, types: Mapping[str, str], view: str = "_accounts",
                      lines: bool = False) -> str:
    """The view ``view`` over ``path`` (see :func:`typed_view_sql`): ``_row``, ``_ints``, a
    typed column per field.

    Right only for a file :func:`check_sql` found clean (DuckDB's typed reader is
    lenient: it would read ``"12"`` as a number). It reads the file again each time it
    is queried, in file order. With ``lines`` (the view the record lines are written
    from), ``number`` fields are read as doubles straight away and there is no ``_row``.
    """
    kinds = {**_READ_AS, "number": "DOUBLE"} if lines else _READ_AS
    columns = []
    for name, kind in types.items():
        field = _ident(name)
        if kind == "number" and not lines:
            field = f"CAST({field} AS DOUBLE) AS {field}"
        elif kind.endswith("_list"):
            field = f"CASE WHEN len({field}) = 0 THEN NULL ELSE {field} END AS {field}"
        columns.append(field)
    bits = [f"CASE WHEN {_whole(f'CAST({_ident(name)} AS VARCHAR)')} THEN {bit} ELSE 0 END"
            for bit, name in integer_bits(types)]
    return typed_view_sql(view, bits, columns, _as(path, types, kinds), lines)


def typed_view_sql(view: str, bits: Sequence[str], columns: Sequence[str], source: str,
                   lines: bool) -> str:
    """``CREATE VIEW view`` over ``source`` (a JSON Lines, CSV or Parquet reader): ``_row``
    (the row's number, from 1), ``_ints`` (the sum of ``bits``: a bit per ``number``
    field written as an integer, which the reader keeps as an ``int``) and ``columns``,
    in file order (``preserve_insertion_order``, DuckDB's default).

    With ``lines``, the view the record lines are written from: ``_ints`` is 0 (text
    shows ``6300`` and ``6300.0`` alike) and there is no ``_row``. Numbering the rows
    (``row_number() OVER ()``) would make DuckDB run the whole query on one thread; the
    rows still come in file order (DuckDB keeps the order of a single table read through
    projections), and the caller numbers them as they come.
    """
    ints = " + ".join(bits) if bits and not lines else "0"
    row = "" if lines else "row_number() OVER () AS _row, "
    return (f"CREATE VIEW {view} AS SELECT {row}CAST({ints} AS BIGINT) AS _ints, "
            f"{', '.join(columns)} FROM {source}")


def integer_bits(types: Mapping[str, str]) -> list[tuple[int, str]]:
    """(bit of ``_ints``, field) for each ``number`` field, in field order: the bit is set
    when the record wrote that number as an integer."""
    numbers = [name for name, kind in types.items() if kind == "number"]
    return [(1 << index, name) for index, name in enumerate(numbers)]


def _json_key(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
