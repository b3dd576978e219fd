"""The text of a decision record in DuckDB SQL, equal to what Python writes.

Each function returns one DuckDB ``VARCHAR`` expression as a plain string:

- :func:`template_sql`: a message template filled for the row, equal to
  :meth:`Template.render <upsell_rules.ruleset.templates.Template.render>`;
- :func:`json_string_sql`: a text as ``json.dumps(..., ensure_ascii=False)`` writes it;
- :func:`float_json_sql`: a double as ``json.dumps`` writes it (Python's ``repr``);
- :func:`score_text_sql`: a score as :func:`upsell_rules.engine.outline.score_text` shows it.

An expression is ``NULL`` wherever SQL cannot be sure to give Python's text (a double
beyond the 64-bit integers, a date outside years 1-9999, a template that may render to
more than :data:`MAX_RENDERED` characters): the caller renders those rows in Python. The
common case stays cheap: no regular expression runs unless a value holds white space
other than a single space.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from upsell_rules.ruleset.templates import MAX_RENDERED, Template, format_value
from upsell_rules.sql.errors import NotCompilable

#: What Python's ``str.split()`` splits on, as a regular expression class (RE2 syntax).
WHITESPACE = (
    r"[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
)
#: The same class without the plain space.
_OTHER_WHITESPACE = WHITESPACE.replace(r"\r\x1c-\x1f ", r"\r\x1c-\x1f")

#: Doubles whose integral part fits a BIGINT (below 2**63), so its text is exact.
_INT_LIMIT = "9.2e18"
#: The most characters one non-text value renders to (``$-9,223,372,036,854,775,808``).
_WORD_MAX = 32

_SCALAR_TYPES = ("DOUBLE", "BIGINT", "INTEGER", "BOOLEAN", "DATE", "VARCHAR")


@dataclass(frozen=True)
class Column:
    """A placeholder the query computes: a SQL expression and its DuckDB type name."""

    sql: str
    type: str


@dataclass(frozen=True)
class Constant:
    """A placeholder known when the query is compiled (``None``: absent)."""

    value: Any


#: A placeholder with no value (shows ``n/a``, drops its optional part); ``None`` too.
ABSENT = Constant(None)

Placeholder = Column | Constant | None


def quote(text: str) -> str:
    """``text`` as a DuckDB string literal (``NULL`` for a lone surrogate, which has no UTF-8)."""
    if any(0xD800 <= ord(char) <= 0xDFFF for char in text):
        return "NULL"
    pieces = ["'" + piece.replace("'", "''") + "'" for piece in text.split("\x00")]
    return " || chr(0) || ".join(pieces) if len(pieces) > 1 else pieces[0]


def _normalize(text: str) -> str:
    """Every white space character becomes a space (runs are collapsed at the end)."""
    return "".join(" " if char.isspace() else char for char in text)


# ---------------------------------------------------------------------------- values


def _number(x: str) -> str:
    """A finite double as ``_fmt_number`` writes it."""
    trimmed = f"rtrim(rtrim(printf('%.2f', {x}), '0'), '.')"
    return (
        f"CASE WHEN {x} = trunc({x}) THEN CASE WHEN abs({x}) < {_INT_LIMIT} "
        f"THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) END "
        f"WHEN {trimmed} = '-0' THEN '0' ELSE {trimmed} END"
    )


def _rounded(x: str) -> str:
    """Python's ``round(x)`` of a finite double, as a BIGINT (NULL beyond 2**63)."""
    return f"CASE WHEN abs({x}) < {_INT_LIMIT} THEN CAST(round_even({x}, 0) AS BIGINT) END"


def _double(x: str, fmt: str | None) -> str:
    if fmt == "pct":
        scaled = f"({x} * 100)"
        shown = f"CAST({_rounded(scaled)} AS VARCHAR) || '%'"
        return f"CASE WHEN isfinite({scaled}) THEN {shown} ELSE 'n/a' END"
    if fmt in ("int", "money"):
        shown = f"format('{{:,}}', {_rounded(x)})"
        shown = f"'$' || {shown}" if fmt == "money" else shown
    else:
        shown = _number(x)
    return f"CASE WHEN isfinite({x}) THEN {shown} ELSE 'n/a' END"


def _integer(x: str, fmt: str | None) -> str:
    if fmt == "int":
        return f"format('{{:,}}', {x})"
    if fmt == "money":
        return f"'$' || format('{{:,}}', {x})"
    if fmt == "pct":
        return f"CASE WHEN {x} = 0 THEN '0%' ELSE CAST({x} AS VARCHAR) || '00%' END"
    return f"CAST({x} AS VARCHAR)"


def _scalar(x: str, kind: str, fmt: str | None) -> str:
    """A present (non-NULL) value of ``kind`` as ``format_value`` writes it."""
    if kind == "VARCHAR":
        return x
    if kind == "BOOLEAN":
        return f"CASE WHEN {x} THEN 'yes' ELSE 'no' END"
    if kind == "DATE":
        return (f"CASE WHEN {x} BETWEEN DATE '0001-01-01' AND DATE '9999-12-31' "
                f"THEN CAST({x} AS VARCHAR) END")
    if kind == "DOUBLE":
        return _double(x, fmt)
    return _integer(x, fmt)


