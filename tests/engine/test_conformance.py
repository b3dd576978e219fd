"""Conformance: every available engine gives byte-identical decision records.

The engines are ``python`` (compiled, the default), ``interpreter`` (the reference) and
``durable`` (durable-rules, where it imports). They are compared on the bundled samples
with both bundled rulesets, on generated rulesets and accounts (every operator, missing
values, values at and around every threshold), and condition by condition. durable
matches a few thousand facts a second, so the generated cases stay small.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.errors import Location
from upsell_rules.expr.check import check
from upsell_rules.expr.interpret import holds
from upsell_rules.expr.parser import parse
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import check_ruleset, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 2)
REGISTRY = default_registry()
ENGINES = sorted(
    name for name, engine in REGISTRY.engines.items() if engine.available() is None
)
RULESETS = ["upsell_timing.yaml", "expansion_triggers.yaml"]


def test_the_engines_under_test() -> None:
    assert {"python", "interpreter"} <= set(ENGINES)
    durable = REGISTRY.engines["durable"]
    if durable.available() is not None:
        pytest.skip(f"durable cannot run here: {durable.available()}")
    assert "durable" in ENGINES


def _dump(decisions: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(decisions), ensure_ascii=False)


# --- the bundled samples -----------------------------------------------------------------


@pytest.mark.parametrize("data", ["accounts.csv", "accounts.jsonl"])
@pytest.mark.parametrize("ruleset", RULESETS)
def test_engines_agree_on_the_samples(ruleset: str, data: str) -> None:
    rules = load_ruleset(str(ROOT / "rulesets" / ruleset), REGISTRY)
    reader = AccountReader(REGISTRY, rules.input_types())
    accounts = [a for a in reader.read(str(ROOT / "samples" / data)) if isinstance(a, Account)]
    assert len(accounts) >= 40
    outputs = {
        engine: _dump([Evaluator(rules, REGISTRY, engine).decide(a, AS_OF) for a in accounts])
        for engine in ENGINES
    }
    reference = outputs["interpreter"]
    for engine, output in outputs.items():
        assert output == reference, f"{engine} differs from the interpreter on {ruleset}"


def test_explain_shows_the_chosen_engines_decision() -> None:
    from upsell_rules.engine.explain import explain

    rules = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"), REGISTRY)
    reader = AccountReader(REGISTRY, rules.input_types())
    account = next(a for a in reader.read(str(ROOT / "samples" / "accounts.csv"))
                   if isinstance(a, Account))
    shown = {
        engine: json.dumps(explain(Evaluator(rules, REGISTRY, engine), account, AS_OF).to_dict())
        for engine in ENGINES
    }
    assert len(set(shown.values())) == 1


# --- generated rulesets and accounts -----------------------------------------------------

NUMBERS = ["n1", "n2"]
THRESHOLDS = [-1, 0, 0.5, 1, 2.5, 10, 80, 100]
TEXTS = ["Pro", "pro", "Enterprise", "straße", "STRASSE", ""]
DAYS = [-1, 0, 1, 14, 30, 31, 90]

SIGNALS_YAML = """
signals:
  n1: {type: number}
  n2: {type: number}
  i1: {type: integer}
  b1: {type: boolean}
  s1: {type: string}
  d1: {type: date}
  sl: {type: string_list}
  nl: {type: number_list}
  days_d1: {type: integer, derive: days_since, params: {date: d1}}
  flag:
    type: boolean
    when: n1 >= 10 or b1
"""

PLAYS_YAML = """
owners:
  team:
    - when: {owner_when}
      role: CSM + AE
    - role: CSM
plays:
  go: {{title: Go, window: now, owner: team, message: "n1 is {{n1}}[, i1 {{i1}}]"}}
  warm: {{title: Warm, window: later, owner: team}}
  fix: {{title: Fix, window: first, owner: team}}
  stop: {{title: Stop, window: never, owner: team}}
