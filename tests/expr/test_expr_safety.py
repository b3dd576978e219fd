"""Conditions and templates cannot run code: the classic escapes are refused.

No attribute access, no subscripts, no lambdas, no calls except to registered
functions, bounded size and depth; text that tries to break out of the generated
Python stays a string constant. For random valid conditions, the generated source is
parsed with :mod:`ast` and must contain only the constructs the compiler is allowed to
emit (``fuzz/harness.py``: :func:`assert_safe_source`).
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upsell_rules.expr.check import check
from upsell_rules.expr.codegen import compile_predicate, generate_source
from upsell_rules.expr.interpret import holds
from upsell_rules.expr.parser import MAX_DEPTH, MAX_LENGTH, ExprSyntaxError, parse
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.templates import TemplateError, parse_template

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fuzz"))
from harness import assert_safe_source

TYPES = {"n": "number", "m": "number", "s": "string", "d": "date", "b": "boolean",
         "sl": "string_list", "dl": "date_list"}
CONSTANTS: dict[str, Any] = {"K": 10}
FUNCTIONS = default_registry().functions


def checked(text: str) -> Any:
    """Parse and check ``text``; fail the test if it has problems."""
    node, problems = check(parse(text), TYPES, CONSTANTS, FUNCTIONS)
    assert problems == [], problems
    return node


# --- refused: each escape is a syntax error or an unknown function ------------------

SYNTAX_ERRORS = [
    ("__import__('os').system('id')", "unexpected character '.'"),
    ("n.__class__", "unexpected character '.'"),
    ("().__class__.__bases__[0].__subclasses__()", "unexpected character '.'"),
    ("lambda: 1", "unexpected character ':'"),
    ("(lambda x: x)(1)", "unexpected character ':'"),
    ("s[0] == 'a'", "expected 'and', 'or' or the end of the condition"),
    ("sl[0] == 'a'", "expected 'and', 'or' or the end of the condition"),
    ("n if b else m", "expected 'and', 'or' or the end of the condition"),
    ("n ** 2 > 1", "expected a value"),
    ("n // 2 > 1", "expected a value"),
    ("~n > 1", "unexpected character '~'"),
    ("{0.__class__}", "unexpected character '{'"),
    ("n > 1; import os", "unexpected character ';'"),
    ("n > 1\nimport os", "expected 'and', 'or' or the end of the condition"),
    ("n > 1 # comment", "unexpected character '#'"),
    ("f'{n}' == s", "expected 'and', 'or' or the end of the condition"),
    ("b'x' == s", "expected 'and', 'or' or the end of the condition"),
    ("\uff4e > 1", "unexpected character"),  # a full-width n is not an identifier
    ("s == 'unterminated", "unterminated string"),
    ("n @ m", "unexpected character '@'"),
    ("[x for x in sl]", "expected ',' or ']'"),
]


@pytest.mark.parametrize(("text", "message"), SYNTAX_ERRORS)
def test_escape_attempts_do_not_parse(text: str, message: str) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse(text)
    assert message in caught.value.message
    assert 0 <= caught.value.offset <= len(text)


UNKNOWN_FUNCTIONS = [
    "__import__('os')", "eval('1') > 0", "exec('1')", "open('/etc/passwd') == s",
    "getattr(n, 'real') > 1", "globals()", "breakpoint()", "compile('1', 'x', 'eval')",
    "type(n) == s", "vars()",
]


@pytest.mark.parametrize("text", UNKNOWN_FUNCTIONS)
def test_calls_other_than_registered_functions_are_refused(text: str) -> None:
    _, problems = check(parse(text), TYPES, CONSTANTS, FUNCTIONS)
    assert [p.code for p in problems][:1] == ["E104"], problems
    assert "unknown function" in problems[0].message


def test_dunder_names_are_only_ever_signals() -> None:
    # A signal may be called anything an identifier can be; it is still only read
    # from the account's values, never looked up in Python.
    types = {"__class__": "number", "__builtins__": "string", "__import__": "boolean"}
    node, problems = check(
        parse("__class__ > 1 and __builtins__ == 'x' and __import__"), types, {}
    )
    assert problems == []
    source, consts = generate_source([node], types)
    assert_safe_source(source, consts, types)
    predicate = compile_predicate([node], types)
    values = {"__class__": 2, "__builtins__": "X", "__import__": True}
    assert predicate(values) == (True,)
    assert predicate({}) == (False,)


BREAKOUTS = [
    '"); import os; ("',
    "'); __import__('os').system('id'); ('",
    "\\n__import__('os')\\n",
    "\\\\' + __import__('os') + '",
    '""" + open("x") + """',
    "\x00\r\n\t",
    "{0.__class__}",
    "\u2028__import__\u2029",
]


@pytest.mark.parametrize("payload", BREAKOUTS)
def test_string_literals_cannot_break_out_of_the_generated_code(payload: str) -> None:
    literal = "'" + payload.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
    node = checked(f"s == {literal} or {literal} in sl")
    source, consts = generate_source([node], TYPES)
    assert_safe_source(source, consts, TYPES)
    predicate = compile_predicate([node], TYPES)
    assert predicate({"s": payload}) == (True,)
    assert predicate({"sl": [payload.upper()]}) == (True,)
    assert predicate({"s": "other"}) == (False,)


def test_the_compiled_predicate_has_no_builtins() -> None:
    predicate = compile_predicate([checked("n > 1")], TYPES)
    assert predicate.__globals__["__builtins__"] == {}  # type: ignore[attr-defined]


def test_worst_case_conditions_at_the_size_limit_compile_and_run_fast() -> None:
    shapes = [
        " and ".join(["n > 1"] * ((MAX_LENGTH - 5) // 10)),
        "n in [" + ", ".join(["1"] * ((MAX_LENGTH - 8) // 3)) + "]",
        "s in [" + ", ".join(["'a'"] * ((MAX_LENGTH - 8) // 5)) + "]",
        "(" * (MAX_DEPTH - 1) + "n > 1" + ")" * (MAX_DEPTH - 1),
        " + ".join(["n"] * (MAX_DEPTH - 1)) + " > 1",
        " or ".join(["not (n > 1 and m < 2)"] * ((MAX_LENGTH - 4) // 26)),
    ]
    for text in shapes:
        assert len(text) <= MAX_LENGTH
        start = time.perf_counter()
        node = checked(text)
        predicate = compile_predicate([node], TYPES)
        for _ in range(100):
            predicate({"n": 2, "m": 1, "s": "a"})
        assert time.perf_counter() - start < 2.0, text[:40]


# --- hypothesis: the generated code of random valid conditions ----------------------

_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), max_size=12
).map(lambda t: "'" + t.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'")


def _numbers() -> st.SearchStrategy[str]:
    leaf = st.one_of(
        st.sampled_from(["n", "m", "K", "latest([1, 2])"]),
        st.integers(0, 10**12).map(str),
        st.floats(0, 1e300, allow_nan=False).map(lambda f: f"{f:.6g}".replace("inf", "1")),
        st.sampled_from(["80%", "0.5%"]),
    )
    return st.recursive(
        leaf,
        lambda inner: st.tuples(inner, st.sampled_from("+-*/"), inner).map(
            lambda p: f"({p[0]} {p[1]} {p[2]})"
        )
        | inner.map(lambda e: f"-{e}"),
        max_leaves=6,
    )


def _tests() -> st.SearchStrategy[str]:
    comparison = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    return st.one_of(
        st.tuples(_numbers(), comparison, _numbers()).map(" ".join),
        st.tuples(st.just("s"), st.sampled_from(["==", "!="]), _TEXT).map(" ".join),
        st.tuples(_TEXT, st.sampled_from(["in", "not in"]), st.just("sl")).map(" ".join),
        st.lists(_TEXT, max_size=3).map(lambda items: f"s in [{', '.join(items)}]"),
        st.sampled_from(
            ["d >= '2026-01-01'", "d is missing", "b", "not b", "b == true", "sl is present",
             "count_within(dl, 14) >= 2", "days_since(d) > 30", "count_of(sl, 'P1') >= 1"]
        ),
    )


_CONDITIONS = st.recursive(
    _tests(),
    lambda inner: st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
        lambda p: f"({p[0]}) {p[1]} ({p[2]})"
    )
    | inner.map(lambda c: f"not ({c})"),
    max_leaves=5,
)

_SIGNALS = st.fixed_dictionaries(
    {},
    optional={
        "n": st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
        "m": st.floats(-1e6, 1e6) | st.integers(-5, 5),
        "s": st.text(max_size=5),
        "sl": st.lists(st.text(max_size=3), max_size=3),
        "b": st.booleans(),
        "d": st.dates(),
        "dl": st.lists(st.dates(), max_size=3),
    },
)


@settings(max_examples=300)
@given(text=_CONDITIONS, signals=_SIGNALS)
def test_generated_code_holds_only_whitelisted_constructs(
    text: str, signals: dict[str, Any]
) -> None:
    node = checked(text)
    source, consts = generate_source([node], TYPES)
    assert_safe_source(source, consts, TYPES)
    signals["_as_of"] = date(2026, 11, 2)
    assert compile_predicate([node], TYPES)(signals) == (holds(node, signals),)


# --- templates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["{0.__class__}", "{n.__class__}", "{n[0]}", "{n!r}", "{__import__('os')}", "{n:{m}}",
     "{ n }", "{}", "{n:pct.__class__}"],
)
def test_templates_refuse_anything_but_a_plain_placeholder(text: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(text)
