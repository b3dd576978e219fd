"""The peers a team might use instead, set up with the same rules as our ruleset.

Every peer gets the same input: the account's signals as our evaluator derives them
(derived signals computed once, by us), so the comparison is of rule evaluation. Each
peer's outcomes are checked against ours on every benchmark account before it is timed.

- ``zen``: GoRules zen-engine. The ruleset becomes a JDM decision graph: a first-hit
  decision table per scoring category, collect tables for gates, red flags and triggers,
  and an expression node that computes the weighted score.
- ``rule_engine``: the ``rule-engine`` package, one compiled ``Rule`` per condition.
- ``hand``: plain hand-written Python for the default ruleset, the floor.

zen and rule-engine know nothing of our three-valued logic, so conditions are written
for them in negation normal form with explicit ``!= null`` guards, the way our own
compiled engine works; dates are passed as day numbers and text is case-folded.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from upsell_rules.expr.codegen import to_nnf
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
    Neg,
    Node,
    Num,
    Or,
    Str,
)
from upsell_rules.ruleset.model import Ruleset


def plain(signals: Mapping[str, Any]) -> dict[str, Any]:
    """Signals as JSON-like data: dates as day numbers, text case-folded, None left out."""
    out: dict[str, Any] = {}
    for key, value in signals.items():
        if value is None or key.startswith("_"):
            continue
        if isinstance(value, date):
            out[key] = value.toordinal()
        elif isinstance(value, str):
            out[key] = value.casefold()
        elif isinstance(value, list):
            out[key] = [
                v.toordinal() if isinstance(v, date) else v.casefold() if isinstance(v, str) else v
                for v in value
            ]
        else:
            out[key] = value
    return out


class _Emitter:
    """Writes an NNF condition in the small expression language zen and rule-engine share."""

    def value(self, node: Node, guards: list[str]) -> str:
        if isinstance(node, Num):
            return repr(node.value)
        if isinstance(node, Str):
            return json.dumps(node.value.casefold())
        if isinstance(node, Bool):
            return "true" if node.value else "false"
        if isinstance(node, DateLit):
            return str(node.value.toordinal())
        if isinstance(node, Name):
            guards.append(f"{node.name} != null")
            return node.name
        if isinstance(node, Neg):
            return f"(-{self.value(node.operand, guards)})"
        if isinstance(node, Arith):
            left, right = self.value(node.left, guards), self.value(node.right, guards)
            if node.op == "/":
                guards.append(f"{right} != 0")
            return f"({left} {node.op} {right})"
        if isinstance(node, ListLit):
            return "[" + ", ".join(self.value(i, []) for i in node.items) + "]"
        raise NotImplementedError(f"peer translation of {type(node).__name__}")

    def condition(self, node: Node) -> str:
        if isinstance(node, And):
            return "(" + " and ".join(self.condition(i) for i in node.items) + ")"
        if isinstance(node, Or):
            return "(" + " or ".join(self.condition(i) for i in node.items) + ")"
        if isinstance(node, Bool):
            return "true" if node.value else "false"
        if isinstance(node, Name):
            return f"({node.name} == true)"
        if isinstance(node, IsMissing):
            guards: list[str] = []
            self.value(node.operand, guards)
            known = " and ".join(guards) or "true"
            return f"({known})" if node.negated else f"(not ({known}))"
        if isinstance(node, Compare):
            if isinstance(node.right, Bool) and isinstance(node.left, Name):
                want = node.right.value if node.op == "==" else not node.right.value
                return f"({node.left.name} == {'true' if want else 'false'})"
            guards = []
            left, right = self.value(node.left, guards), self.value(node.right, guards)
            return "(" + " and ".join([*guards, f"{left} {node.op} {right}"]) + ")"
        if isinstance(node, In):
            guards = []
            item, container = self.value(node.item, guards), self.value(node.container, guards)
            test = f"{item} in {container}"
            if node.negated:
                test = f"not ({test})"
            return "(" + " and ".join([*guards, test]) + ")"
        raise NotImplementedError(f"peer translation of {type(node).__name__}")


def expression(node: Node) -> str:
    """One condition as a zen / rule-engine boolean expression."""
    return _Emitter().condition(to_nnf(node))


# --- rule-engine -----------------------------------------------------------------------


def rule_engine_predicate(
    conditions: Sequence[Node],
) -> Callable[[Mapping[str, Any]], tuple[bool, ...]]:
    """One compiled ``rule_engine.Rule`` per condition."""
    import rule_engine

    context = rule_engine.Context(default_value=None)
    rules = [rule_engine.Rule(expression(node), context=context) for node in conditions]

    def predicate(data: Mapping[str, Any]) -> tuple[bool, ...]:
        return tuple(rule.matches(data) for rule in rules)

    return predicate


# --- zen-engine ------------------------------------------------------------------------


def _table(node_id: str, policy: str, rows: list[tuple[str, str]], field: str,
           path: str | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {
        "hitPolicy": policy,
        "inputs": [{"id": "when", "name": "when"}],
        "outputs": [{"id": "out", "name": field, "field": field}],
        "rules": [{"_id": f"{node_id}-{i}", "when": cond, "out": out}
                  for i, (cond, out) in enumerate(rows)],
        "passThrough": True,
    }
    if path is not None:
        content["outputPath"] = path
    return {"id": node_id, "name": node_id, "type": "decisionTableNode",
            "position": {"x": 0, "y": 0}, "content": content}


def zen_graph(ruleset: Ruleset) -> dict[str, Any]:
    """The ruleset's tables as a JDM decision graph."""
    nodes: list[dict[str, Any]] = [
        {"id": "request", "name": "request", "type": "inputNode", "position": {"x": 0, "y": 0}}
    ]
    terms = []
    for category in ruleset.categories:
        tiers = sorted(category.tiers, key=lambda t: -t.score)
        rows = [(expression(t.when.node), repr(float(t.score))) for t in tiers]
        rows.append(("", repr(float(category.otherwise))))
        nodes.append(_table(f"cat_{category.name}", "first", rows, category.name, None))
        terms.append(f"{category.name} * {category.weight}")
    gates = [(f"not {expression(g.require.node)}", json.dumps(g.id)) for g in ruleset.gates]
    nodes.append(_table("gates", "collect", gates, "id", "failed_gates"))
    flags = [(expression(f.when.node), json.dumps(f.id)) for f in ruleset.red_flags]
    nodes.append(_table("red_flags", "collect", flags, "id", "red_flags"))
    triggers = [(expression(t.when.node), json.dumps(t.id)) for t in ruleset.triggers]
    nodes.append(_table("triggers", "collect", triggers, "id", "triggers"))
    score = f"round(({' + '.join(terms)}) * {ruleset.scale} * 100) / 100"
    nodes.append({"id": "score", "name": "score", "type": "expressionNode",
                  "position": {"x": 0, "y": 0},
                  "content": {"expressions": [{"id": "s", "key": "raw_score", "value": score}],
                              "passThrough": True}})
    nodes.append({"id": "response", "name": "response", "type": "outputNode",
                  "position": {"x": 0, "y": 0}})
    order = [n["id"] for n in nodes]
    edges = [{"id": f"e{i}", "type": "edge", "sourceId": a, "targetId": b}
             for i, (a, b) in enumerate(itertools.pairwise(order))]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


