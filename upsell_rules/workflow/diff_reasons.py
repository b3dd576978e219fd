"""Why one account's decision differs between two rulesets: each rule whose outcome
changed, tied to the edits that can cause it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from upsell_rules.ruleset.model import Ruleset
    from upsell_rules.workflow.diff import Change, Outcome

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WEIGHT_PATH = re.compile(r"scoring\.(scale|categories\.[^.]+\.weight)")
#: The kinds of reason that explain a band change best: what moved the score or the
#: boundaries.
SCORING_KINDS = ("category", "weights", "cap", "bands")


@dataclass(frozen=True)
class Reason:
    """One rule whose outcome differs, and the edits that can explain it."""

    kind: str
    id: str
    text: str
    because: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"kind": self.kind, "id": self.id, "text": self.text,
                "because": list(self.because)}


class Relevance:
    """Finds the edits that can change one rule's outcome."""

    def __init__(self, changes: list[Change], old: Ruleset, new: Ruleset) -> None:
        self.changes = changes
        self.old = old
        self.new = new
        self.rulesets = (old, new)

    def words(self, texts: Iterable[str]) -> set[str]:
        """Every name a condition reads, following named conditions and derived signals."""
        seen: set[str] = set()
        stack = [w for text in texts for w in _WORD.findall(text)]
        while stack:
            word = stack.pop()
            if word in seen:
                continue
            seen.add(word)
            for ruleset in self.rulesets:
                sig = ruleset.signals.get(word)
                if sig is None:
                    continue
                if sig.when is not None:
                    stack += _WORD.findall(sig.when.source)
                for value in sig.params.values():
                    items = value if isinstance(value, list) else [value]
                    stack += [str(v) for v in items if isinstance(v, str)]
        return seen

    def because(self, prefix: str, texts: Iterable[str]) -> tuple[str, ...]:
        """The edits under ``prefix``, and those of the constants and signals ``texts`` read."""
        words = self.words(texts)
        out = []
        for change in self.changes:
            head, _, rest = change.path.partition(".")
            name = rest.split(".")[0]
            if (
                change.path == prefix
                or change.path.startswith(prefix + ".")
                or (head in ("constants", "signals") and name in words)
            ):
                out.append(str(change))
        return tuple(out)

    def conditions(self, kind: str, rid: str, category: str = "") -> list[str]:
        """The source of rule ``rid``'s condition in both rulesets (a tier's in ``category``)."""
        texts = []
        for ruleset in self.rulesets:
            if kind == "gate":
                texts += [g.require.source for g in ruleset.gates if g.id == rid]
            elif kind == "red_flag":
                texts += [f.when.source for f in ruleset.red_flags if f.id == rid]
            else:
                texts += [t.when.source for c in ruleset.categories if c.name == category
                          for t in c.tiers if t.id == rid]
        return texts


