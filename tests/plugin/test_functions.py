"""Expression functions: calls in conditions, checked, compiled and interpreted alike."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from upsell_rules.engine.engines import INTERPRETER_ENGINE, PYTHON_ENGINE
from upsell_rules.errors import PluginError
from upsell_rules.expr.check import check
from upsell_rules.expr.interpret import evaluate
from upsell_rules.expr.nodes import Call, names_in
from upsell_rules.expr.parser import parse
from upsell_rules.plugin.build import build_registry
from upsell_rules.plugin.types import Function
from upsell_rules.workflow.plugin_kit import evaluate_records, minimal_ruleset

AS_OF = date(2026, 11, 2)
TYPES = {
    "gated_feature_attempts": "date_list",
    "open_ticket_priorities": "string_list",
    "usage_history": "number_list",
    "seats_active_history": "integer_list",
    "renewal_date": "date",
    "plan": "string",
    "health_score": "number",
}


@pytest.fixture(scope="module")
def functions() -> dict[str, Function]:
    return build_registry().functions


def compiled(text: str, functions: dict[str, Function]) -> Any:
    node, problems = check(parse(text), TYPES, {"window": 14}, functions)
    assert problems == []
    return node


def both(text: str, signals: dict[str, Any], functions: dict[str, Function]) -> bool:
    """Run a condition on both engines; they must agree."""
    node = compiled(text, functions)
    values = {**signals, "_as_of": AS_OF}
    fast = PYTHON_ENGINE.prepare([node], TYPES)(values)[0]
    slow = INTERPRETER_ENGINE.prepare([node], TYPES)(values)[0]
    assert fast == slow, text
    return fast


ATTEMPTS = [date(2026, 10, 1), date(2026, 10, 22), date(2026, 10, 31), date(2026, 11, 5)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("count_within(gated_feature_attempts, 14) >= 2", True),
        ("count_within(gated_feature_attempts, 14) >= 3", False),  # Nov 5 is after as-of
        ("count_within(gated_feature_attempts, window) == 2", True),  # a constant argument
        ("count_within(gated_feature_attempts, 60) == 3", True),
        ("not count_within(gated_feature_attempts, 14) >= 3", True),
        ("days_until(renewal_date) == 78", True),
        ("days_since('2026-10-02') == 31", True),  # a text date literal becomes a date
        ("latest(usage_history) > 100", True),
        ("latest(seats_active_history) == 23", True),  # integer lists fit number lists
        ("count_of(open_ticket_priorities, 'p1') == 1", True),  # case-insensitive
        ("'P1' in open_ticket_priorities and count_of(open_ticket_priorities, 'P3') == 2", True),
        ("count_within(['2026-10-30', '2026-10-31'], 7) == 2", True),
        ("latest(usage_history) * 2 >= latest(seats_active_history) + 1", True),
    ],
)
def test_calls_on_both_engines(text: str, expected: bool, functions: dict[str, Function]) -> None:
    signals = {
        "gated_feature_attempts": ATTEMPTS,
        "open_ticket_priorities": ["P1", "P3", "p3"],
        "usage_history": [90.0, 120.0],
        "seats_active_history": [19, 21, 23],
        "renewal_date": date(2027, 1, 19),
    }
    assert both(text, signals, functions) is expected


@pytest.mark.parametrize(
    "text",
    [
        "count_within(gated_feature_attempts, 14) >= 0",
        "count_within(gated_feature_attempts, 14) < 1",
        "not count_within(gated_feature_attempts, 14) >= 1",
        "days_until(renewal_date) is present",
        "latest(usage_history) != 3",
    ],
)
def test_a_missing_argument_makes_the_call_missing(
    text: str, functions: dict[str, Function]
) -> None:
    assert both(text, {}, functions) is False
    node = compiled(text, functions)
    if "is present" not in text:
        result, _ = evaluate(node, {"_as_of": AS_OF}, text)
        assert result is None


def test_missing_call_is_missing(functions: dict[str, Function]) -> None:
    assert both("days_until(renewal_date) is missing", {}, functions) is True


def test_a_function_is_never_called_with_a_missing_argument() -> None:
    calls: list[tuple[Any, ...]] = []

    def spy(*args: Any) -> int:
        calls.append(args)
        return 1

    fn = Function("spy", "Records its calls.", ("number", "string"), "integer", spy)
    node, problems = check(parse("spy(health_score, plan) == 1"), TYPES, {}, {"spy": fn})
    assert problems == []
    for engine in (PYTHON_ENGINE, INTERPRETER_ENGINE):
        assert engine.prepare([node], TYPES)({"health_score": 3})[0] is False
        assert engine.prepare([node], TYPES)({"health_score": 3, "plan": "Team"})[0] is True
    assert calls == [(3, "Team"), (3, "Team")]  # text keeps its case for the function


def test_boolean_function_as_a_condition() -> None:
    fn = Function("is_big", "Big?", ("number",), "boolean", lambda x: x > 10)
    funcs = {"is_big": fn}
    for text, signals, expected in [
        ("is_big(health_score)", {"health_score": 50}, True),
        ("is_big(health_score)", {"health_score": 5}, False),
        ("is_big(health_score)", {}, False),
        ("not is_big(health_score)", {"health_score": 5}, True),
        ("not is_big(health_score)", {}, False),
    ]:
        node, problems = check(parse(text), TYPES, {}, funcs)
        assert problems == []
        fast = PYTHON_ENGINE.prepare([node], TYPES)(signals)[0]
        slow = INTERPRETER_ENGINE.prepare([node], TYPES)(signals)[0]
        assert fast is slow is expected, text


def test_string_results_compare_case_insensitively() -> None:
    fn = Function("tier_of", "Tier.", ("string",), "string", lambda plan: plan.upper())
    node, problems = check(parse("tier_of(plan) == 'team'"), TYPES, {}, {"tier_of": fn})
    assert problems == []
    assert PYTHON_ENGINE.prepare([node], TYPES)({"plan": "Team"})[0] is True
    assert INTERPRETER_ENGINE.prepare([node], TYPES)({"plan": "Team"})[0] is True


# --- checking --------------------------------------------------------------------------


def problems_of(text: str, functions: dict[str, Function]) -> list[tuple[int, str, str]]:
    _, problems = check(parse(text), TYPES, {"window": 14}, functions)
    return [(p.offset, p.code, p.message) for p in problems]


def test_unknown_function_is_located_with_did_you_mean(functions: dict[str, Function]) -> None:
    assert problems_of("health_score > 1 and cout_within(gated_feature_attempts, 14) >= 2",
                       functions) == [
        (21, "E104", "unknown function 'cout_within' (did you mean 'count_within'?)")
    ]


def test_unknown_function_without_any_registered() -> None:
    assert problems_of("len(plan) > 2", {}) == [
        (0, "E104", "unknown function 'len' (no installed plugin provides functions)")
    ]


@pytest.mark.parametrize(
    "text", ["__import__('os') == 1", "eval(plan) == 1", "open(plan) == 1"]
)
def test_python_builtins_are_not_functions(text: str, functions: dict[str, Function]) -> None:
    found = problems_of(text, functions)
    assert found and found[0][1] == "E104"


def test_a_signal_is_not_a_function(functions: dict[str, Function]) -> None:
    assert problems_of("plan(1) == 1", functions) == [
        (0, "E104", "'plan' is a signal or constant, not a function")
    ]


def test_argument_types_are_checked(functions: dict[str, Function]) -> None:
    assert problems_of("count_within(plan, 14) >= 2", functions) == [
        (13, "E102", "argument 1 of 'count_within' must be date_list, got string "
                     "(count_within(dates: date_list, days: number) -> integer)")
    ]
    assert problems_of("latest(open_ticket_priorities) > 1", functions)[0][1] == "E102"


def test_argument_count_is_checked(functions: dict[str, Function]) -> None:
    assert problems_of("count_within(gated_feature_attempts) >= 2", functions) == [
        (0, "E104", "'count_within' takes 2 argument(s), got 1 "
                    "(count_within(dates: date_list, days: number) -> integer)")
    ]


def test_result_type_is_checked(functions: dict[str, Function]) -> None:
    found = problems_of("count_within(gated_feature_attempts, 14) == 'many'", functions)
    assert found[0][1] == "E102" and "cannot compare number with string" in found[0][2]
    found = problems_of("count_within(gated_feature_attempts, 14)", functions)
    assert found == [(0, "E102", "'count_within(...)' is a number, not a condition: compare "
                                 "it (for example '>= 10')")]


def test_checked_call_carries_its_function_and_names(functions: dict[str, Function]) -> None:
    node = compiled("count_within(gated_feature_attempts, 14) >= 2", functions)
    call = node.left  # type: ignore[union-attr]
    assert isinstance(call, Call)
    assert call.function is functions["count_within"]
    assert call.function.plugin == "signals"
    assert names_in(node) == ["gated_feature_attempts"]


def test_a_function_that_raises_names_itself_and_its_plugin() -> None:
    def broken(x: float) -> float:
        raise ZeroDivisionError("boom")

    fn = Function("fragile", "Breaks.", ("number",), "number", broken, plugin="acme")
    node, _ = check(parse("fragile(health_score) > 1"), TYPES, {}, {"fragile": fn})
    for engine in (PYTHON_ENGINE, INTERPRETER_ENGINE):
        with pytest.raises(PluginError, match=r"function 'fragile' \(plugin 'acme'\) failed: "
                                              r"ZeroDivisionError: boom"):
            engine.prepare([node], TYPES)({"health_score": 3})


# --- in a ruleset ------------------------------------------------------------------------


def test_a_ruleset_uses_a_function_end_to_end() -> None:
    ruleset = minimal_ruleset(
        signals={"gated_feature_attempts": {"type": "date_list"}},
        when="count_within(gated_feature_attempts, 14) >= 2",
    )
    decisions = evaluate_records(
        ruleset,
        [
            {"account_id": "A", "gated_feature_attempts": ["2026-10-25", "2026-10-30"]},
            {"account_id": "B", "gated_feature_attempts": ["2026-09-25", "2026-10-30"]},
            {"account_id": "C"},
        ],
        as_of=AS_OF,
    )
    assert [d["band"] for d in decisions] == ["act_now", "wait", "wait"]
    assert decisions[2]["missing_signals"] == ["gated_feature_attempts"]


def test_a_failing_function_fails_only_that_account() -> None:
    from types import ModuleType

    from upsell_rules.plugin.hookspecs import hookimpl

    def picky(x: float) -> float:
        if x > 50:
            raise ValueError("too big")
        return x

    module = ModuleType("picky_plugin")

    @hookimpl
    def upsell_rules_functions(register):  # type: ignore[no-untyped-def]
        register(Function("picky", "Picky.", ("number",), "number", picky))

    module.upsell_rules_functions = upsell_rules_functions  # type: ignore[attr-defined]
    registry = build_registry([module])
    ruleset = minimal_ruleset(signals={"health_score": {"type": "number"}},
                              when="picky(health_score) >= 10")
    decisions = evaluate_records(
        ruleset, [{"account_id": "A", "health_score": 20}, {"account_id": "B", "health_score": 90}],
        as_of=AS_OF, registry=registry, errors="skip",
    )
    assert [d["account_id"] for d in decisions] == ["A"]
    with pytest.raises(AssertionError, match=r"<records>:1: function 'picky' \(plugin "
                                             r"'picky_plugin'\) failed: ValueError: too big"):
        evaluate_records(ruleset, [{"account_id": "B", "health_score": 90}], as_of=AS_OF,
                         registry=registry)
