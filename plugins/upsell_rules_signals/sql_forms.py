"""The SQL forms of the bundled derivations and functions (``upsell-rules compile``).

Each mirrors its Python twin in :mod:`.derivations`, :mod:`.readings` or
:mod:`.functions` line by line, conventions included: a missing input gives NULL, a
series given where one value is expected contributes its newest element, and a single
value given where a list is expected counts as a one-element list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlglot import exp

from upsell_rules.plugin.series import growth_floor
from upsell_rules.plugin.types import SqlScope
from upsell_rules.sql.lists import (
    ListValue,
    count_where,
    from_end,
    last,
    length,
    maximum,
    single,
    trailing_pair_run,
    trailing_run,
    window_start,
)
from upsell_rules.sql.values import (
    any_of,
    case,
    days_after,
    days_before,
    days_between,
    dbl,
    fold,
    is_null,
    lit,
)

from .params import (
    day_count,
    number_param,
    signal_name,
    signal_names,
    text_set,
    whole_number,
)

Value = Any  # a SQLGlot expression or a ListValue


def _current(value: Value) -> exp.Expr:
    """A single value: a list's newest element."""
    return last(value) if isinstance(value, ListValue) else value


def _as_list(value: Value) -> ListValue:
    return value if isinstance(value, ListValue) else single(value)


def _text(value: exp.Expr) -> exp.Expr:
    """``str(value).strip().casefold()``."""
    return fold(exp.Trim(this=exp.cast(value, exp.DataType.build("VARCHAR"))))