def _list(x: str, kind: str) -> str:
    """A present, non-empty list joined with ``, `` (NULL elements show ``None``)."""
    element = f"CASE WHEN e IS NULL THEN 'None' ELSE {_scalar('e', kind, None)} END"
    shown = f"list_transform({x}, lambda e: {element})"
    if kind in ("DOUBLE", "DATE"):  # an element SQL is unsure of makes the whole list NULL
        return f"CASE WHEN list_count({shown}) = len({x}) THEN array_to_string({shown}, ', ') END"
    return f"array_to_string({shown}, ', ')"


@dataclass(frozen=True)
class _Piece:
    """One literal or placeholder compiled.

    ``shown`` is its text when the row's text values are clean (no white space but
    single inner spaces, not empty), ``plain`` its text with every white space
    character made a space (the exact path collapses runs afterwards).
    """

    shown: str
    kind: str  # "word": no white space, never empty; "words": no run; "text": anything;
    #            else the literal text itself
    missing: str | None = None  # a SQL condition; None: never missing
    raw: str | None = None  # its text, when its length has no bound
    unclean: str | None = None  # a SQL condition: the text value is not clean
    plain: str | None = None  # None: same as shown


def _text(x: str, raw: str | None = None) -> _Piece:
    """A piece for a text of any content (a VARCHAR, or a list of them joined)."""
    return _Piece(x, "text", raw=raw or x,
                  unclean=f"regexp_matches({x}, '^$|^ | $|  |{_OTHER_WHITESPACE}')",
                  plain=f"regexp_replace({x}, '{_OTHER_WHITESPACE}', ' ', 'g')")


def _column(name: str, column: Column, fmt: str | None) -> _Piece:
    kind = column.type.strip().upper()
    x = f"({column.sql})"
    if kind in _SCALAR_TYPES:
        if kind == "VARCHAR":
            return replace(_text(x), missing=f"{x} IS NULL")
        return _Piece(_scalar(x, kind, fmt), "word", missing=f"{x} IS NULL")
    if kind.endswith("[]") and kind[:-2] in _SCALAR_TYPES:
        element = kind[:-2]
        joined = _list(x, element)
        missing = f"({x} IS NULL OR len({x}) = 0)"
        if element != "VARCHAR":
            return _Piece(joined, "words", missing=missing, raw=joined)
        return replace(_text(joined), missing=missing)
    raise NotCompilable(
        f"the template placeholder '{{{name}}}' has type {column.type}, which has no SQL "
        f"text form (expected one of {', '.join(_SCALAR_TYPES)} or a list of them)"
    )


def _literal(text: str) -> _Piece:
    plain = _normalize(text)
    return _Piece(quote(plain), plain)


def _piece(name: str, fmt: str | None, holder: Placeholder) -> tuple[_Piece, int] | None:
    """A placeholder's piece and its most characters (None: a constant that is missing)."""
    if isinstance(holder, Column):
        value = _column(name, holder, fmt)
        return value, 3 if value.raw is not None else _WORD_MAX  # 3: 'n/a' when missing
    if holder is None or holder.value is None or holder.value == []:
        return None
    text = format_value(holder.value, fmt)
    if len(text) > MAX_RENDERED:
        return _Piece("NULL", "word"), 0  # rendering it fails in Python: NULL sends it there
    return _literal(text), len(text)


class _Spacing:
    """Whether clean pieces put together may still need their white space collapsed.

    Literal text and constants are known, a non-text value never holds white space and
    is never empty, so the text needs no collapsing unless a dropped part or the
    literals can leave a double, leading or trailing space. The states are what the
    text so far ends with: nothing, a space, or something else.
    """

    def __init__(self) -> None:
        self.states = {"start"}
        self.loose = False

    def add(self, kind: str) -> None:
        if kind in ("word", "words", "text"):
            self.states = {"other"}
            return
        for char in kind:  # a literal's text, its white space made plain spaces
            if char == " ":
                self.loose = self.loose or bool(self.states - {"other"})
                self.states = {"space"}
            else:
                self.states = {"other"}

    def needs_collapse(self) -> bool:
        return self.loose or "space" in self.states


def _segments(template: Template, value_of: Callable[[str], Placeholder]
              ) -> tuple[list[tuple[bool, list[_Piece]]], int]:
    """The segments that may show, as pieces, and the most characters of the bounded ones."""
    segments: list[tuple[bool, list[_Piece]]] = []
    bound = 0
    for optional, parts in template.segments:
        pieces: list[_Piece] = []
        for text, fmt, is_name in parts:
            if not is_name:
                pieces.append(_literal(text))
                bound += len(text)
                continue
            found = _piece(text, fmt, value_of(text))
            if found is None and optional:
                break  # a missing constant drops its part for every row
            piece, size = found or (_literal("n/a"), 3)
            pieces.append(piece)
            bound += size
        else:
            segments.append((optional, pieces))
    return segments, bound


