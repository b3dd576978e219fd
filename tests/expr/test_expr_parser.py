"""Behavioural tests for the condition-language parser (upsell_rules.expr.parser)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsell_rules.expr import parser
from upsell_rules.expr.nodes import (
    And,
    Arith,
    Bool,
    Compare,
    In,
    IsMissing,
    ListLit,
    Name,
    Neg,
    Not,
    Num,
    Or,
    Str,
    names_in,
)
from upsell_rules.expr.parser import ExprSyntaxError, parse, tokenize


def syntax_error(text: str) -> ExprSyntaxError:
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    return info.value


# --- atoms -----------------------------------------------------------------------------


class TestAtoms:
    def test_integer_literal(self) -> None:
        node = parse("42")
        assert node == Num(42, (0, 2))
        assert isinstance(node.value, int)

    def test_float_literal(self) -> None:
        node = parse("2.5")
        assert node == Num(2.5, (0, 3))

    def test_exponent_literal_is_a_float(self) -> None:
        node = parse("1e3")
        assert isinstance(node, Num)
        assert node.value == 1000.0
        assert isinstance(node.value, float)

    @pytest.mark.parametrize(
        ("text", "value"),
        [("80%", 0.8), ("100%", 1.0), ("0%", 0.0), ("12.5%", 0.125), ("7%", 0.07), ("33%", 0.33)],
    )
    def test_percent_literal_is_a_fraction(self, text: str, value: float) -> None:
        node = parse(text)
        assert isinstance(node, Num)
        assert node.percent is True
        assert node.value == value
        assert node.span == (0, len(text))

    def test_percent_literal_compares_like_its_fraction(self) -> None:
        assert parse("x >= 80%") == Compare(">=", Name("x", (0, 1)), Num(0.8, (5, 8), True), (0, 8))

    def test_plain_number_is_not_percent(self) -> None:
        node = parse("80")
        assert isinstance(node, Num)
        assert node.percent is False

    def test_booleans(self) -> None:
        assert parse("true") == Bool(True, (0, 4))
        assert parse("false") == Bool(False, (0, 5))

    def test_name(self) -> None:
        assert parse("health_score") == Name("health_score", (0, 12))
        assert parse("_x9") == Name("_x9", (0, 3))

    def test_keywords_are_case_sensitive_names_otherwise(self) -> None:
        # Only the lower-case spellings are keywords.
        assert parse("True") == Name("True", (0, 4))

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ('"Pro"', "Pro"),
            ("'Pro'", "Pro"),
            ('""', ""),
            ("''", ""),
            ('"it\'s"', "it's"),
            ("'say \"hi\"'", 'say "hi"'),
            (r"'it\'s'", "it's"),
            (r'"a \"b\" c"', 'a "b" c'),
            (r"'back\\slash'", "back\\slash"),
            (r"'line\nbreak'", "line\nbreak"),
            (r"'tab\there'", "tab\there"),
            (r"'unknown \q escape'", "unknown q escape"),
        ],
    )
    def test_strings_both_quote_styles_and_escapes(self, text: str, value: str) -> None:
        node = parse(text)
        assert node == Str(value, (0, len(text)))

    def test_string_keeps_case_and_inner_spaces(self) -> None:
        assert parse("'  Mixed Case '") == Str("  Mixed Case ", (0, 15))

    def test_empty_list_literal(self) -> None:
        assert parse("x in []") == In(Name("x", (0, 1)), ListLit((), (5, 7)), False, (0, 7))

    def test_list_literal_items_and_span(self) -> None:
        node = parse("x in [1, 'a', true, -2, 50%]")
        assert isinstance(node, In)
        assert node.container == ListLit(
            (
                Num(1, (6, 7)),
                Str("a", (9, 12)),
                Bool(True, (14, 18)),
                Num(-2, (20, 22)),
                Num(0.5, (24, 27), True),
            ),
            (5, 28),
        )

    def test_parentheses_do_not_widen_the_span(self) -> None:
        assert parse("(x)") == Name("x", (1, 2))


# --- unary and arithmetic -----------------------------------------------------------------


class TestArithmetic:
    def test_unary_minus_on_a_number_folds_into_the_literal(self) -> None:
        assert parse("-5") == Num(-5, (0, 2))
        assert parse("- 2.5") == Num(-2.5, (0, 5))

    def test_unary_minus_on_a_percent(self) -> None:
        assert parse("-10%") == Num(-0.1, (0, 4), True)

    def test_double_minus(self) -> None:
        assert parse("--5") == Num(5, (0, 3))

    def test_unary_minus_on_a_name(self) -> None:
        assert parse("-x") == Neg(Name("x", (1, 2)), (0, 2))

    def test_unary_minus_on_parenthesised_sum(self) -> None:
        node = parse("-(a + b)")
        assert isinstance(node, Neg)
        assert node.operand == Arith("+", Name("a", (2, 3)), Name("b", (6, 7)), (2, 7))

    def test_multiplication_binds_tighter_than_addition(self) -> None:
        node = parse("a + b * c")
        assert node == Arith(
            "+",
            Name("a", (0, 1)),
            Arith("*", Name("b", (4, 5)), Name("c", (8, 9)), (4, 9)),
            (0, 9),
        )

    def test_division_binds_tighter_than_subtraction(self) -> None:
        node = parse("a / b - c")
        assert node == Arith(
            "-",
            Arith("/", Name("a", (0, 1)), Name("b", (4, 5)), (0, 5)),
            Name("c", (8, 9)),
            (0, 9),
        )

    def test_left_associative(self) -> None:
        node = parse("a - b - c")
        assert isinstance(node, Arith)
        assert node.op == "-"
        assert node.left == Arith("-", Name("a", (0, 1)), Name("b", (4, 5)), (0, 5))
        assert node.right == Name("c", (8, 9))

    def test_division_left_associative(self) -> None:
        node = parse("a / b / c")
        assert isinstance(node, Arith)
        assert isinstance(node.left, Arith)
        assert node.left.op == "/"

    def test_parentheses_override_precedence(self) -> None:
        node = parse("(a + b) * c")
        assert isinstance(node, Arith)
        assert node.op == "*"
        assert node.left == Arith("+", Name("a", (1, 2)), Name("b", (5, 6)), (1, 6))

    def test_unary_minus_binds_tighter_than_multiplication(self) -> None:
        node = parse("-a * b")
        assert node == Arith("*", Neg(Name("a", (1, 2)), (0, 2)), Name("b", (5, 6)), (0, 6))

    def test_arithmetic_binds_tighter_than_comparison(self) -> None:
        node = parse("a / b >= 80%")
        assert isinstance(node, Compare)
        assert node.op == ">="
        assert isinstance(node.left, Arith)
        assert node.right == Num(0.8, (9, 12), True)


# --- comparisons -------------------------------------------------------------------------


class TestComparisons:
    @pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
    def test_each_operator(self, op: str) -> None:
        text = f"x {op} 3"
        node = parse(text)
        rhs_at = 3 + len(op)
        assert node == Compare(op, Name("x", (0, 1)), Num(3, (rhs_at, rhs_at + 1)), (0, len(text)))

    def test_no_spaces_needed(self) -> None:
        assert parse("x>=3") == Compare(">=", Name("x", (0, 1)), Num(3, (3, 4)), (0, 4))

    def test_chained_range_desugars_to_and_of_two_compares(self) -> None:
        text = "60 <= x <= 90"
        node = parse(text)
        x = Name("x", (6, 7))
        assert node == And(
            (
                Compare("<=", Num(60, (0, 2)), x, (0, 7)),
                Compare("<=", x, Num(90, (11, 13)), (6, 13)),
            ),
            (0, 13),
        )

    def test_chained_range_with_mixed_operators(self) -> None:
        node = parse("0 < x <= 30 < y")
        assert isinstance(node, And)
        assert [c.op for c in node.items] == ["<", "<=", "<"]  # type: ignore[union-attr]
        assert node.span == (0, 15)
        # Every link shares its middle operand with the next one.
        assert node.items[0].right == node.items[1].left  # type: ignore[union-attr]
        assert node.items[1].right == node.items[2].left  # type: ignore[union-attr]

    def test_chained_range_with_expressions(self) -> None:
        node = parse("50% <= a / b < 90%")
        assert isinstance(node, And)
        first, second = node.items
        assert isinstance(first, Compare)
        assert isinstance(second, Compare)
        assert first.left == Num(0.5, (0, 3), True)
        assert isinstance(first.right, Arith)
        assert first.right == second.left
        assert second.right == Num(0.9, (15, 18), True)
        assert first.span == (0, 12)
        assert second.span == (7, 18)

    def test_chain_inside_and_is_one_and_per_chain(self) -> None:
        node = parse("1 < x < 2 and y > 0")
        assert isinstance(node, And)
        assert len(node.items) == 2
        assert isinstance(node.items[0], And)


# --- missing / membership ----------------------------------------------------------------


class TestMissingAndMembership:
    def test_is_missing(self) -> None:
        assert parse("x is missing") == IsMissing(Name("x", (0, 1)), False, (0, 12))

    def test_is_present_is_a_negated_is_missing(self) -> None:
        assert parse("x is present") == IsMissing(Name("x", (0, 1)), True, (0, 12))

    def test_is_not_missing(self) -> None:
        assert parse("x is not missing") == IsMissing(Name("x", (0, 1)), True, (0, 16))

    def test_is_not_present(self) -> None:
        assert parse("x is not present") == IsMissing(Name("x", (0, 1)), False, (0, 16))

    def test_is_missing_on_an_expression(self) -> None:
        node = parse("a / b is missing")
        assert isinstance(node, IsMissing)
        assert isinstance(node.operand, Arith)

    def test_in_list_literal(self) -> None:
        node = parse("plan in ['pro', \"team\"]")
        assert node == In(
            Name("plan", (0, 4)),
            ListLit((Str("pro", (9, 14)), Str("team", (16, 22))), (8, 23)),
            False,
            (0, 23),
        )

    def test_not_in_list_literal(self) -> None:
        node = parse("plan not in ['free']")
        assert isinstance(node, In)
        assert node.negated is True
        assert node.span == (0, 20)

    def test_in_list_signal(self) -> None:
        assert parse("'P1' in open_ticket_priorities") == In(
            Str("P1", (0, 4)), Name("open_ticket_priorities", (8, 30)), False, (0, 30)
        )

    def test_not_in_list_signal(self) -> None:
        node = parse("'P1' not in tickets")
        assert node == In(Str("P1", (0, 4)), Name("tickets", (12, 19)), True, (0, 19))

    def test_in_with_an_arithmetic_item(self) -> None:
        node = parse("x + 1 in [2, 3]")
        assert isinstance(node, In)
        assert isinstance(node.item, Arith)


# --- boolean structure --------------------------------------------------------------------


class TestBooleanStructure:
    def test_and_binds_tighter_than_or(self) -> None:
        node = parse("a or b and c")
        assert node == Or(
            (Name("a", (0, 1)), And((Name("b", (5, 6)), Name("c", (11, 12))), (5, 12))),
            (0, 12),
        )

    def test_and_binds_tighter_than_or_on_the_left(self) -> None:
        node = parse("a and b or c")
        assert isinstance(node, Or)
        assert isinstance(node.items[0], And)
        assert node.items[1] == Name("c", (11, 12))

    def test_not_binds_tighter_than_and(self) -> None:
        node = parse("not a and b")
        assert node == And((Not(Name("a", (4, 5)), (0, 5)), Name("b", (10, 11))), (0, 11))

    def test_not_binds_looser_than_comparison(self) -> None:
        node = parse("not x > 5")
        assert node == Not(Compare(">", Name("x", (4, 5)), Num(5, (8, 9)), (4, 9)), (0, 9))

    def test_not_not(self) -> None:
        assert parse("not not a") == Not(Not(Name("a", (8, 9)), (4, 9)), (0, 9))

    def test_not_with_parentheses(self) -> None:
        node = parse("not (a or b)")
        assert isinstance(node, Not)
        assert isinstance(node.operand, Or)
        assert node.span == (0, 11)  # the closing parenthesis is not part of the span

    def test_flat_n_ary_and_or(self) -> None:
        node = parse("a and b and c and d")
        assert isinstance(node, And)
        assert len(node.items) == 4
        node = parse("a or b or c")
        assert isinstance(node, Or)
        assert len(node.items) == 3

    def test_parentheses_group_or_under_and(self) -> None:
        node = parse("(a or b) and c")
        assert isinstance(node, And)
        assert isinstance(node.items[0], Or)

    def test_keywords_need_word_boundaries(self) -> None:
        # 'android' is a name, not 'and' + 'roid'
        assert parse("android") == Name("android", (0, 7))
        assert parse("order > 1") == Compare(">", Name("order", (0, 5)), Num(1, (8, 9)), (0, 9))

    def test_whitespace_and_newlines_are_ignored(self) -> None:
        node = parse("  x > 1\n and\ty < 2  ")
        assert isinstance(node, And)
        assert node.span == (2, 18)

    def test_names_in_order_of_first_appearance(self) -> None:
        node = parse("b > 1 and (a < b or c in [1]) and a is missing")
        assert names_in(node) == ["b", "a", "c"]


# --- syntax errors ------------------------------------------------------------------------


class TestSyntaxErrors:
    def test_single_equals_hints_double_equals(self) -> None:
        err = syntax_error("a = 3")
        assert err.offset == 2
        assert "'='" in err.message
        assert "==" in err.message

    def test_double_ampersand_hints_and(self) -> None:
        err = syntax_error("a && b")
        assert err.offset == 2
        assert "'and'" in err.message

    def test_pipes_hint_or(self) -> None:
        err = syntax_error("a || b")
        assert err.offset == 2
        assert "'or'" in err.message

    def test_bang_hints_not(self) -> None:
        err = syntax_error("!a")
        assert err.offset == 0
        assert "not" in err.message

    def test_dangling_operator(self) -> None:
        err = syntax_error("a >")
        assert err.offset == 3
        assert "expected a value" in err.message
        assert "end of the condition" in err.message

    def test_unclosed_parenthesis(self) -> None:
        err = syntax_error("(a > 1")
        assert err.offset == 6
        assert "')'" in err.message

    def test_unopened_parenthesis(self) -> None:
        err = syntax_error("a > 1)")
        assert err.offset == 5
        assert "')'" in err.message

    # Calls parse; whether the function exists is checked later (tests/plugin/test_functions.py).
    def test_function_call_parses_with_its_arguments(self) -> None:
        node = parse("foo(1, tags)")
        assert type(node).__name__ == "Call"
        assert node.name == "foo"  # type: ignore[union-attr]
        assert node.span == (0, 12)
        assert len(node.args) == 2  # type: ignore[union-attr]

    def test_unclosed_call_is_located(self) -> None:
        err = syntax_error("x > 1 and len(tags > 2")
        assert err.offset == 19
        assert "',' or ')'" in err.message

    @pytest.mark.parametrize("text", ["", "   ", "\n\t"])
    def test_empty_condition(self, text: str) -> None:
        err = syntax_error(text)
        assert err.offset == 0
        assert "empty" in err.message

    @pytest.mark.parametrize(
        ("text", "offset"), [('x == "abc', 5), ("x == 'abc", 5), ("'", 0), ("x == 'a\nb'", 5)]
    )
    def test_unterminated_string(self, text: str, offset: int) -> None:
        err = syntax_error(text)
        assert err.offset == offset
        assert "unterminated string" in err.message

    def test_is_without_missing_or_present(self) -> None:
        err = syntax_error("x is 5")
        assert err.offset == 5
        assert "'missing' or 'present'" in err.message

    def test_trailing_garbage(self) -> None:
        err = syntax_error("x > 1 y")
        assert err.offset == 6
        assert "'y'" in err.message

    def test_dangling_and(self) -> None:
        err = syntax_error("x > 5 and")
        assert err.offset == 9

    def test_not_alone(self) -> None:
        err = syntax_error("not")
        assert err.offset == 3

    def test_keyword_where_a_value_is_expected(self) -> None:
        err = syntax_error("x > and")
        assert err.offset == 4
        assert "'and'" in err.message

    def test_unclosed_list(self) -> None:
        err = syntax_error("x in [1, 2")
        assert err.offset == 10
        assert "']'" in err.message

    def test_list_missing_comma(self) -> None:
        err = syntax_error("x in [1 2]")
        assert err.offset == 8

    def test_not_followed_by_something_else(self) -> None:
        err = syntax_error("x not 5")
        assert err.offset == 2

    @pytest.mark.parametrize(("text", "offset"), [("x > 1.", 5), ("x > .5", 4), ("x @ 1", 2)])
    def test_unexpected_characters(self, text: str, offset: int) -> None:
        err = syntax_error(text)
        assert err.offset == offset
        assert "unexpected character" in err.message

    def test_error_is_a_value_error(self) -> None:
        assert issubclass(ExprSyntaxError, ValueError)
        err = syntax_error("a = 3")
        assert str(err) == err.message


# --- limits -------------------------------------------------------------------------------


class TestLimits:
    def test_input_at_the_length_limit_is_accepted(self) -> None:
        text = "x > 1" + " " * (parser.MAX_LENGTH - 5)
        assert len(text) == parser.MAX_LENGTH
        assert isinstance(parse(text), Compare)

    def test_over_long_input_is_refused_quickly(self) -> None:
        text = "x > 1 and " * 100_000 + "x > 1"
        started = time.perf_counter()
        err = syntax_error(text)
        # Refused before any parsing: well under a second on any machine. The bound only
        # catches a parser that reads the whole text first (minutes), not a busy machine.
        assert time.perf_counter() - started < 5
        assert err.offset == 0
        assert str(parser.MAX_LENGTH) in err.message

    def test_tokenizer_refuses_over_long_input(self) -> None:
        with pytest.raises(ExprSyntaxError):
            tokenize("x" * (parser.MAX_LENGTH + 1))

    @pytest.mark.parametrize(
        "make",
        [
            lambda n: "(" * n + "x" + ")" * n,
            lambda n: "not " * n + "x",
            lambda n: "-" * n + "x",
            lambda n: "(not " * n + "x" + ")" * n,
        ],
        ids=["parens", "not", "minus", "paren-not"],
    )
    def test_nesting_at_the_limit_is_accepted(self, make) -> None:  # type: ignore[no-untyped-def]
        # Each construct counts one level per nesting (parens also count the top level).
        depth = parser.MAX_DEPTH // 2 - 1
        parse(make(depth))

    def test_parenthesis_depth_boundary(self) -> None:
        # The outermost expression is level 1; each '(' adds one.
        inside = parser.MAX_DEPTH - 1
        parse("(" * inside + "x" + ")" * inside)
        err = syntax_error("(" * (inside + 1) + "x" + ")" * (inside + 1))
        assert err.offset == inside + 1
        assert str(parser.MAX_DEPTH) in err.message

    @pytest.mark.parametrize(
        "make",
        [
            lambda n: "(" * n + "x" + ")" * n,
            lambda n: "not " * n + "x",
            lambda n: "-" * n + "x",
            lambda n: "(" * n + "x",
            lambda n: "x > " + "(" * n + "1" + ")" * n,
        ],
        ids=["parens", "not", "minus", "unclosed-parens", "rhs-parens"],
    )
    @pytest.mark.parametrize("factor", [1, 10])
    def test_over_deep_nesting_raises_syntax_error_not_recursion_error(
        self,
        make,
        factor: int,  # type: ignore[no-untyped-def]
    ) -> None:
        text = make(parser.MAX_DEPTH * factor + 1)
        text = text[: parser.MAX_LENGTH]
        started = time.perf_counter()
        err = syntax_error(text)
        # Stops at the depth limit; the bound only catches a runaway, not a busy machine.
        assert time.perf_counter() - started < 5
        assert "deeper" in err.message
        assert 0 <= err.offset <= len(text)

    def test_regression_nested_list_literals_escape_the_depth_limit(self) -> None:
        # BUG: '[' in atom() recurses through unary()/atom() without enter(), so nested
        # list literals are not counted against MAX_DEPTH and overflow the Python stack.
        text = "x in " + "[" * 1500 + "]" * 1500
        assert len(text) <= parser.MAX_LENGTH
        err = syntax_error(text)  # currently: RecursionError
        assert "deeper" in err.message

    def test_regression_long_arithmetic_chain_crashes_later_stages(self) -> None:
        # BUG: 'x + 1 + 1 + ...' is built left-deep without counting depth, so a condition
        # within MAX_LENGTH parses but overflows the recursive checker/compiler.
        from upsell_rules.expr.check import check

        text = "x" + " + 1" * 990 + " > 0"
        assert len(text) <= parser.MAX_LENGTH
        try:
            node = parse(text)
        except ExprSyntaxError:
            return  # refusing it with a syntax error is an acceptable fix
        check(node, {"x": "number"}, {})  # currently: RecursionError

    def test_regression_huge_percent_literal_raises_overflow_error(self) -> None:
        # BUG: round(int(text) / 100, 12) overflows for integers above ~1e308.
        text = "x > 1" + "0" * 400 + "%"
        with pytest.raises(ExprSyntaxError) as info:  # currently: OverflowError
            parse(text)
        assert info.value.offset == 4


# --- properties ---------------------------------------------------------------------------

_FRAGMENTS = [
    "x",
    "y",
    "tags",
    " ",
    "  ",
    "(",
    ")",
    "[",
    "]",
    ",",
    "not",
    "and",
    "or",
    "in",
    "is",
    "missing",
    "present",
    "true",
    "false",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "1",
    "80%",
    "2.5",
    "1e3",
    "'a'",
    '"b"',
    "'",
    '"',
    "\\",
    "&",
    "|",
    "!",
    "f(",
    ".",
    "\n",
]


def _check_outcome(text: str) -> None:
    try:
        node = parse(text)
    except ExprSyntaxError as exc:
        assert 0 <= exc.offset <= len(text), (text, exc.offset)
        assert exc.message
        return
    spans = [node.span]
    assert all(0 <= start <= end <= len(text) for start, end in spans)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_arbitrary_text_parses_or_raises_syntax_error(text: str) -> None:
    _check_outcome(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map(" ".join))
def test_token_soup_parses_or_raises_syntax_error(text: str) -> None:
    _check_outcome(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
def test_glued_token_soup_parses_or_raises_syntax_error(text: str) -> None:
    _check_outcome(text)


def _walk(node):  # type: ignore[no-untyped-def]
    yield node
    for attr in ("left", "right", "operand", "item", "container"):
        child = getattr(node, attr, None)
        if child is not None:
            yield from _walk(child)
    for child in getattr(node, "items", ()):
        yield from _walk(child)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=30).map(" ".join))
def test_every_span_is_inside_the_text(text: str) -> None:
    try:
        node = parse(text)
    except ExprSyntaxError:
        return
    for sub in _walk(node):
        start, end = sub.span
        assert 0 <= start <= end <= len(text)


def _quote(value: str, quote: str) -> str:
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n")
    return quote + escaped + quote


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=50), st.sampled_from(["'", '"']))
def test_string_literals_round_trip(value: str, quote: str) -> None:
    text = _quote(value, quote)
    assert parse(text) == Str(value, (0, len(text)))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=999))
def test_percent_literals_equal_their_fraction(whole: int, tenths: int) -> None:
    text = f"{whole}.{tenths:03d}%"
    node = parse(text)
    assert isinstance(node, Num)
    assert node.value == pytest.approx(float(f"{whole}.{tenths:03d}") / 100, rel=1e-9, abs=1e-12)
