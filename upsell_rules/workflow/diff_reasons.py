"""Why one account's decision differs between two rulesets: each rule whose outcome
changed, tied to the edits that can cause it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from upsell_rules.engine.outline import score_text

if TYPE_CHECKING:
    from upsell_rules.ruleset.model import Ruleset
    from upsell_rules.workflow.diff import Change, Outcome

T = TypeVar("T")

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
        #: Rule id -> the rule in the old and in the new ruleset (``None`` where absent).
        self.flag_pairs = _pairs({f.id: f for f in old.red_flags},
                                 {f.id: f for f in new.red_flags})
        self.gate_pairs = _pairs({g.id: g for g in old.gates}, {g.id: g for g in new.gates})

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

    def because(self, prefix: str, texts: Iterable[str],
                skip: re.Pattern[str] | None = None) -> tuple[str, ...]:
        """The edits under ``prefix``, and those of the constants and signals ``texts`` read
        (but those whose path ``skip`` matches whole)."""
        words = self.words(texts)
        out = []
        for change in self.changes:
            if skip is not None and skip.fullmatch(change.path):
                continue
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


def _pairs(old: dict[str, T], new: dict[str, T]) -> dict[str, tuple[T | None, T | None]]:
    return {key: (old.get(key), new.get(key)) for key in {**old, **new}}


def reasons_for(
    before: Outcome, after: Outcome, old: Ruleset, new: Ruleset, changes: list[Change]
) -> list[Reason]:
    """Every rule whose outcome differs for one account, most decisive first."""
    rel = Relevance(changes, old, new)
    out = [*_switch_reasons(_RED_FLAG, before.flags, after.flags, rel),
           *_switch_reasons(_GATE, before.gates, after.gates, rel),
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


def _flag_acts_differently(rel: Relevance, flag_id: str) -> str | None:
    old, new = rel.flag_pairs.get(flag_id, (None, None))
    if old is None or new is None or (old.effect, old.cap, old.play) == (
        new.effect, new.cap, new.play
    ):
        return None
    return f"red flag {flag_id} (fired) acts differently"


def _gate_severity_changed(rel: Relevance, gate_id: str) -> str | None:
    old, new = rel.gate_pairs.get(gate_id, (None, None))
    if old is None or new is None or (old.severity, old.play) == (new.severity, new.play):
        return None
    return f"gate {gate_id} (failed): severity {old.severity} -> {new.severity}"


class _Switch(NamedTuple):
    """A kind of rule that holds or not for each account: a red flag fires, a gate passes."""

    #: :attr:`Reason.kind`, as :meth:`Relevance.conditions` takes it.
    kind: str
    label: str
    #: The ruleset section its edits are under.
    section: str
    #: Its outcome on the side whose ruleset does not have it.
    absent: bool
    #: How an outcome of False and of True reads.
    words: tuple[str, str]
    #: The outcome under which its own settings matter (a fired flag, a failed gate)...
    settings_matter: bool
    #: ... and what changed in them, if anything.
    settings_change: Callable[[Relevance, str], str | None]


_RED_FLAG = _Switch("red_flag", "red flag", "red_flags", False, ("not fired", "fired"), True,
                    _flag_acts_differently)
_GATE = _Switch("gate", "gate", "gates", True, ("failed", "passed"), False,
                _gate_severity_changed)


def _switch_reasons(
    switch: _Switch, before: dict[str, bool], after: dict[str, bool], rel: Relevance
) -> list[Reason]:
    """Rules of one kind whose outcome differs, or whose outcome is the same but whose
    settings that then apply changed (a fired flag's effect, a failed gate's severity)."""
    out = []
    for rule_id in [*before, *(r for r in after if r not in before)]:
        was, now = before.get(rule_id, switch.absent), after.get(rule_id, switch.absent)
        prefix = f"{switch.section}.{rule_id}"
        if was != now:
            text = f"{switch.label} {rule_id}: {switch.words[was]} -> {switch.words[now]}"
            out.append(Reason(switch.kind, rule_id, text,
                              rel.because(prefix, rel.conditions(switch.kind, rule_id))))
        elif now == switch.settings_matter:
            changed = switch.settings_change(rel, rule_id)
            if changed is not None:
                out.append(Reason(switch.kind, rule_id, changed, rel.because(prefix, [])))
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
        # A category's weight does not choose its tier: the weights reason names it.
        because = list(rel.because(f"scoring.categories.{category}", texts, _WEIGHT_PATH))
        out.append(Reason("category", category, text, tuple(dict.fromkeys(because))))
    return out
