"""The SQL text expressions give Python's text byte for byte, evaluated on DuckDB."""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upsell_rules.engine.outline import score_text
from upsell_rules.ruleset.templates import (
    FORMATS,
    MAX_RENDERED,
    RenderLimitError,
    Template,
    parse_template,
)
from upsell_rules.sql.errors import NotCompilable
from upsell_rules.sql.text_sql import (
    ABSENT,
    WHITESPACE,
    Column,
    Constant,
    Placeholder,
    float_json_sql,
    json_string_sql,
    quote,
    score_text_sql,
    template_sql,
)

CON = duckdb.connect()
# More cases than the profile's default (HYPOTHESIS_PROFILE=explore runs 2000).
SETTINGS = settings(max_examples=max(200, settings().max_examples))

SPACES = [chr(c) for c in range(0x3001) if chr(c).isspace()]
TIES = [0.5, 1.5, 2.5, -0.5, -2.5, 0.125, 0.375, 1.005, 2.675, 0.005, -0.005, -0.001,
        0.0, -0.0, 1e16, 1e300, 5e-324, 9.2e18, -9.3e18, 123456.5, 0.994999, 4.5e15]
TYPES = ["DOUBLE", "BIGINT", "INTEGER", "BOOLEAN", "DATE", "VARCHAR"]

any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
spaced_text = st.text(st.sampled_from([*SPACES, "a", "é", "'", "x", "-", "\x00", "\x1b", "日"]),
                      max_size=8)
doubles = st.floats() | st.sampled_from(TIES) | st.integers(-10**6, 10**6).map(lambda n: n / 8)
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "DOUBLE": doubles,
    "BIGINT": st.integers(-2**63, 2**63 - 1) | st.integers(-2000, 2000),
    "INTEGER": st.integers(-2**31, 2**31 - 1),
    "BOOLEAN": st.booleans(),
    "DATE": st.dates(),
    "VARCHAR": any_text | spaced_text,
}


def evaluate(sql: str, columns: list[tuple[str, Any]] | None = None) -> tuple[Any, list[Any]]:
    """The value of ``sql`` and of each typed parameter, as DuckDB returns them."""
    columns = columns or []
    inner = ", ".join(f"CAST(? AS {kind}) AS c{i}" for i, (kind, _v) in enumerate(columns))
    names = "".join(f"c{i}, " for i in range(len(columns)))
    query = f"SELECT {names}{sql} FROM (SELECT {inner or '1 AS one'})"
    row = CON.execute(query, [value for _kind, value in columns]).fetchone()
    assert row is not None
    return row[-1], list(row[:-1])


@st.composite
def placeholders(draw: st.DrawFn) -> tuple[str, Any, Placeholder | None]:
    """A type, a value of it (None: missing), and whether it is a constant or absent."""
    kind = draw(st.sampled_from(TYPES))
    if draw(st.booleans()):
        kind += "[]"
        value = draw(st.none() | st.lists(st.none() | SCALARS[kind[:-2]], max_size=4))
    else:
        value = draw(st.none() | SCALARS[kind])
    how = draw(st.sampled_from(["column"] * 4 + ["constant", "absent"]))
    holder = {"column": None, "constant": Constant(value), "absent": ABSENT}[how]
    return kind, value, holder


@st.composite
def templates(draw: st.DrawFn) -> tuple[Template, dict[str, Any]]:
    names = [f"p{i}" for i in range(draw(st.integers(0, 4)))]
    segments = []
    for _ in range(draw(st.integers(0, 4))):
        parts: list[tuple[str, str | None, bool]] = []
        for _ in range(draw(st.integers(0, 3))):
            if len(names) > 0 and draw(st.booleans()):
                fmt = draw(st.sampled_from([None, *FORMATS]))
                parts.append((draw(st.sampled_from(names)), fmt, True))
            else:
                parts.append((draw(spaced_text | any_text), None, False))
        segments.append((draw(st.booleans()), tuple(parts)))
    return Template("", tuple(segments)), {n: draw(placeholders()) for n in names}