"""


def _number_leaf() -> st.SearchStrategy[str]:
    left = st.sampled_from(["n1", "n2", "i1", "days_d1", "n1 + n2", "n1 * 2", "n1 / n2",
                            "-n2", "nl_last"])
    ops = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    right = st.one_of(st.sampled_from([str(t) for t in THRESHOLDS] + ["80%", "12.5%"]),
                      st.sampled_from(["n2", "i1"]))
    return st.tuples(left, ops, right).map(" ".join).map(
        lambda text: text.replace("nl_last", "n1")
    )


leaf = st.one_of(
    _number_leaf(),
    st.tuples(st.sampled_from(["0", "1", "-1"]), st.sampled_from(["<=", "<"]),
              st.sampled_from(["n1", "i1", "days_d1"]), st.sampled_from(["<=", "<"]),
              st.sampled_from(["2.5", "10", "30", "90"])).map(" ".join),
    st.tuples(st.just("s1"), st.sampled_from(["==", "!="]),
              st.sampled_from([repr(t) for t in TEXTS])).map(" ".join),
    st.tuples(st.sampled_from(["s1", "'p1'", "'Pro'"]), st.sampled_from(["in", "not in"]),
              st.sampled_from(["sl", "['pro', 'P1']", "[]"])).map(" ".join),
    st.tuples(st.sampled_from(["n1", "2.5", "10"]), st.sampled_from(["in", "not in"]),
              st.sampled_from(["nl", "[0, 10, 2.5]"])).map(" ".join),
    st.tuples(st.just("d1"), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
              st.sampled_from(["'2026-11-02'", "'2026-10-03'"])).map(" ".join),
    st.sampled_from(["b1", "not b1", "flag", "b1 == false", "b1 != true", "flag == b1",
                     "b1 == (n1 > 5)"]),
    st.tuples(st.sampled_from(["n1", "s1", "d1", "sl", "n1 / n2", "days_d1"]),
              st.sampled_from(["is missing", "is present"])).map(" ".join),
)


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
            lambda p: f"({p[0]}) {p[1]} ({p[2]})"
        ),
        inner.map(lambda c: f"not ({c})"),
    )


condition = st.recursive(leaf, _combine, max_leaves=4)

# Calls to the bundled functions need the registry to check them: rulesets only.
call_leaf = st.sampled_from([
    "days_since(d1) <= 30", "days_until(d1) > -5", "latest(nl) >= 2.5",
    "count_of(sl, 'P1') >= 1", "latest(nl) + n1 > 10",
    "not (days_since(d1) > 14)",
])
ruleset_condition = st.recursive(st.one_of(leaf, call_leaf), _combine, max_leaves=4)


def _ruleset_text(conds: list[str]) -> str:
    c = iter(conds)

    def q(text: str) -> str:
        return json.dumps(next(c))

    return f"""name: generated
version: 0.0.1
{SIGNALS_YAML}
scoring:
  categories:
    alpha:
      weight: 0.6
      tiers:
        - {{id: a_high, score: 10, when: {q('')}}}
        - {{id: a_low, score: 4, when: {q('')}}}
    beta:
      weight: 0.4
      tiers:
        - {{id: b_high, score: 8, when: {q('')}}}
        - {{id: b_low, score: 2.5, when: {q('')}}}
bands:
  - {{id: act_now, title: Act now, min: 70, max: 100, outreach: true, play: go}}
  - {{id: warming, title: Warming, min: 40, max: 70, play: warm}}
  - {{id: wait, title: Wait, min: 0, max: 40, play: stop}}
gates:
  - {{id: hard_gate, severity: hard, require: {q('')}, play: fix}}
  - {{id: soft_gate, severity: soft, require: {q('')}, play: warm}}
red_flags:
  - {{id: blocker, when: {q('')}, effect: block, play: stop}}
  - {{id: capper, when: {q('')}, effect: cap, cap: 30}}
  - {{id: preparer, when: {q('')}, effect: prepare, play: fix}}
