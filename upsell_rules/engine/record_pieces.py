"""SQL pieces the record query is written with: literals, lookups by position, joins.

Each function returns DuckDB SQL text. The cheap forms matter: the record query runs
these expressions once per account, so a value fixed by the ruleset is picked from a
list literal by a number (:func:`lookup`, :func:`joined` of constants) rather than
found by a ``CASE`` comparing with each candidate in turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from upsell_rules.sql.input_checks import quote_text as quote_literal


def json_literal(value: Any) -> str:
    """A constant's JSON text as a SQL string literal."""
    return quote_literal(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def case_sql(pairs: Sequence[tuple[str, str]], default: str = "NULL") -> str:
    """``CASE WHEN cond THEN value ... ELSE default END`` (``default`` alone for no pair)."""
    if not pairs:
        return default
    whens = " ".join(f"WHEN {cond} THEN {value}" for cond, value in pairs)
    return f"CASE {whens} ELSE {default} END"


def by_value(column: str, pairs: Sequence[tuple[str, str]], default: str = "NULL") -> str:
    """The value paired with ``column``'s text (``default`` for none)."""
    return case_sql([(f"{column} = {quote_literal(key)}", value) for key, value in pairs], default)


#: SQL text made of string literals only (joined by ``||``, in parentheses or not):
#: DuckDB folds it to one constant when the query is planned.
LITERAL = re.compile(r"\(?'(?:[^']|'')*'(?: \|\| '(?:[^']|'')*')*\)?")


def number_of(column: str, keys: Sequence[str]) -> str:
    """The 1-based position of ``column``'s value among ``keys`` (NULL for another)."""
    return case_sql([(f"{column} = {quote_literal(key)}", str(number))
                     for number, key in enumerate(keys, start=1)])


def lookup(number: str, values: Sequence[str | None]) -> str:
    """``values[number - 1]`` for a row (NULL for a ``None`` value or no number).

    Constant values are picked from one list literal by position, far cheaper per row
    than a ``CASE`` comparing the key with each one in turn; the others keep a ``WHEN``.
    """
    whens = [(f"{number} = {index}", value) for index, value in enumerate(values, start=1)
             if value is not None and not LITERAL.fullmatch(value)]
    constants = [value if value is not None and LITERAL.fullmatch(value) else "NULL"
                 for value in values]
    if all(value == "NULL" for value in constants):
        return case_sql(whens)
    return case_sql(whens, f"[{', '.join(constants)}][{number}]")


def keyed(number: str, key: str, texts: Sequence[str], prefixed: bool = True) -> str:
    """``key`` then the row's one of ``texts`` (by ``number``), one constant picked per
    row; ``key`` alone when there is no number (``prefixed``: each text follows the
    key; else each text holds it already)."""
    choices = [quote_literal(key + text if prefixed else text) for text in texts]
    return f"coalesce({lookup(number, choices)}, {quote_literal(key)})"


def joined(separator: str, items: Sequence[tuple[str, str]]) -> str:
    """``separator``-joined values whose condition holds, in order ('' when none)."""
    if not items:
        return "''"
    texts = [text_of(value) for _cond, value in items]
    if len(items) > 1 and all(text is not None for text in texts):
        return joined_constants(separator, [cond for cond, _value in items],
                                 [text or "" for text in texts])
    parts = ", ".join(f"CASE WHEN {cond} THEN {value} END" for cond, value in items)
    return f"concat_ws({quote_literal(separator)}, {parts})"


#: A string literal alone, as :func:`quote_literal` writes one.
ONE_LITERAL = re.compile(r"'((?:[^']|'')*)'")
#: Conditions read as the bits of one number, which picks their joined text from a list.
GROUP = 4


def constant_text(sql: str) -> str | None:
    """The text of SQL made of string literals only (``None`` for anything else)."""
    if not LITERAL.fullmatch(sql):
        return None
    return "".join(piece.replace("''", "'") for piece in ONE_LITERAL.findall(sql))


def text_of(sql: str) -> str | None:
    """The text of a lone SQL string literal (``None`` for anything else)."""
    found = ONE_LITERAL.fullmatch(sql)
    return found.group(1).replace("''", "'") if found else None


def joined_constants(separator: str, conditions: Sequence[str], texts: Sequence[str]) -> str:
    """:func:`joined` of constant texts: every ``GROUP`` conditions make a number (a bit
    each), which picks that group's joined texts from a list of them all, computed here;
    no ``CASE`` per item, a few arithmetic operations instead."""
    groups = []
    for start in range(0, len(texts), GROUP):
        conds = conditions[start:start + GROUP]
        bits = " + ".join(f"{1 << k} * CAST(({cond}) IS TRUE AS INTEGER)"
                          for k, cond in enumerate(conds))
        choices = ["NULL"]  # no condition holds: nothing, and no separator
        for number in range(1, 1 << len(conds)):
            chosen = [texts[start + k] for k in range(len(conds)) if number >> k & 1]
            choices.append(quote_literal(separator.join(chosen)))
        groups.append(f"[{', '.join(choices)}][1 + {bits}]")
    if len(groups) == 1:
        return f"coalesce({groups[0]}, '')"
    return f"concat_ws({quote_literal(separator)}, {', '.join(groups)})"


def any_of(conditions: Sequence[str]) -> str:
    return "(" + " OR ".join(conditions) + ")" if conditions else "FALSE"


def json_after(prefix: str, value: Any) -> str:
    """``prefix`` then the compact JSON of ``value``, as one SQL string literal."""
    return quote_literal(prefix + json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def json_head(fields: dict[str, Any]) -> str:
    """``{"k":v,...`` of ``fields`` (no closing brace), as compact JSON."""
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))[:-1]
