"""TEMPORARY stand-in for sql/text_sql.py (a helper builds the exact one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from upsell_rules.ruleset.templates import MAX_RENDERED, Template, format_value
from upsell_rules.sql.expressions import NotCompilable


@dataclass(frozen=True)
class Column:
    sql: str
    type: str


@dataclass(frozen=True)
class Constant:
    value: Any


Placeholder = Column | Constant | None


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_string_sql(expr: str) -> str:
    return (f"CASE WHEN regexp_matches({expr}, '[\\x0b\\x0e-\\x1f]') THEN NULL "
            f"ELSE CAST(to_json({expr}) AS VARCHAR) END")


def float_json_sql(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR)"


def score_text_sql(expr: str) -> str:
    return (f"CASE WHEN {expr} = floor({expr}) THEN CAST(CAST({expr} AS BIGINT) AS VARCHAR) "
            f"ELSE CAST({expr} AS VARCHAR) END")


def _value(p: Column, fmt: str | None) -> str:
    e, t = p.sql, p.type
    if t == "VARCHAR":
        return e
    if t == "DATE":
        return f"CAST({e} AS VARCHAR)"
    if t == "BOOLEAN":
        return f"CASE WHEN {e} THEN 'yes' ELSE 'no' END"
    if t in ("DOUBLE", "BIGINT", "INTEGER"):
        if fmt == "int":
            return f"format('{{:,}}', CAST(round_even({e}, 0) AS BIGINT))"
        if fmt == "money":
            return f"'$' || format('{{:,}}', CAST(round_even({e}, 0) AS BIGINT))"
        if fmt == "pct":
            return f"CAST(CAST(round_even({e} * 100, 0) AS BIGINT) AS VARCHAR) || '%'"
        if t != "DOUBLE":
            return f"CAST({e} AS VARCHAR)"
        return (f"CASE WHEN {e} = floor({e}) THEN CAST(CAST({e} AS BIGINT) AS VARCHAR) "
                f"ELSE rtrim(rtrim(printf('%.2f', {e}), '0'), '.') END")
    if t == "VARCHAR[]":
        return f"array_to_string({e}, ', ')"
    raise NotCompilable(f"type {t}")


def template_sql(template: Template, value_of: Callable[[str], Placeholder]) -> str:
    pieces: list[str] = []
    for optional, parts in template.segments:
        inner: list[str] = []
        missing: list[str] = []
        for text, fmt, is_name in parts:
            if not is_name:
                inner.append(_q(text))
                continue
            p = value_of(text)
            if p is None:
                if optional:
                    missing.append("TRUE")
                inner.append("'n/a'")
            elif isinstance(p, Constant):
                inner.append(_q(format_value(p.value, fmt)))
            else:
                empty = f" OR len({p.sql}) = 0)" if p.type.endswith("[]") else ")"
                absent = f"({p.sql} IS NULL" + empty
                if optional:
                    missing.append(absent)
                    inner.append(_value(p, fmt))
                else:
                    inner.append(f"CASE WHEN {absent} THEN 'n/a' ELSE {_value(p, fmt)} END")
        body = " || ".join(inner) if inner else "''"
        if optional and missing:
            body = f"CASE WHEN {' OR '.join(missing)} THEN '' ELSE {body} END"
        pieces.append(f"({body})")
    text = " || ".join(pieces) if pieces else "''"
    collapsed = f"trim(regexp_replace({text}, '\\s+', ' ', 'g'))"
    return f"CASE WHEN length({text}) > {MAX_RENDERED} THEN NULL ELSE {collapsed} END"
