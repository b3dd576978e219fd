"""What changed for one account between two decisions, beyond band and blocked state.

``diff`` lists every account whose triggers, play or score moved (not only the ones
that change band), and, when it compares two exports or two dates with one ruleset,
the account's own signals that moved.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.outline import score_text
from upsell_rules.io.records import Account
from upsell_rules.ruleset.templates import format_value

#: How many moved signals to name per account.
MOST_SIGNALS = 10


def _ids(items: list[dict[str, Any]], *, fired: bool = True) -> set[str]:
    return {str(i["id"]) for i in items}


def detail_lines(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Score, triggers, play, red flags and gates that differ between two decisions."""
    out: list[str] = []
    if a["score"] != b["score"]:
        delta = b["score"] - a["score"]
        out.append(f"score {score_text(a['score'])} -> {score_text(b['score'])} "
                   f"({'+' if delta > 0 else ''}{score_text(round(delta, 2))})")
    before, after = _ids(a["triggers"]), _ids(b["triggers"])
    if after - before:
        out.append("new triggers: " + ", ".join(sorted(after - before)))
    if before - after:
        out.append("lost triggers: " + ", ".join(sorted(before - after)))
    if a["action"]["play"] != b["action"]["play"]:
        out.append(f"play {a['action']['play']} -> {b['action']['play']}")
    flags_a, flags_b = _ids(a["red_flags"]), _ids(b["red_flags"])
    if flags_b - flags_a:
        out.append("red flags now firing: " + ", ".join(sorted(flags_b - flags_a)))
    if flags_a - flags_b:
        out.append("red flags cleared: " + ", ".join(sorted(flags_a - flags_b)))
    failed_a = {g["id"] for g in a["gates"] if not g["passed"]}
    failed_b = {g["id"] for g in b["gates"] if not g["passed"]}
    if failed_b - failed_a:
        out.append("gates now failing: " + ", ".join(sorted(failed_b - failed_a)))
    if failed_a - failed_b:
        out.append("gates now passing: " + ", ".join(sorted(failed_a - failed_b)))
    return out


def differs(a: dict[str, Any], b: dict[str, Any], min_delta: float | None) -> bool:
    """Worth listing although band and blocked state stay: triggers or play changed, or
    the score moved by at least ``min_delta`` (any move when ``min_delta`` is None)."""
    if _ids(a["triggers"]) != _ids(b["triggers"]) or a["action"]["play"] != b["action"]["play"]:
        return True
    delta = abs(b["score"] - a["score"])
    return delta > 0 and (min_delta is None or delta >= min_delta)


def _show(value: Any, unit: str) -> str:
    if value is None:
        return "missing"
    if unit == "ratio" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"
    if isinstance(value, float):
        return f"{value:.4g}"
    return format_value(value, None)


def moved_signals(
    old: Evaluator, new: Evaluator, before: Account, after: Account,
    old_as_of: date, new_as_of: date,
) -> list[str]:
    """The account's inputs, and the derived signals the rules read, whose values moved:
    ``health_score 71 -> 64``."""
    rs = new.ruleset
    a = old.signals(before, old_as_of)
    b = new.signals(after, new_as_of)
    out: list[str] = []
    for name, sig in rs.signals.items():
        if name.startswith("_") or (name not in a and name not in b):
            continue
        was, now = a.get(name), b.get(name)
        if was == now:
            continue
        out.append(f"{name} {_show(was, sig.unit)} -> {_show(now, sig.unit)}")
        if len(out) >= MOST_SIGNALS:
            break
    return out
