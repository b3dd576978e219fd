"""Explain one account's decision: every condition with its actual values and outcome.

Built on the reference interpreter, so it works whatever engine made the decision, and
on the decision itself, so what it shows is what the queue says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.expr.interpret import evaluate
from upsell_rules.io.records import Account
from upsell_rules.ruleset.model import Condition

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Check:
    """One rule's condition as evaluated for the account."""

    kind: str  # tier | gate | red_flag | trigger
    id: str
    condition: str
    result: bool | None
    steps: list[dict[str, Any]]
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Explanation:
    """Everything ``explain`` shows for one account."""

    decision: dict[str, Any]
    signals: dict[str, Any]
    checks: list[Check]
    next_steps: list[str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "decision": self.decision,
            "signals": {k: _jsonable(v) for k, v in self.signals.items()},
            "checks": [
                {
                    "kind": c.kind,
                    "id": c.id,
                    "condition": c.condition,
                    "result": c.result,
                    "steps": [
                        {**step, "values": {k: _jsonable(v) for k, v in step["values"].items()}}
                        for step in c.steps
                    ],
                    **c.detail,
                }
                for c in self.checks
            ],
            "next_steps": self.next_steps,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _check(
    kind: str, rule_id: str, cond: Condition, signals: dict[str, Any], constants: dict[str, Any]
) -> Check:
    result, trace = evaluate(cond.node, signals, cond.source)
    steps = []
    for step in trace.steps:
        values = dict(step.values)
        # Constants were folded into literals; show their values next to their names.
        for word in _WORD.findall(step.text):
            if word in constants and word not in values:
                values[word] = constants[word]
        steps.append({"test": " ".join(step.text.split()), "values": values, "result": step.result})
    return Check(kind, rule_id, " ".join(cond.source.split()), result, steps)


def explain(evaluator: Evaluator, account: Account, as_of: date) -> Explanation:
    """Explain how ``evaluator`` decides ``account`` on ``as_of``."""
    rs = evaluator.ruleset
    decision = evaluator.decide(account, as_of)
    signals = evaluator.signals(account, as_of)
    checks: list[Check] = []
    for category in rs.categories:
        for tier in category.tiers:
            check = _check("tier", tier.id, tier.when, signals, rs.constants)
            check.detail = {"category": category.name, "score": tier.score}
            checks.append(check)
    for gate in rs.gates:
        check = _check("gate", gate.id, gate.require, signals, rs.constants)
        check.detail = {"severity": gate.severity, "play": gate.play}
        checks.append(check)
    for flag in rs.red_flags:
        check = _check("red_flag", flag.id, flag.when, signals, rs.constants)
        check.detail = {"effect": flag.effect, "play": flag.play, "cap": flag.cap}
        checks.append(check)
    for trigger in rs.triggers:
        check = _check("trigger", trigger.id, trigger.when, signals, rs.constants)
        check.detail = {"upsell_type": trigger.upsell_type, "play": trigger.play}
        checks.append(check)
    # Kept until here: functions that count days (count_within) read the date from it.
    signals.pop("_as_of", None)
    return Explanation(decision, signals, checks, next_steps(evaluator, decision, checks))


def next_steps(
    evaluator: Evaluator, decision: dict[str, Any], checks: list[Check]
) -> list[str]:
    """What would move the account up a band, and what keeps outreach blocked."""
    rs = evaluator.ruleset
    out: list[str] = []
    score = decision["score"]
    cap = decision["capped_at"]
    bands = sorted(rs.bands, key=lambda b: b.min)
    current = evaluator.band_for(score)
    higher = [b for b in bands if b.min > current.min]
    if cap is not None:
        flags = [f["id"] for f in decision["red_flags"] if f["effect"] == "cap"]
        out.append(
            f"The score is capped at {cap:g} by {', '.join(flags)}; "
            f"without the cap it would be {decision['raw_score']:g}."
        )
    if higher:
        target = higher[0]
        need = target.min - decision["raw_score"]
        options: list[str] = []
        for category in rs.categories:
            have = decision["category_scores"][category.name]
            for tier in category.tiers:
                gain = (tier.score - have) * category.weight * rs.scale
                if tier.score > have and gain + 1e-9 >= need:
                    cond = " ".join(tier.when.source.split())
                    options.append(
                        f"{category.name} tier '{tier.id}' ({cond}) would add {gain:g} points"
                    )
        if cap is not None and cap < target.min:
            out.append(f"{target.title} ({target.min:g}+) is out of reach while the cap holds.")
        elif options:
            out.append(
                f"To reach {target.title} ({target.min:g}+) the score needs {need:g} more "
                "points; any one of these would do it:"
            )
            out.extend(f"  - {o}" for o in options)
        else:
            out.append(
                f"To reach {target.title} ({target.min:g}+) the score needs {need:g} more "
                "points; no single tier change is enough, it takes progress in two categories."
            )
    else:
        out.append(f"Already in the top band ({current.title}).")
    if decision["blocked"]:
        holding = [
            f"red flag '{c.id}' no longer holds (it fires on: {c.condition})"
            for c in checks
            if c.kind == "red_flag" and c.result is True and c.detail.get("effect") == "block"
        ]
        holding += [
            f"gate '{c.id}' passes (it requires: {c.condition})"
            for c in checks
            if c.kind == "gate" and c.result is not True and c.detail.get("severity") == "hard"
        ]
        out.append("Outreach stays blocked until: " + "; ".join(holding) + ".")
    return out
