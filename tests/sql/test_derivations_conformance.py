"""Every bundled derivation and function in SQL against its Python twin, on generated
series (empty, zeros, flat, falling, one value) and generated scoring numbers (tier
scores and weights whose weighted sum lands on or near a rounding tie)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sql.compare import differences, duckdb_rows, python_rows
from upsell_rules.errors import Location
from upsell_rules.io.records import Account
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import check_ruleset

REGISTRY = default_registry()
AS_OF = date(2026, 11, 2)

SIGNALS = """
signals:
  use: {type: number_list}
  lim: {type: number}
  seats: {type: integer_list}
  lic: {type: integer}
  tries: {type: date_list}
  pri: {type: string_list}
  trend: {type: string}
  since: {type: date}
  a: {type: number}
  b: {type: integer}
  latest_use: {type: number, derive: latest, params: {series: use}}
  start_seats: {type: number, derive: first_of_window, params: {series: seats, cycles: 3}}
  util: {type: number_list, derive: utilization, params: {series: use, limit: lim}}
  util_now: {type: number, derive: latest, params: {series: util}}
  seat_share: {type: number, derive: ratio, params: {numerator: seats, denominator: lic}}
  run_at: {type: integer, derive: consecutive_at_or_above, params: {series: util, threshold: 0.7}}
  run_above: {type: integer, derive: consecutive_above, params: {series: seats, threshold: 10}}
  tries_14: {type: integer, derive: count_within_days, params: {dates: tries, days: 14}}
  until: {type: integer, derive: days_until, params: {date: since}}
  since_days: {type: integer, derive: days_since, params: {date: since}}
  ends: {type: date, derive: date_after, params: {date: since, days: 31}}
  diff: {type: number, derive: difference, params: {a: seats, b: b}}
  most: {type: number, derive: max_of, params: {signals: [a, util_now, b]}}
  urgent: {type: integer, derive: count_in, params: {list: pri, values: "P1, p2,Straße"}}
  n_pri: {type: integer, derive: length, params: {list: pri}}
  growth: {type: number, derive: growth_rate, params: {series: use}}
  growing: {type: integer, derive: consecutive_growth_at_or_above, params: {series: use, rate: 0.2}}
  to_limit: {type: number, derive: projected_days_to_limit, params: {series: use, limit: lim}}
  to_seats: {type: number, derive: projected_days_to_limit, params: {series: seats, limit: lic, window: 4, cycle_days: 7}}
  stage: {type: string, derive: lifecycle_stage, params: {customer_since: since, engagement_trend: trend}}
  soon: {type: number, derive: ahead, params: {value: to_limit}}
  near: {type: boolean, when: "to_limit <= 60"}
  word: {type: string, derive: text_if, params: {condition: near, then: Now, otherwise: Later}}
  titles: {type: string_list, derive: titled, params: {list: pri, titles: {p1: Urgent}}}
"""

LEAVES = [
    "latest_use >= 50", "start_seats > 9", "util_now > 0.7", "seat_share >= 0.9",
    "run_at >= 2", "run_above >= 1", "tries_14 >= 2", "until < 30", "since_days <= 30",
    "diff > 0", "most >= 1", "urgent >= 1", "n_pri == 0", "growth >= 0.2", "growing >= 2",
    "to_limit <= 60", "to_seats < 30", "stage == 'growth'", "stage in ['onboarding', 'at_risk']",
    "soon is present", "word == 'now'", "'urgent' in titles", "near",
    "count_within(tries, 7) >= 1", "days_since(since) > 100", "days_until(since) > -100",
    "latest(use) > 40", "count_of(pri, 'p1') >= 1", "to_limit is missing", "util is present",
    "days_until(ends) > 0", "days_since(ends) >= 150", "ends is missing",
]
condition = st.one_of(
    st.sampled_from(LEAVES),
    st.tuples(st.sampled_from(LEAVES), st.sampled_from(["and", "or"]),
              st.sampled_from(LEAVES)).map(lambda p: f"({p[0]}) {p[1]} ({p[2]})"),
    st.sampled_from(LEAVES).map(lambda c: f"not ({c})"),
)
WEIGHTS = [(0.35, 0.4, 0.25), (0.125, 0.375, 0.5), (0.3, 0.3, 0.4), (0.1, 0.45, 0.45),
           (0.2, 0.33, 0.47)]
SCORES = [0, 1, 1.005, 2.5, 2.675, 3.335, 4.125, 4.4449, 5.015, 7.5, 8.125, 9.995, 10]


def _ruleset(conds: list[str], weights: tuple[float, ...], scores: list[float],
             cap: float) -> str:
    c = iter(conds)
    s = iter(scores)

    def q() -> str:
        return json.dumps(next(c))

    categories = "\n".join(
        f"""    cat{i}:
      weight: {w}
      otherwise: {next(s)}
      tiers:
        - {{id: c{i}_a, score: {next(s)}, when: {q()}}}
        - {{id: c{i}_b, score: {next(s)}, when: {q()}}}"""
        for i, w in enumerate(weights)
    )
    return f"""name: series