def zen_decision(ruleset: Ruleset) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """``evaluate(data) -> result`` for the ruleset's JDM graph."""
    import zen

    decision = zen.ZenEngine().create_decision(json.dumps(zen_graph(ruleset)))

    def evaluate(data: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = decision.evaluate(dict(data))["result"]
        return result

    return evaluate


# --- plain hand-written Python: the default ruleset, written out --------------------------


def hand_written(s: Mapping[str, Any]) -> dict[str, Any]:
    """The default ruleset's scores, gates, red flags and triggers, by hand."""
    g = s.get
    util = g("max_limit_utilization")
    ceiling = g("feature_ceiling_hit") is True
    new_departments = g("new_departments")
    if util is not None and util > 0.9 and ceiling:
        product = 10.0
    elif (util is not None and util >= 0.8) or (
        new_departments is not None and new_departments >= 1
    ):
        product = 8.0
    elif ceiling:
        product = 5.0
    else:
        product = 0.0
    milestone = g("success_milestone_on") is not None
    health = g("health_score")
    contact = g("days_since_champion_contact")
    known = milestone and health is not None and contact is not None
    if known and health > 85 and contact <= 14:
        relationship = 10.0
    elif known and health >= 75 and contact <= 30:
        relationship = 8.0
    elif milestone and health is not None and health >= 65:
        relationship = 5.0
    else:
        relationship = 0.0
    to_renewal = g("days_to_renewal")
    since_renewal = g("days_since_renewal")
    if (to_renewal is not None and 60 <= to_renewal <= 90) or g("business_event") is True:
        commercial = 10.0
    elif to_renewal is not None and 30 <= to_renewal < 60:
        commercial = 8.0
    elif to_renewal is not None and to_renewal > 90 and (
        since_renewal is None or since_renewal > 30
    ):
        commercial = 4.0
    elif since_renewal is not None and 0 <= since_renewal <= 30:
        commercial = 1.0
    else:
        commercial = 0.0
    raw = round((product * 0.4 + relationship * 0.35 + commercial * 0.25) * 10, 2)
    failed = []
    if not (health is not None and health >= 65):
        failed.append("health_floor")
    if not (health is not None and health >= 75):
        failed.append("health_marginal")
    if not milestone:
        failed.append("success_milestone")
    if not (contact is not None and contact <= 60):
        failed.append("champion_not_cold")
    if not (contact is not None and contact <= 30):
        failed.append("champion_recent")
    flags = []
    stage = g("lifecycle_stage")
    if stage == "at_risk":
        flags.append("at_risk")
    if g("competitor_evaluation") is True:
        flags.append("competitor_evaluation")
    if stage == "onboarding":
        flags.append("onboarding")
    tickets = g("open_p1_p2_tickets")
    if tickets is not None and tickets >= 1:
        flags.append("open_p1_p2_ticket")
    nps, nps_days = g("nps_score"), g("days_since_nps")
    if nps is not None and nps <= 6 and nps_days is not None and 0 <= nps_days <= 60:
        flags.append("nps_detractor")
    change = g("days_since_champion_change")
    if change is not None and 0 <= change <= 90:
        flags.append("champion_turnover")
    if to_renewal is not None and 0 <= to_renewal < 30:
        flags.append("renewal_close_only")
    urgent = g("urgent_usage")
    just_renewed = since_renewal is not None and 0 <= since_renewal <= 30
    if just_renewed and urgent is False:
        flags.append("post_renewal_dead_zone")
    if just_renewed and urgent is True:
        flags.append("post_renewal_urgent")
    downgrade = g("days_since_downgrade_request")
    if downgrade is not None and 0 <= downgrade <= 90:
        flags.append("downgrade_recent")
    if downgrade is not None and 90 < downgrade <= 365:
        flags.append("downgrade_cooldown")
    triggers = []
    seat = g("seat_utilization")
    if seat is not None and seat >= 0.85:
        triggers.append("seat_headroom")
    cycles80 = g("seat_cycles_at_80")
    if cycles80 is not None and cycles80 >= 2:
        triggers.append("seat_utilization_sustained")
    if new_departments is not None and new_departments >= 1:
        triggers.append("multi_team_spread")
    power = g("power_users")
    if power is not None and power >= 1 and seat is not None and seat >= 0.7:
        triggers.append("power_users_emerging")
    if ceiling:
        triggers.append("gated_feature_cluster")
    cycles70 = g("usage_cycles_at_70")
    if cycles70 is not None and cycles70 >= 2:
        triggers.append("metered_usage_sustained")
    velocity = g("usage_growth_cycles_at_20")
    if velocity is not None and velocity >= 2:
        triggers.append("usage_velocity")
    gaps, gap_days = g("named_gap_count"), g("days_since_gap_named")
    if gaps is not None and gaps >= 1 and (gap_days is None or gap_days <= 30):
        triggers.append("named_gap")
    if to_renewal is not None and 60 <= to_renewal <= 90:
        triggers.append("contract_anniversary")
    return {"product": product, "relationship": relationship, "commercial": commercial,
            "raw_score": raw, "failed_gates": failed, "red_flags": flags,
            "triggers": triggers}