def latest(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``latest``."""
    return _current(scope.signal(signal_name(params, "series")))


def first_of_window(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``first_of_window``."""
    values = scope.signal(signal_name(params, "series"))
    cycles = whole_number(params, "cycles", minimum=1)
    return window_start(values, cycles) if isinstance(values, ListValue) else values


def utilization(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``utilization``: a list, each element over the limit."""
    limit = _current(scope.signal(signal_name(params, "limit")))
    no_limit = any_of([is_null(limit), exp.EQ(this=limit.copy(), expression=lit(0))])
    values = _as_list(scope.signal(signal_name(params, "series")))
    return values.mapped(lambda v: exp.Div(this=dbl(v), expression=dbl(limit.copy())),
                         missing=no_limit)


def ratio(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``ratio``."""
    top = _current(scope.signal(signal_name(params, "numerator")))
    bottom = _current(scope.signal(signal_name(params, "denominator")))
    undefined = any_of([is_null(top), is_null(bottom), exp.EQ(this=bottom, expression=lit(0))])
    return case([(undefined, exp.null())],
                exp.Div(this=dbl(top.copy()), expression=dbl(bottom.copy())))


def _run(params: Mapping[str, Any], scope: SqlScope, strict: bool) -> Value:
    values = scope.signal(signal_name(params, "series"))
    threshold = lit(number_param(params, "threshold"))
    reaches = exp.GT if strict else exp.GTE
    if not isinstance(values, ListValue):
        counted = case([(reaches(this=values, expression=threshold), lit(1))], lit(0))
        return case([(is_null(values.copy()), exp.null())], counted)
    stops = exp.LTE if strict else exp.LT
    return trailing_run(values, lambda v: any_of(
        [is_null(v), stops(this=v.copy(), expression=threshold.copy())]))


def consecutive_at_or_above(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``consecutive_at_or_above``."""
    return _run(params, scope, strict=False)


def consecutive_above(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``consecutive_above``."""
    return _run(params, scope, strict=True)


def count_within_days(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``count_within_days``: the window's first day is a constant."""
    dates = scope.signal(signal_name(params, "dates"))
    earliest = days_before(lit(scope.as_of), day_count(params, "days"))

    def inside(day: exp.Expr) -> exp.Expr:
        return exp.Between(this=day, low=earliest.copy(), high=lit(scope.as_of))

    if isinstance(dates, ListValue):
        return count_where(dates, inside)
    return case([(is_null(dates), exp.null()), (inside(dates.copy()), lit(1))], lit(0))


def _date(scope: SqlScope, name: str) -> exp.Expr | None:
    value = scope.signal(name)
    return None if isinstance(value, ListValue) else value


def days_until(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``days_until``."""
    day = _date(scope, signal_name(params, "date"))
    return exp.null() if day is None else days_between(lit(scope.as_of), day)


def days_since(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``days_since``."""
    day = _date(scope, signal_name(params, "date"))
    return exp.null() if day is None else days_between(day, lit(scope.as_of))


def date_after(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``date_after``: missing past the last date Python can hold."""
    day = _date(scope, signal_name(params, "date"))
    if day is None:
        return exp.null()
    days = day_count(params, "days")
    last = lit(date.max - timedelta(days=days))
    return case([(exp.GT(this=day, expression=last), exp.null())],
                days_after(day.copy(), days))


def difference(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``difference``."""
    a = _current(scope.signal(signal_name(params, "a")))
    b = _current(scope.signal(signal_name(params, "b")))
    return exp.Sub(this=exp.paren(a), expression=exp.paren(b))


def max_of(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``max_of``."""
    return maximum([_current(scope.signal(n)) for n in signal_names(params, "signals")])


def count_in(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``count_in``."""
    wanted = [lit(v) for v in sorted(text_set(params, "values"))]
    items = _as_list(scope.signal(signal_name(params, "list")))
    return count_where(items, lambda v: exp.In(this=_text(v), expressions=[
        w.copy() for w in wanted]))


def list_length(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``length``."""
    return length(_as_list(scope.signal(signal_name(params, "list"))))


def growth_rate(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``growth_rate``."""
    values = scope.signal(signal_name(params, "series"))
    if not isinstance(values, ListValue):
        return exp.null()
    previous, current = from_end(values, 1), from_end(values, 0)
    undefined = any_of([is_null(previous), exp.EQ(this=previous.copy(), expression=lit(0))])
    rate = exp.Sub(this=exp.Div(this=dbl(current), expression=dbl(previous.copy())),
                   expression=lit(1))
    return case([(undefined, exp.null())], rate)


def consecutive_growth_at_or_above(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``consecutive_growth_at_or_above``."""
    values = scope.signal(signal_name(params, "series"))
    if not isinstance(values, ListValue):
        return exp.null()
    rate = lit(growth_floor(number_param(params, "rate")))

    def stops(previous: exp.Expr, current: exp.Expr) -> exp.Expr:
        nothing = any_of([is_null(previous), exp.EQ(this=previous.copy(), expression=lit(0))])
        grew = exp.Sub(this=exp.Div(this=dbl(current), expression=dbl(previous.copy())),
                       expression=lit(1))
        return case([(nothing, exp.true())], exp.LT(this=grew, expression=rate.copy()))

    return trailing_pair_run(values, stops)


def _slope(ys: list[exp.Expr], n: int) -> exp.Expr:
    """``least_squares_slope`` of the ``n`` newest values (``ys[0]`` the newest), added
    up in the same order as the Python helper so the double is the same."""
    window = list(reversed(ys[:n]))
    first = window[0]
    offset = -(n - 1) / 2
    total: exp.Expr = lit(0.0)
    for y in window:
        term = exp.Mul(this=lit(float(offset)), expression=exp.paren(
            exp.Sub(this=y.copy(), expression=first.copy())))
        total = exp.Add(this=total, expression=term)
        offset += 1.0
    return exp.Div(this=exp.Mul(this=exp.paren(total), expression=lit(12)),
                   expression=lit(n * (n * n - 1)))


def projected_days_to_limit(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``projected_days_to_limit``."""
    limit = _current(scope.signal(signal_name(params, "limit")))
    cycle_days = whole_number(params, "cycle_days", minimum=1)
    window = whole_number(params, "window", minimum=2)
    values = _as_list(scope.signal(signal_name(params, "series")))
    ys = [from_end(values, k) for k in range(window)]
    count = length(values)
    newest = ys[0]
    by_size: list[tuple[exp.Expr, exp.Expr]] = []
    for n in range(window, 1, -1):
        slope = _slope(ys, n)
        cycles = exp.Div(this=exp.paren(exp.Sub(this=limit.copy(), expression=newest.copy())),
                         expression=exp.paren(slope.copy()))
        days = case([(exp.GT(this=slope, expression=lit(0)),
                      exp.Mul(this=cycles, expression=lit(cycle_days)))])
        by_size.append((exp.GTE(this=count.copy(), expression=lit(n)), days))
    return case([
        (any_of([exp.Not(this=exp.paren(values.present())), is_null(limit.copy())]), exp.null()),
        (exp.EQ(this=count.copy(), expression=lit(0)), exp.null()),
        (exp.GTE(this=newest.copy(), expression=limit.copy()), lit(0.0)),
        *by_size,
    ])


def lifecycle_stage(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``lifecycle_stage``."""
    trend = _current(scope.signal(signal_name(params, "engagement_trend")))
    since = _date(scope, signal_name(params, "customer_since"))
    onboarding = whole_number(params, "onboarding_days", minimum=0)
    growth = whole_number(params, "growth_days", minimum=0)
    declining = exp.EQ(this=_text(trend), expression=lit("declining"))
    if since is None:
        return case([(declining, lit("at_risk"))])
    age = days_between(since, lit(scope.as_of))
    return case([
        (declining, lit("at_risk")),
        (is_null(since.copy()), exp.null()),
        (exp.LT(this=age, expression=lit(0)), exp.null()),
        (exp.LTE(this=age.copy(), expression=lit(onboarding)), lit("onboarding")),
        (exp.LTE(this=age.copy(), expression=lit(growth)), lit("growth")),
    ], lit("maturity"))


def ahead(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``ahead``."""
    value = _current(scope.signal(signal_name(params, "value")))
    if scope.type_of(signal_name(params, "value")) == "boolean":
        return exp.null()
    return case([(exp.GT(this=value, expression=lit(0)), value.copy())])


def text_if(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``text_if``."""
    condition = scope.signal(signal_name(params, "condition"))
    otherwise = params.get("otherwise") or None
    return case([(exp.EQ(this=condition, expression=exp.true()), lit(params["then"]))],
                lit(otherwise))


def titled(params: Mapping[str, Any], scope: SqlScope) -> Value:
    """SQL form of ``titled``: a list of titles."""
    titles = params.get("titles") or {}
    known = {str(k).casefold(): str(v) for k, v in titles.items()}
    values = _as_list(scope.signal(signal_name(params, "list")))

    def title(v: exp.Expr) -> exp.Expr:
        text = exp.cast(v, exp.DataType.build("VARCHAR"))
        spaced = exp.func("REPLACE", text.copy(), lit("_"), lit(" "))
        return case([(exp.EQ(this=fold(text.copy()), expression=lit(k)), lit(t))
                     for k, t in sorted(known.items())], spaced)

    return values.mapped(title)


# --- functions ----------------------------------------------------------------------


def count_within(args: Sequence[Value], scope: SqlScope) -> Value:
    """SQL form of the ``count_within`` function."""
    dates, days = args
    diff = days_between  # whole days from a date to as-of: inside when 0 <= diff <= days

    def inside(day: exp.Expr) -> exp.Expr:
        since = diff(day, lit(scope.as_of))
        return exp.And(this=exp.GTE(this=since, expression=lit(0)),
                       expression=exp.LTE(this=since.copy(), expression=days.copy()))

    counted = count_where(_as_list(dates), inside)
    return case([(exp.LT(this=days, expression=lit(0)), exp.null())], counted)


def days_since_fn(args: Sequence[Value], scope: SqlScope) -> Value:
    """SQL form of the ``days_since`` function."""
    return days_between(args[0], lit(scope.as_of))


def days_until_fn(args: Sequence[Value], scope: SqlScope) -> Value:
    """SQL form of the ``days_until`` function."""
    return days_between(lit(scope.as_of), args[0])


def latest_fn(args: Sequence[Value], scope: SqlScope) -> Value:
    """SQL form of the ``latest`` function."""
    return _current(args[0])


def count_of_fn(args: Sequence[Value], scope: SqlScope) -> Value:
    """SQL form of the ``count_of`` function."""
    items, value = args
    wanted = _text(value)
    return count_where(_as_list(items), lambda v: exp.EQ(this=_text(v), expression=wanted.copy()))


DERIVATION_SQL = {
    "latest": latest,
    "first_of_window": first_of_window,
    "utilization": utilization,
    "ratio": ratio,
    "consecutive_at_or_above": consecutive_at_or_above,
    "count_within_days": count_within_days,
    "days_until": days_until,
    "days_since": days_since,
    "date_after": date_after,
    "difference": difference,
    "max_of": max_of,
    "count_in": count_in,
    "length": list_length,
    "growth_rate": growth_rate,
    "consecutive_growth_at_or_above": consecutive_growth_at_or_above,
    "projected_days_to_limit": projected_days_to_limit,
    "lifecycle_stage": lifecycle_stage,
    "consecutive_above": consecutive_above,
    "ahead": ahead,
    "text_if": text_if,
    "titled": titled,
}

FUNCTION_SQL = {
    "count_within": count_within,
    "days_since": days_since_fn,
    "days_until": days_until_fn,
    "latest": latest_fn,
    "count_of": count_of_fn,
}