version: 0.0.1
{SIGNALS}
scoring:
  scale: 10
  categories:
{categories}
bands:
  - {{id: act_now, title: Act now, min: 60, max: 100, outreach: true, play: go}}
  - {{id: warming, title: Warming, min: 33.35, max: 60, play: warm}}
  - {{id: wait, title: Wait, min: 0, max: 33.35, play: stop}}
gates:
  - {{id: g_hard, severity: hard, require: {q()}, play: fix}}
red_flags:
  - {{id: cap_low, when: {q()}, effect: cap, cap: {cap}}}
  - {{id: cap_high, when: {q()}, effect: cap, cap: 50}}
  - {{id: blocker, when: {q()}, effect: block, play: stop}}
triggers:
  - {{id: t1, upsell_type: seat, when: {q()}, play: go}}
  - {{id: t2, upsell_type: plan, when: {q()}, play: warm}}
owners:
  team:
    - {{when: {q()}, role: AE}}
    - {{role: CSM}}
plays:
  go: {{title: Go, window: now, owner: team}}
  warm: {{title: Warm, window: later, owner: team}}
  fix: {{title: Fix, window: first, owner: team}}
  stop: {{title: Stop, window: never, owner: team}}
"""


N_CONDS = 3 * 2 + 7


def _maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


numbers = st.sampled_from([0, 0.0, 1, 2.5, 10, 11, 40, 49.5, 50, 70, 100, 120, -3])
accounts = st.fixed_dictionaries({
    "use": _maybe(st.lists(numbers, max_size=5)),
    "lim": _maybe(st.sampled_from([0, 50, 100, 70.5])),
    "seats": _maybe(st.lists(st.integers(-1, 14), max_size=5)),
    "lic": _maybe(st.sampled_from([0, 10, 12, 15])),
    "tries": _maybe(st.lists(st.sampled_from(
        [AS_OF - timedelta(days=d) for d in (-1, 0, 7, 8, 14, 15, 60)]), max_size=4)),
    "pri": _maybe(st.lists(st.sampled_from(["P1", "p2", " P2 ", "P3", "STRASSE", "audit_log"]),
                           max_size=3)),
    "trend": _maybe(st.sampled_from(["declining", " Declining ", "rising", ""])),
    "since": _maybe(st.sampled_from(
        [*(AS_OF - timedelta(days=d) for d in (-5, 0, 30, 31, 180, 181, 400)),
         date(9999, 12, 1), date(9999, 11, 30)])),
    "a": _maybe(numbers),
    "b": _maybe(st.integers(-2, 12)),
})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(condition, min_size=N_CONDS, max_size=N_CONDS), st.sampled_from(WEIGHTS),
       st.lists(st.sampled_from(SCORES), min_size=9, max_size=9),
       st.sampled_from([20, 33.35, 41.3]),
       st.lists(accounts, min_size=1, max_size=10))
def test_derivations_and_scores_agree(conds: list[str], weights: tuple[float, ...],
                                      scores: list[float], cap: float,
                                      values: list[dict[str, Any]]) -> None:
    rules, findings = check_ruleset("series.yaml", REGISTRY,
                                    text=_ruleset(conds, weights, scores, cap))
    errors = [str(f) for f in findings if f.is_error]
    assert rules is not None and not errors, errors
    items = [Account(f"S-{i}", "", "", {k: v for k, v in row.items() if v is not None},
                     Location("generated", i + 1)) for i, row in enumerate(values)]
    expected = python_rows(rules, REGISTRY, items, AS_OF)
    assert differences(expected, duckdb_rows(rules, REGISTRY, items, AS_OF)) == []
    # The portable form of lists (UNNEST subqueries: PostgreSQL, warehouses) too.
    portable = duckdb_rows(rules, REGISTRY, items, AS_OF, native=False)
    assert differences(expected, portable) == []
