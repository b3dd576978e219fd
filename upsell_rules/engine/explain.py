"""Explain one account's decision: every condition with its actual values and outcome.

Built on the reference interpreter, so it works whatever engine made the decision, and
on the decision itself, so what it shows is what the queue says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.engine.clearing import Clearing, clearings
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.expr.interpret import evaluate
from upsell_rules.io.records import Account
from upsell_rules.ruleset.model import Condition
from upsell_rules.ruleset.templates import format_value

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
    #: Per category: the tier that matched, its points, the weight, the contribution.
    arithmetic: list[dict[str, Any]] = field(default_factory=list)
    #: When each block, failed gate or cap clears if only the calendar moves.
    clearings: list[Clearing] = field(default_factory=list)

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
            "arithmetic": self.arithmetic,
            "clears": [
                {"kind": c.kind, "id": c.id or None,
                 "clears_on": c.clears_on.isoformat() if c.clears_on else None,
                 "dates": {k: v.isoformat() for k, v in c.dates.items()},
                 "text": c.sentence()}
                for c in self.clearings
            ],
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


def explain(
    evaluator: Evaluator, account: Account, as_of: date, *, dates: bool = True
) -> Explanation:
    """Explain how ``evaluator`` decides ``account`` on ``as_of``.

    ``dates=False`` leaves out when blocks and caps clear (``clearings``): finding them
    decides the account again day after day, which a caller that needs only the checks
    (``diff``, on every account that moved) should not pay for.
    """
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
    units = {name: sig.unit for name, sig in rs.signals.items()}
    clears = clearings(evaluator, account, decision, as_of) if dates else []
    steps = next_steps(evaluator, decision, checks, units)
    for clearing in clears:
        if clearing.kind in ("cap", "blocked"):
            steps.append(clearing.sentence()[0].upper() + clearing.sentence()[1:] + ".")
    return Explanation(
        decision, signals, checks, steps, arithmetic(evaluator, decision, checks), clears
    )


def arithmetic(
    evaluator: Evaluator, decision: dict[str, Any], checks: list[Check]
) -> list[dict[str, Any]]:
    """How the score adds up: each category's tier, points, weight and contribution."""
    rs = evaluator.ruleset
    rows = []
    for category in rs.categories:
        points = decision["category_scores"][category.name]
        tier = next(
            (c.id for c in checks
             if c.kind == "tier" and c.detail["category"] == category.name and c.result
             and c.detail["score"] == points),
            None,
        )
        rows.append({
            "category": category.name,
            "tier": tier,
            "points": points,
            "weight": category.weight,
            "contribution": round(points * category.weight * rs.scale, 4),
        })
    return rows


def arithmetic_lines(rows: list[dict[str, Any]], scale: float, raw: float) -> list[str]:
    """``product   limit_over_80  8 x 0.40 x 10 = 32`` per category, then the total."""
    lines = []
    width = max((len(r["category"]) for r in rows), default=0)
    for r in rows:
        tier = r["tier"] or "no tier matched"
        lines.append(
            f"{r['category'].ljust(width)}  {r['points']:g} "
            f"{'point' if r['points'] == 1 else 'points'} x {r['weight']:g} weight "
            f"x {scale:g} = {r['contribution']:g}  ({tier})"
        )
    total = " + ".join(f"{r['contribution']:g}" for r in rows)
    lines.append(f"{'total'.ljust(width)}  {total} = {raw:g}")
    return lines


def _show(value: Any, unit: str) -> str:
    if value is None:
        return "missing"
    if unit == "ratio" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"
    return format_value(value, None)


def unmet(check: Check, constants: dict[str, Any], units: dict[str, str]) -> list[str]:
    """The failing tests of a check in the account's own values:
    ``health_score >= 75 (now 71)``, ``success_milestone_on is present (now missing)``."""
    out = []
    for step in check.steps:
        if step["result"] is True:
            continue
        text = step["test"]
        for name, value in step["values"].items():
            if name in constants:
                text = re.sub(rf"\b{re.escape(name)}\b", _show(value, units.get(name, "")), text)
        own = {k: v for k, v in step["values"].items() if k not in constants}
        now = ", ".join(
            f"{name} {_show(value, units.get(name, ''))}" if len(own) > 1 else
            _show(value, units.get(name, ""))
            for name, value in own.items()
        )
        out.append(f"{text} (now {now})" if now else text)
    return out


def next_steps(
    evaluator: Evaluator,
    decision: dict[str, Any],
    checks: list[Check],
    units: dict[str, str] | None = None,
) -> list[str]:
    """What would move the account up a band, and what keeps outreach blocked."""
    rs = evaluator.ruleset
    units = units or {}
    by_id = {(c.kind, c.id): c for c in checks}
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
        options = _enough_alone(evaluator, decision, by_id, units, need)
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
            out.extend(f"  - {line}" for line in _next_tiers(evaluator, decision, by_id, units))
    else:
        out.append(f"Already in the top band ({current.title}).")
    if decision["blocked"]:
        holding = _unblocking(checks, rs.constants, units)
        out.append("Outreach stays blocked until: " + "; ".join(holding) + ".")
    return out


def _enough_alone(
    evaluator: Evaluator,
    decision: dict[str, Any],
    by_id: dict[tuple[str, str], Check],
    units: dict[str, str],
    need: float,
) -> list[str]:
    """The tiers that would each, alone, add the ``need`` points, and what they need."""
    rs = evaluator.ruleset
    options: list[str] = []
    for category in rs.categories:
        have = decision["category_scores"][category.name]
        for tier in category.tiers:
            gain = (tier.score - have) * category.weight * rs.scale
            if tier.score > have and gain + 1e-9 >= need:
                missing = unmet(by_id[("tier", tier.id)], rs.constants, units)
                needs = f": needs {'; '.join(missing)}" if missing else ""
                options.append(
                    f"{category.name} tier '{tier.id}' would add {gain:g} points{needs}"
                )
    return options


def _unblocking(
    checks: list[Check], constants: dict[str, Any], units: dict[str, str]
) -> list[str]:
    """What must change for outreach to be unblocked: blocking flags, failed hard gates."""
    holding = [
        f"red flag '{c.id}' no longer holds (it fires on: {c.condition})"
        for c in checks
        if c.kind == "red_flag" and c.result is True and c.detail.get("effect") == "block"
    ]
    holding += [
        f"gate '{c.id}' passes (needs {'; '.join(unmet(c, constants, units))})"
        for c in checks
        if c.kind == "gate" and c.result is not True and c.detail.get("severity") == "hard"
    ]
    return holding


def _next_tiers(
    evaluator: Evaluator,
    decision: dict[str, Any],
    by_id: dict[tuple[str, str], Check],
    units: dict[str, str],
) -> list[str]:
    """The next tier up in each category, and what the account lacks for it."""
    rs = evaluator.ruleset
    lines = []
    for category in rs.categories:
        have = decision["category_scores"][category.name]
        higher = [t for t in category.tiers if t.score > have]
        if not higher:
            continue
        tier = min(higher, key=lambda t: t.score)
        gain = (tier.score - have) * category.weight * rs.scale
        missing = unmet(by_id[("tier", tier.id)], rs.constants, units)
        needs = f": needs {'; '.join(missing)}" if missing else ""
        lines.append(f"{category.name} tier '{tier.id}' would add {gain:g} points{needs}")
    return lines
