"""Behavioural tests for the condition type checker (upsell_rules.expr.check)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upsell_rules.expr.check import Problem, base_type, check, did_you_mean
from upsell_rules.expr.nodes import (
    And,
    Arith,
    Bool,
    Compare,
    DateLit,
    In,
    IsMissing,
    ListLit,
    Name,
    Not,
    Num,
    Str,
)
from upsell_rules.expr.parser import parse

TYPES = {
    "health_score": "number",
    "arr": "number",
    "seats_licensed": "integer",
    "seats_active": "integer",
    "competitor_evaluation": "boolean",
    "is_enterprise": "boolean",
    "plan": "string",
    "engagement_trend": "string",
    "renewal_date": "date",
    "customer_since": "date",
    "open_ticket_priorities": "string_list",
    "named_gaps": "string_list",
    "usage_history": "number_list",
    "seats_active_history": "integer_list",
    "gated_feature_attempts": "date_list",
}

CONSTANTS: dict[str, Any] = {
    "HEALTH_FLOOR": 65,
    "SEAT_RATIO": 0.8,
    "STRICT": True,
    "TOP_PLAN": "Enterprise",
    "CUTOFF": "2024-06-30",
    "BAD_DAY": "soon",
}


def run(text: str) -> tuple[Any, list[Problem]]:
    return check(parse(text), TYPES, CONSTANTS)


def ok(text: str) -> Any:
    node, problems = run(text)
    assert problems == [], problems
    return node


def problems_of(text: str) -> list[Problem]:
    _, problems = run(text)
    assert problems, f"expected problems for {text!r}"
    return problems


def one_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


# --- well-typed conditions ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "health_score > 85",
        "health_score >= 80%",
        "60 <= health_score <= 90",
        "seats_active / seats_licensed >= 85%",
        "seats_active >= 0.85 * seats_licensed",
        "-health_score < 0",
        "competitor_evaluation",
        "not competitor_evaluation",
        "competitor_evaluation == true",
        "competitor_evaluation != is_enterprise",
        "plan == 'Pro'",
        'plan != "free"',
        "plan in ['pro', 'team']",
        "plan not in []",
        "'P1' in open_ticket_priorities",
        "plan in named_gaps",
        "5 in usage_history",
        "seats_active in seats_active_history",
        "seats_active in [10, 2.5, 80%]",
        "renewal_date > customer_since",
        "renewal_date is missing",
        "renewal_date is present",
        "health_score is not missing",
        "open_ticket_priorities is missing",
        "arr / seats_licensed is missing",
        "true",
        "false or health_score > 1",
        "(health_score > 1 or arr > 2) and not plan == 'x'",
        "competitor_evaluation == (health_score > 50)",
    ],
)
def test_well_typed_conditions_have_no_problems(text: str) -> None:
    ok(text)


def test_integer_and_number_are_compatible() -> None:
    ok("seats_licensed > health_score")
    ok("seats_licensed == 2.5")
    ok("seats_licensed in usage_history")
    ok("health_score in seats_active_history")
    node = ok("seats_licensed + arr * 2 > 10")
    assert isinstance(node, Compare)


def test_base_type_folds_integer_into_number() -> None:
    assert base_type("integer") == "number"
    assert base_type("integer_list") == "number_list"
    assert base_type("string") == "string"


def test_checker_returns_the_same_shape_for_plain_conditions() -> None:
    node = parse("health_score > 85 and plan == 'Pro'")
    checked, problems = check(node, TYPES, CONSTANTS)
    assert problems == []
    assert checked == node


# --- unknown names --------------------------------------------------------------------------


class TestUnknownSignal:
    def test_unknown_signal_with_did_you_mean(self) -> None:
        problem = one_problem("helth_score > 85")
        assert problem.code == "E101"
        assert problem.offset == 0
        assert "unknown signal 'helth_score'" in problem.message
        assert "did you mean 'health_score'?" in problem.message

    def test_offset_points_at_the_unknown_name(self) -> None:
        problem = one_problem("health_score > 85 and palan == 'Pro'")
        assert problem.code == "E101"
        assert problem.offset == 22
        assert "did you mean 'plan'?" in problem.message

    def test_did_you_mean_also_suggests_constants(self) -> None:
        problem = one_problem("health_score > HEALTH_FLOR")
        assert problem.code == "E101"
        assert "did you mean 'HEALTH_FLOOR'?" in problem.message

    def test_no_suggestion_when_nothing_is_close(self) -> None:
        problem = one_problem("zzzzqqq > 1")
        assert problem.code == "E101"
        assert "did you mean" not in problem.message

    def test_unknown_signal_does_not_cascade_into_type_errors(self) -> None:
        # the other side has no known type, so there is no extra "type mismatch"
        problems = problems_of("nope == 'x' and nope2 > 3 and nope3")
        assert [p.code for p in problems] == ["E101", "E101", "E101"]

    def test_every_unknown_name_is_reported(self) -> None:
        problems = problems_of("a > 1 or b < 2")
        assert [(p.code, p.offset) for p in problems] == [("E101", 0), ("E101", 9)]

    def test_did_you_mean_helper(self) -> None:
        assert did_you_mean("arr_", ["arr", "plan"]) == " (did you mean 'arr'?)"
        assert did_you_mean("xyz", ["arr", "plan"]) == ""


# --- type mismatches ------------------------------------------------------------------------


class TestTypeMismatch:
    def test_boolean_compared_with_number(self) -> None:
        problem = one_problem("competitor_evaluation == 1")
        assert problem.code == "E102"
        assert "type mismatch" in problem.message
        assert "boolean" in problem.message
        assert "number" in problem.message
        assert problem.offset == 0

    def test_number_compared_with_string(self) -> None:
        problem = one_problem("health_score == 'high'")
        assert problem.code == "E102"
        assert "type mismatch" in problem.message

    def test_number_compared_with_boolean_literal(self) -> None:
        problem = one_problem("health_score != true")
        assert problem.code == "E102"
        assert "type mismatch" in problem.message

    def test_mismatch_offset_is_the_comparison_start(self) -> None:
        problem = one_problem("arr > 0 and plan > 3")
        assert problem.code == "E102"
        assert problem.offset == 12

    def test_date_compared_with_number(self) -> None:
        problem = one_problem("renewal_date > 30")
        assert problem.code == "E102"
        assert "type mismatch" in problem.message

    def test_list_compared_with_string(self) -> None:
        problem = one_problem("named_gaps == 'sso'")
        assert problem.code == "E102"
        assert "type mismatch" in problem.message

    @pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
    def test_ordering_on_strings_is_refused(self, op: str) -> None:
        problem = one_problem(f"plan {op} 'Pro'")
        assert problem.code == "E102"
        assert f"'{op}' needs numbers or dates, got string" in problem.message

    @pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
    def test_ordering_on_booleans_is_refused(self, op: str) -> None:
        problem = one_problem(f"competitor_evaluation {op} true")
        assert problem.code == "E102"
        assert "needs numbers or dates, got boolean" in problem.message

    @pytest.mark.parametrize("op", ["<", ">="])
    def test_ordering_on_dates_is_allowed(self, op: str) -> None:
        ok(f"renewal_date {op} customer_since")

    @pytest.mark.parametrize("op", ["==", "!="])
    def test_comparing_lists_is_refused(self, op: str) -> None:
        problem = one_problem(f"named_gaps {op} open_ticket_priorities")
        assert problem.code == "E102"
        assert "'in'" in problem.message

    def test_ordering_lists_is_refused(self) -> None:
        problem = one_problem("usage_history < [1, 2]")
        assert problem.code == "E102"

    def test_arithmetic_needs_numbers(self) -> None:
        problem = one_problem("plan + 1 > 2")
        assert problem.code == "E102"
        assert "'+' needs numbers, got string" in problem.message
        assert problem.offset == 0

    def test_arithmetic_on_dates_is_refused(self) -> None:
        problem = one_problem("renewal_date - 30 > 0")
        assert problem.code == "E102"
        assert "got date" in problem.message

    def test_arithmetic_on_right_operand(self) -> None:
        problem = one_problem("arr * competitor_evaluation > 2")
        assert problem.code == "E102"
        assert problem.offset == 6

    def test_unary_minus_needs_a_number(self) -> None:
        problem = one_problem("-plan > 1")
        assert problem.code == "E102"
        assert "'-' needs a number" in problem.message

    def test_not_of_a_number_is_refused(self) -> None:
        problem = one_problem("not health_score")
        assert problem.code == "E102"
        assert problem.offset == 4


# --- conditions must be boolean -------------------------------------------------------------


class TestBareValuesAsConditions:
    def test_bare_number_signal_is_not_a_condition(self) -> None:
        problem = one_problem("health_score")
        assert problem.code == "E102"
        assert "signal 'health_score' is a number, not a condition" in problem.message
        assert ">=" in problem.message  # a hint how to compare it

    def test_bare_number_signal_inside_and(self) -> None:
        problem = one_problem("plan == 'Pro' and seats_licensed")
        assert problem.code == "E102"
        assert problem.offset == 18
        assert "'seats_licensed'" in problem.message

    @pytest.mark.parametrize(
        ("text", "kind"),
        [("plan", "string"), ("renewal_date", "date"), ("named_gaps", "string_list")],
    )
    def test_other_bare_signals(self, text: str, kind: str) -> None:
        problem = one_problem(text)
        assert problem.code == "E102"
        assert f"is a {kind}, not a condition" in problem.message

    @pytest.mark.parametrize("text", ["5", "'yes'", "arr + 1", "[1, 2]"])
    def test_bare_values(self, text: str) -> None:
        problem = one_problem(text)
        assert problem.code == "E102"
        assert "this value is a" in problem.message

    def test_bare_boolean_is_a_condition(self) -> None:
        assert ok("competitor_evaluation") == Name("competitor_evaluation", (0, 21))


# --- membership -----------------------------------------------------------------------------


class TestMembership:
    def test_in_with_a_non_list_signal(self) -> None:
        problem = one_problem("'x' in plan")
        assert problem.code == "E102"
        assert "'in' needs a list on the right, got string" in problem.message
        assert problem.offset == 7

    def test_in_with_a_number_literal(self) -> None:
        problem = one_problem("arr in 5")
        assert problem.code == "E102"
        assert "got number" in problem.message

    def test_in_with_a_string_literal(self) -> None:
        problem = one_problem("plan in 'Pro'")
        assert problem.code == "E102"
        assert "needs a list" in problem.message

    def test_item_type_must_match_list_elements(self) -> None:
        problem = one_problem("health_score in ['a', 'b']")
        assert problem.code == "E102"
        assert "type mismatch: number 'in' a list of string" in problem.message

    def test_item_type_must_match_list_signal_elements(self) -> None:
        problem = one_problem("plan in usage_history")
        assert problem.code == "E102"
        assert "type mismatch" in problem.message

    def test_empty_list_literal_accepts_any_item(self) -> None:
        ok("health_score in []")
        ok("competitor_evaluation not in []")

    def test_list_literal_mixing_types(self) -> None:
        problem = one_problem("plan in ['a', 1]")
        assert problem.code == "E102"
        assert "list mixes types: number, string" in problem.message
        assert problem.offset == 8

    def test_list_literal_mixing_booleans_and_numbers(self) -> None:
        problem = one_problem("arr in [true, 1, 2]")
        assert "list mixes types: boolean, number" in problem.message

    def test_list_items_must_be_literals(self) -> None:
        problem = one_problem("arr in [1, health_score]")
        assert problem.code == "E102"
        assert "literal values or constants" in problem.message
        assert problem.offset == 11

    def test_list_items_may_be_constants(self) -> None:
        node = ok("plan in [TOP_PLAN, 'Pro']")
        assert isinstance(node, In)
        assert isinstance(node.container, ListLit)
        assert node.container.items[0] == Str("Enterprise", (9, 17))

    def test_list_item_arithmetic_is_refused(self) -> None:
        # list items are atoms; a parenthesised sum parses but is not a literal
        problem = one_problem("arr in [(1 + 1)]")
        assert "literal values or constants" in problem.message
        assert problem.offset == 9  # the sum inside the parentheses

    def test_negative_numbers_are_literals(self) -> None:
        ok("arr in [-1, -2.5]")

    def test_string_items_in_date_list_become_dates(self) -> None:
        node = ok("'2024-01-02' in gated_feature_attempts")
        assert isinstance(node, In)
        assert node.item == DateLit(date(2024, 1, 2), (0, 12))

    def test_date_signal_in_string_literal_list_becomes_dates(self) -> None:
        node = ok("renewal_date in ['2024-01-02', '2024-03-04']")
        assert isinstance(node, In)
        assert node.container.items == (  # type: ignore[union-attr]
            DateLit(date(2024, 1, 2), (17, 29)),
            DateLit(date(2024, 3, 4), (31, 43)),
        )

    def test_invalid_date_in_list(self) -> None:
        problem = one_problem("renewal_date in ['2024-01-02', 'nope']")
        assert problem.code == "E102"
        assert "'nope' is not a date" in problem.message
        assert problem.offset == 31


# --- dates ----------------------------------------------------------------------------------


class TestDates:
    def test_string_literal_compared_with_date_becomes_a_date(self) -> None:
        node = ok("renewal_date < '2024-07-01'")
        assert node == Compare(
            "<",
            Name("renewal_date", (0, 12)),
            DateLit(date(2024, 7, 1), (15, 27)),
            (0, 27),
        )

    def test_date_on_the_left(self) -> None:
        node = ok("'2024-07-01' <= renewal_date")
        assert isinstance(node, Compare)
        assert node.left == DateLit(date(2024, 7, 1), (0, 12))

    def test_double_quoted_date(self) -> None:
        node = ok('renewal_date == "2024-02-29"')
        assert node.right == DateLit(date(2024, 2, 29), (16, 28))  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        "bad", ["2024-13-01", "2023-02-29", "2024-1-1", "24-01-01", "soon", "", "2024/01/01"]
    )
    def test_invalid_date_string_is_e102(self, bad: str) -> None:
        problem = one_problem(f"renewal_date > '{bad}'")
        assert problem.code == "E102"
        assert f"'{bad}' is not a date" in problem.message
        assert "YYYY-MM-DD" in problem.message
        assert problem.offset == 15

    def test_date_constant_becomes_a_date(self) -> None:
        node = ok("renewal_date > CUTOFF")
        assert node.right == DateLit(date(2024, 6, 30), (15, 21))  # type: ignore[union-attr]

    def test_invalid_date_constant(self) -> None:
        problem = one_problem("renewal_date > BAD_DAY")
        assert "'soon' is not a date" in problem.message

    def test_string_compared_with_string_stays_a_string(self) -> None:
        node = ok("plan == '2024-01-01'")
        assert node.right == Str("2024-01-01", (8, 20))  # type: ignore[union-attr]

    def test_date_in_nested_structure_is_rewritten(self) -> None:
        node = ok("not (renewal_date > '2024-01-01' or arr > 1)")
        assert isinstance(node, Not)
        inner = node.operand.items[0]  # type: ignore[union-attr]
        assert isinstance(inner.right, DateLit)

    def test_date_inside_chained_range(self) -> None:
        node = ok("'2024-01-01' <= renewal_date < '2025-01-01'")
        assert isinstance(node, And)
        assert node.items[0].left == DateLit(date(2024, 1, 1), (0, 12))  # type: ignore[union-attr]
        assert node.items[1].right == DateLit(date(2025, 1, 1), (31, 43))  # type: ignore[union-attr]


# --- constants ------------------------------------------------------------------------------


class TestConstants:
    def test_number_constant_is_folded_into_a_literal(self) -> None:
        node = ok("health_score < HEALTH_FLOOR")
        assert node == Compare("<", Name("health_score", (0, 12)), Num(65, (15, 27)), (0, 27))

    def test_float_constant(self) -> None:
        node = ok("seats_active / seats_licensed >= SEAT_RATIO")
        assert node.right == Num(0.8, (33, 43))  # type: ignore[union-attr]

    def test_boolean_constant_is_a_condition(self) -> None:
        assert ok("STRICT") == Bool(True, (0, 6))

    def test_boolean_constant_in_and(self) -> None:
        node = ok("STRICT and competitor_evaluation")
        assert node == And((Bool(True, (0, 6)), Name("competitor_evaluation", (11, 32))), (0, 32))

    def test_string_constant(self) -> None:
        node = ok("plan == TOP_PLAN")
        assert node.right == Str("Enterprise", (8, 16))  # type: ignore[union-attr]

    def test_constant_type_is_checked(self) -> None:
        problem = one_problem("health_score > TOP_PLAN")
        assert problem.code == "E102"
        assert "type mismatch" in problem.message

    def test_constants_inside_arithmetic_and_missing(self) -> None:
        node = ok("arr * SEAT_RATIO is missing")
        assert isinstance(node, IsMissing)
        assert node.operand == Arith("*", Name("arr", (0, 3)), Num(0.8, (6, 16)), (0, 16))

    def test_bare_number_constant_is_not_a_condition(self) -> None:
        problem = one_problem("HEALTH_FLOOR")
        assert problem.code == "E102"

    def test_constants_never_remain_as_names(self) -> None:
        node = ok("HEALTH_FLOOR < health_score and plan in [TOP_PLAN] and STRICT")
        text = repr(node)
        for name in CONSTANTS:
            assert f"Name(name='{name}'" not in text


# --- properties -----------------------------------------------------------------------------

_NUMERIC = ["health_score", "arr", "seats_licensed", "HEALTH_FLOOR", "SEAT_RATIO", "3", "80%"]
_NON_NUMERIC = ["plan", "'x'", "true", "competitor_evaluation", "renewal_date", "named_gaps"]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_NUMERIC),
    st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
    st.sampled_from(_NUMERIC),
)
def test_numeric_comparisons_always_check(left: str, op: str, right: str) -> None:
    ok(f"{left} {op} {right}")


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_NUMERIC),
    st.sampled_from(["==", "!="]),
    st.sampled_from(_NON_NUMERIC),
)
def test_numbers_never_equal_other_types(left: str, op: str, right: str) -> None:
    for text in (f"{left} {op} {right}", f"{right} {op} {left}"):
        problems = problems_of(text)
        assert all(p.code == "E102" for p in problems)
        assert all(0 <= p.offset <= len(text) for p in problems)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_any_iso_date_string_becomes_that_date(day: date) -> None:
    node = ok(f"renewal_date >= '{day.isoformat()}'")
    assert node.right == DateLit(day, (16, 28))  # type: ignore[union-attr]