def _concat(segments: Sequence[tuple[bool, list[_Piece]]], plain: bool) -> str:
    """The pieces put together: ``n/a`` for a missing value, a part dropped if one is."""
    out: list[str] = []
    for optional, pieces in segments:
        sqls = [piece.plain if plain and piece.plain else piece.shown for piece in pieces]
        if not optional:
            out += [sql if piece.missing is None else
                    f"CASE WHEN {piece.missing} THEN 'n/a' ELSE {sql} END"
                    for sql, piece in zip(sqls, pieces, strict=True)]
            continue
        missing = [piece.missing for piece in pieces if piece.missing is not None]
        body = "(" + " || ".join(sqls) + ")" if sqls else "''"
        out.append(f"CASE WHEN {' OR '.join(missing)} THEN '' ELSE {body} END"
                   if missing else body)
    return "(" + " || ".join(out) + ")" if out else "''"


#: Runs of spaces collapsed, leading and trailing ones dropped, ``s`` read once.
_COLLAPSE = ("list_transform([{}], lambda s: CASE WHEN contains(s, '  ') THEN "
             "trim(regexp_replace(s, ' {{2,}}', ' ', 'g'), ' ') WHEN prefix(s, ' ') OR "
             "suffix(s, ' ') THEN trim(s, ' ') ELSE s END)[1]")


def template_sql(template: Template, value_of: Callable[[str], Placeholder]) -> str:
    """A DuckDB VARCHAR expression equal to ``template.render(values)`` for every row.

    ``value_of(name)`` says where each placeholder's value comes from: a :class:`Column`
    the query computes, or a :class:`Constant` (``ABSENT`` for none). The expression is
    NULL where SQL cannot be sure of Python's text (see the module docstring); a column
    of any other type raises :class:`NotCompilable` naming the placeholder.
    """
    segments, bound = _segments(template, value_of)
    if bound > MAX_RENDERED:
        return "CAST(NULL AS VARCHAR)"
    spacing = _Spacing()
    for optional, pieces in segments:
        before = set(spacing.states)
        for piece in pieces:
            spacing.add(piece.kind)
        if optional and any(piece.missing for piece in pieces):
            spacing.states |= before  # the part may be dropped
    pieces = [piece for _optional, part in segments for piece in part]
    unclean = [piece.unclean for piece in pieces if piece.unclean is not None]
    text = _concat(segments, plain=False)
    if spacing.needs_collapse():
        text = _COLLAPSE.format(_concat(segments, plain=True))
    elif unclean:
        exact = _COLLAPSE.format(_concat(segments, plain=True))
        text = f"CASE WHEN {' OR '.join(unclean)} THEN {exact} ELSE {text} END"
    raws = [piece.raw for piece in pieces if piece.raw is not None]
    if raws:
        total = " + ".join(f"coalesce(strlen({raw}), 0)" for raw in raws)
        text = f"CASE WHEN {bound} + {total} <= {MAX_RENDERED} THEN {text} END"
    return text


# ------------------------------------------------------------------------------ JSON

def json_string_sql(expr: str) -> str:
    """The JSON text of a VARCHAR as ``json.dumps(ensure_ascii=False)`` writes it.

    Quotes included; ``null`` for NULL. DuckDB's ``to_json`` writes a few control
    characters with upper-case hex digits where ``json`` writes lower-case: a text whose
    JSON holds ``\\u00`` (a control character, or a backslash before ``u00``) gives
    NULL, "unsure", and the caller has Python write it (rare; the SQL stays small).
    """
    fast = f"CAST(to_json(CAST({expr} AS VARCHAR)) AS VARCHAR)"
    return (f"CASE WHEN {expr} IS NULL THEN 'null' WHEN contains({fast}, '\\u00') "
            f"THEN NULL ELSE {fast} END")


def float_json_sql(expr: str) -> str:
    """A DOUBLE as ``json.dumps`` writes it (Python's ``repr``); ``null`` for NULL.

    NULL for infinity and NaN (decision records hold none; json would write ``NaN``).
    """
    x = f"CAST({expr} AS DOUBLE)"
    return (f"CASE WHEN {x} IS NULL THEN 'null' WHEN isfinite({x}) "
            f"THEN CAST({x} AS VARCHAR) END")


def score_text_sql(expr: str) -> str:
    """A DOUBLE as ``score_text`` shows it (``70``, ``72.5``).

    NULL for NULL, infinity and NaN, and for a whole number beyond 64-bit integers.
    """
    x = f"CAST({expr} AS DOUBLE)"
    return (f"CASE WHEN NOT isfinite({x}) THEN NULL WHEN {x} <> trunc({x}) "
            f"THEN printf('%g', {x}) WHEN abs({x}) < {_INT_LIMIT} "
            f"THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) END")