triggers:
  - {{id: t_seat, upsell_type: seat, when: {q('')}, play: go, evidence: "n1 {{n1}}"}}
  - {{id: t_plan, upsell_type: plan, when: {q('')}, play: go}}
{PLAYS_YAML.format(owner_when=q(''))}
"""


N_CONDITIONS = 12


def _maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


edge_numbers = st.sampled_from(
    [t + d for t in THRESHOLDS for d in (-0.5, 0, 0.5)] + [0.8, 0.125, 3.0, 0.0, -0.0]
)
accounts_strategy = st.fixed_dictionaries(
    {
        "n1": _maybe(edge_numbers),
        "n2": _maybe(edge_numbers),
        "i1": _maybe(st.sampled_from([int(t) for t in THRESHOLDS] + [-2, 3, 11, 79, 81])),
        "b1": _maybe(st.booleans()),
        "s1": _maybe(st.sampled_from([*TEXTS, "P1"])),
        "d1": _maybe(st.sampled_from([AS_OF - timedelta(days=d) for d in DAYS])),
        "sl": _maybe(st.lists(st.sampled_from(["P1", "pro", "Enterprise", "STRASSE"]),
                              max_size=3)),
        "nl": _maybe(st.lists(edge_numbers, max_size=3)),
    }
)


def _account(index: int, values: Mapping[str, Any]) -> Account:
    kept = {k: v for k, v in values.items() if v is not None}
    return Account(f"G-{index}", f"Generated {index}", "owner", kept,
                   Location("generated", index + 1))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(ruleset_condition, min_size=N_CONDITIONS, max_size=N_CONDITIONS),
       st.lists(accounts_strategy, min_size=1, max_size=12))
def test_engines_agree_on_generated_rulesets(conds: list[str], accounts: list[dict[str, Any]]
                                             ) -> None:
    text = _ruleset_text(conds)
    rules, findings = check_ruleset("generated.yaml", REGISTRY, text=text)
    errors = [f for f in findings if f.is_error]
    assert rules is not None and not errors, [str(e) for e in errors]
    items = [_account(i, values) for i, values in enumerate(accounts)]
    outputs = {
        engine: _dump([Evaluator(rules, REGISTRY, engine).decide(a, AS_OF) for a in items])
        for engine in ENGINES
    }
    for engine, output in outputs.items():
        assert output == outputs["interpreter"], engine


# --- condition by condition ---------------------------------------------------------------

TYPES = {"n1": "number", "n2": "number", "i1": "integer", "b1": "boolean", "s1": "string",
         "d1": "date", "sl": "string_list", "nl": "number_list", "days_d1": "integer",
         "flag": "boolean"}


def _nodes(texts: Sequence[str]) -> list[Any]:
    nodes = []
    for text in texts:
        node, problems = check(parse(text), TYPES, {})
        assert problems == [], (text, problems)
        nodes.append(node)
    return nodes


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(condition, min_size=1, max_size=6),
       st.lists(accounts_strategy.map(
           lambda d: {k: v for k, v in d.items() if v is not None}), min_size=1, max_size=8))
def test_engines_agree_condition_by_condition(texts: list[str], accounts: list[dict[str, Any]]
                                              ) -> None:
    nodes = _nodes(texts)
    predicates = {e: REGISTRY.engines[e].prepare(nodes, TYPES) for e in ENGINES}
    for signals in accounts:
        signals = {**signals, "days_d1": None if "d1" not in signals
                   else (AS_OF - signals["d1"]).days,
                   "flag": holds(_nodes(["n1 >= 10 or b1"])[0], signals) or None}
        expected = tuple(holds(n, signals) for n in nodes)
        for engine, predicate in predicates.items():
            assert predicate(signals) == expected, (engine, texts, signals)