def score_text(value: float) -> str:
    """A score as the diff shows it: ``70``, ``72.5``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def reasons_for(
    before: Outcome, after: Outcome, old: Ruleset, new: Ruleset, changes: list[Change]
) -> list[Reason]:
    """Every rule whose outcome differs for one account, most decisive first."""
    rel = Relevance(changes, old, new)
    out = [*_flag_reasons(before, after, rel), *_gate_reasons(before, after, rel),
           *_category_reasons(before, after, rel)]
    weight_changes = tuple(str(c) for c in changes if _WEIGHT_PATH.fullmatch(c.path))
    if weight_changes and before.decision["raw_score"] != after.decision["raw_score"]:
        out.append(Reason("weights", "scoring", "category weights or scale changed",
                          weight_changes))
    if before.decision["capped_at"] != after.decision["capped_at"] and not any(
        r.kind == "red_flag" for r in out
    ):
        out.append(Reason("cap", "capped_at", f"cap: {before.decision['capped_at']} -> "
                          f"{after.decision['capped_at']}", ()))
    band_changes = tuple(str(c) for c in changes if c.path.startswith("bands."))
    if before.decision["band"] != after.decision["band"] and band_changes:
        out.append(Reason("bands", "bands", f"band boundaries moved (score "
                          f"{score_text(after.decision['score'])} is {after.decision['band']} "
                          "now)", band_changes))
    if not out:
        out.append(Reason("other", "", "no single rule outcome differs; the play, owner or "
                          "a setting the rules share changed", tuple(str(c) for c in changes)))
    return out


def _fired(fired: bool) -> str:
    return "fired" if fired else "not fired"


def _flag_reasons(before: Outcome, after: Outcome, rel: Relevance) -> list[Reason]:
    """Red flags that fire on one side only, or fire on both but act differently."""
    old_flags = {f.id: f for f in rel.old.red_flags}
    new_flags = {f.id: f for f in rel.new.red_flags}
    out = []
    for flag_id in [*before.flags, *(f for f in after.flags if f not in before.flags)]:
        was, now = before.flags.get(flag_id, False), after.flags.get(flag_id, False)
        prefix = f"red_flags.{flag_id}"
        if was != now:
            out.append(Reason("red_flag", flag_id,
                              f"red flag {flag_id}: {_fired(was)} -> {_fired(now)}",
                              rel.because(prefix, rel.conditions("red_flag", flag_id))))
        elif now and flag_id in old_flags and flag_id in new_flags:
            old_flag, new_flag = old_flags[flag_id], new_flags[flag_id]
            if (old_flag.effect, old_flag.cap, old_flag.play) != (
                new_flag.effect, new_flag.cap, new_flag.play
            ):
                out.append(Reason("red_flag", flag_id, f"red flag {flag_id} (fired) acts "
                                  "differently", rel.because(prefix, [])))
    return out


def _passed(passed: bool) -> str:
    return "passed" if passed else "failed"


def _gate_reasons(before: Outcome, after: Outcome, rel: Relevance) -> list[Reason]:
    """Gates that pass on one side only, or fail on both with another severity or play."""
    old_gates = {g.id: g for g in rel.old.gates}
    new_gates = {g.id: g for g in rel.new.gates}
    out = []
    for gate_id in [*before.gates, *(g for g in after.gates if g not in before.gates)]:
        passed, passes = before.gates.get(gate_id, True), after.gates.get(gate_id, True)
        prefix = f"gates.{gate_id}"
        if passed != passes:
            out.append(Reason("gate", gate_id,
                              f"gate {gate_id}: {_passed(passed)} -> {_passed(passes)}",
                              rel.because(prefix, rel.conditions("gate", gate_id))))
        elif not passes and gate_id in old_gates and gate_id in new_gates:
            old_gate, new_gate = old_gates[gate_id], new_gates[gate_id]
            if (old_gate.severity, old_gate.play) != (new_gate.severity, new_gate.play):
                out.append(Reason("gate", gate_id, f"gate {gate_id} (failed): severity "
                                  f"{old_gate.severity} -> {new_gate.severity}",
                                  rel.because(prefix, [])))
    return out


def _category_reasons(before: Outcome, after: Outcome, rel: Relevance) -> list[Reason]:
    """Categories whose winning tier or score differs, with the edits behind the tiers
    whose outcome flipped."""
    out = []
    for category in [*before.winners, *(c for c in after.winners if c not in before.winners)]:
        won = before.winners.get(category, (None, 0.0))
        wins = after.winners.get(category, (None, 0.0))
        if won == wins:
            continue
        text = (f"{category}: {won[0] or 'no tier'} ({score_text(won[1])}) -> "
                f"{wins[0] or 'no tier'} ({score_text(wins[1])})")
        flipped = [t for (c, t) in {**before.tiers, **after.tiers} if c == category
                   and before.tiers.get((c, t)) != after.tiers.get((c, t))]
        texts = [s for t in flipped for s in rel.conditions("tier", t, category)]
        because = list(rel.because(f"scoring.categories.{category}", texts))
        out.append(Reason("category", category, text, tuple(dict.fromkeys(because))))
    return out