def render_both(template: Template, spec: dict[str, Any]) -> tuple[Any, Any]:
    """(what SQL gives, what Python gives) for the same values; Python's error as a value."""
    columns = [(kind, value) for kind, value, holder in spec.values() if holder is None]
    index: dict[str, int] = {}
    for name, (_kind, _value, holder) in spec.items():
        if holder is None:
            index[name] = len(index)
    def value_of(name: str) -> Placeholder:
        kind, _value, holder = spec[name]
        return holder if holder is not None else Column(f"c{index[name]}", kind)
    got, fetched = evaluate(template_sql(template, value_of), columns)
    values = {name: fetched[index[name]] if holder is None else holder.value
              for name, (_kind, _value, holder) in spec.items()}
    try:
        return got, template.render(values)
    except RenderLimitError as error:
        return got, error


def huge(value: Any) -> bool:
    if isinstance(value, list):
        return any(huge(v) for v in value)
    return isinstance(value, float) and math.isfinite(value) and abs(value) >= 9.2e16


@SETTINGS
@given(templates())
def test_template_sql_renders_as_python(case: tuple[Template, dict[str, Any]]) -> None:
    template, spec = case
    got, expected = render_both(template, spec)
    if got is None:
        # NULL only where documented: a double beyond 64-bit integers, or a long text.
        assert isinstance(expected, RenderLimitError) or any(
            huge(value) for _k, value, _h in spec.values())
    else:
        assert got == expected


def test_whitespace_class_is_pythons() -> None:
    assert [chr(c) for c in range(0x110000) if chr(c).isspace()] == SPACES
    text = "".join(chr(c) for c in range(0x3001))
    found = CON.execute(f"SELECT regexp_extract_all(?, '{WHITESPACE}')", [text]).fetchone()
    assert found is not None and found[0] == SPACES


@pytest.mark.parametrize(("source", "columns", "expected"), [
    ("{a:int} of {b:money}", [("DOUBLE", 2.5), ("DOUBLE", -4.5)], "2 of $-4"),
    ("{a:pct}", [("DOUBLE", 0.125)], "12%"),
    ("{a:pct}", [("BIGINT", -3)], "-300%"),
    ("{a} {b}", [("DOUBLE", -0.001), ("DOUBLE", 1e16)], "0 10000000000000000"),
    ("x [y {a} ] z", [("VARCHAR[]", [])], "x z"),
    ("[{a}] b", [("DOUBLE", None)], "b"),
    ("x {a} y", [("VARCHAR", "")], "x y"),
    ("x {a}|{b}", [("VARCHAR", " b "), ("VARCHAR[]", ["c ", " d"])], "x b |c , d"),
    ("a [{a}]", [("BIGINT", None)], "a"),
    ("{a}", [("DOUBLE[]", [1.0, None, float("-inf"), 2.675])], "1, None, n/a, 2.67"),
    ("{a}|{b}", [("DATE", date(7, 3, 1)), ("BOOLEAN", False)], "0007-03-01|no"),
    ("  {a}\u3000 ", [("VARCHAR", "\x1c a\u2028\u2029b  ")], "a b"),
])
def test_documented_cases(source: str, columns: list[tuple[str, Any]], expected: str) -> None:
    template = parse_template(source)
    names = {name: Column(f"c{i}", columns[i][0]) for i, name in enumerate(["a", "b"][:len(columns)])}
    got, _ = evaluate(template_sql(template, names.__getitem__), columns)
    assert got == expected


def test_unsure_values_give_null() -> None:
    template = parse_template("{a:money}")
    assert evaluate(template_sql(template, lambda _n: Column("c0", "DOUBLE")),
                    [("DOUBLE", 1e19)])[0] is None
    assert evaluate(template_sql(template, lambda _n: Column("c0", "DOUBLE")),
                    [("DOUBLE", float("inf"))])[0] == "n/a"


def test_too_long_renders_null() -> None:
    template = parse_template("{a}{a}")
    long = "x" * (MAX_RENDERED // 2 + 1)
    got, _ = evaluate(template_sql(template, lambda _n: Column("c0", "VARCHAR")),
                      [("VARCHAR", long)])
    assert got is None
    assert evaluate(template_sql(template, lambda _n: Constant(long)))[0] is None


def test_unknown_type_is_not_compilable() -> None:
    with pytest.raises(NotCompilable, match=r"'\{a\}' has type STRUCT\(x INT\)"):
        template_sql(parse_template("{a}"), lambda _n: Column("c0", "STRUCT(x INT)"))
    with pytest.raises(NotCompilable, match="VARCHAR"):
        template_sql(parse_template("{a}"), lambda _n: Column("c0", "VARCHAR[][]"))


def test_none_is_absent() -> None:
    template = parse_template("a {x} [b {x}] c")
    assert template_sql(template, lambda _n: None) == template_sql(template, lambda _n: ABSENT)
    assert evaluate(template_sql(template, lambda _n: None))[0] == "a n/a c"


def test_constants_are_quoted() -> None:
    values = {"a": "it's \x00 {b}", "b": date(2024, 5, 1)}
    template = parse_template("[{a}] {b} {c}")
    got, _ = evaluate(template_sql(template, lambda n: Constant(values.get(n))))
    assert got == template.render(values)
    assert quote("\ud800") == "NULL"


@SETTINGS
@given(st.text(st.characters(exclude_categories=["Cs"])) | spaced_text
       | st.text(st.characters(max_codepoint=0x7f)) | st.sampled_from(["\\u000B", "a\x0bb"]))
def test_json_string(text: str) -> None:
    got, _ = evaluate(json_string_sql("c0"), [("VARCHAR", text)])
    _same_or_unsure(got, text)


def _same_or_unsure(got: str | None, text: str) -> None:
    """Python's JSON text, or NULL exactly where a ``\\u00`` escape is in it."""
    want = json.dumps(text, ensure_ascii=False)
    assert got == (None if "\\u00" in want else want)


def test_json_string_every_code_point() -> None:
    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    chunks = [text[i:i + 4096] for i in range(0, len(text), 4096)]
    got = CON.execute(f"SELECT {json_string_sql('s')} FROM unnest(?::VARCHAR[]) t(s)",
                      [chunks]).fetchall()
    assert len(got) == len(chunks)
    for (found,), chunk in zip(got, chunks, strict=True):
        _same_or_unsure(found, chunk)
    assert any(found is not None for (found,) in got)
    assert evaluate(json_string_sql("CAST(NULL AS VARCHAR)"))[0] == "null"


@SETTINGS
@given(st.floats() | st.sampled_from(TIES) | st.integers(0, 100_000).map(lambda n: n / 100))
def test_float_json(value: float) -> None:
    got, _ = evaluate(float_json_sql("c0"), [("DOUBLE", value)])
    if math.isfinite(value):
        assert got == json.dumps(value)
    else:
        assert got is None


@SETTINGS
@given(st.floats() | st.sampled_from(TIES) | st.integers(0, 100_000).map(lambda n: n / 100))
def test_score_text(value: float) -> None:
    got, _ = evaluate(score_text_sql("c0"), [("DOUBLE", value)])
    if got is None:
        assert not math.isfinite(value) or abs(value) >= 9.2e18
    else:
        assert got == score_text(value)


def test_scores_in_cents_are_never_null() -> None:
    rows = CON.execute(
        f"SELECT s, {score_text_sql('s')}, {float_json_sql('s')} "
        "FROM (SELECT round(i / 100, 2)::DOUBLE AS s FROM range(100001) r(i))").fetchall()
    assert all(text == score_text(s) and js == json.dumps(s) for s, text, js in rows)
