"""The part of a decision that follows from the condition outcomes alone.

The engine answers every condition of a ruleset at once, as one tuple of booleans in the
order :func:`lay_out` fixes. :class:`Outliner` turns such a tuple into an
:class:`Outline` in named steps: category scores, red flags, gates, the band, triggers,
the play, its owner, and the fixed sentences of the narrative. Accounts with the same
outcomes share one outline; only what reads the account's own values is rendered per
account (:meth:`upsell_rules.engine.evaluate.Evaluator.assemble`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from upsell_rules.expr.nodes import Node
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.model import Band, Play, RedFlag, Ruleset, Trigger
from upsell_rules.ruleset.templates import Template

Outcomes = tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class TierSlot:
    """A category tier: where its condition's outcome is, and the score it gives."""

    position: int
    score: float


@dataclass(frozen=True, slots=True)
class CategorySlot:
    """A scoring category: its tiers best score first, so the first that holds decides."""

    name: str
    weight: float
    otherwise: float
    tiers: tuple[TierSlot, ...]


@dataclass(frozen=True, slots=True)
class GateSlot:
    """A gate: where its requirement's outcome is, the play it asks for, hard or soft."""

    id: str
    position: int
    play: str
    hard: bool


@dataclass(frozen=True, slots=True)
class FlagSlot:
    """A red flag and where its condition's outcome is."""

    position: int
    flag: RedFlag


@dataclass(frozen=True, slots=True)
class TriggerSlot:
    """A trigger and where its condition's outcome is."""

    position: int
    trigger: Trigger


@dataclass(frozen=True, slots=True)
class OwnerSlot:
    """An owner rule: where its condition's outcome is (``None``: always) and the role."""

    position: int | None
    role: str


@dataclass(slots=True)
class TriggerHit:
    """A trigger that fired: its id, upsell type and evidence template (if any).

    Built with each outline, so not frozen, as :class:`Outline` (read-only all the same).
    """

    id: str
    upsell_type: str
    evidence: Template | None


@dataclass(slots=True)
class ConditionLayout:
    """Every condition of a ruleset in one flat list, and where each rule's outcome is."""

    conditions: list[Node] = field(default_factory=list)
    categories: list[CategorySlot] = field(default_factory=list)
    gates: list[GateSlot] = field(default_factory=list)
    flags: list[FlagSlot] = field(default_factory=list)
    triggers: list[TriggerSlot] = field(default_factory=list)
    owners: dict[str, list[OwnerSlot]] = field(default_factory=dict)

    def add(self, node: Node) -> int:
        """Append one condition; its outcome's index."""
        self.conditions.append(node)
        return len(self.conditions) - 1


def lay_out(ruleset: Ruleset) -> ConditionLayout:
    """The ruleset's conditions in the fixed order the outline relies on."""
    layout = ConditionLayout()
    for category in ruleset.categories:
        tiers = [TierSlot(layout.add(tier.when.node), tier.score) for tier in category.tiers]
        tiers.sort(key=lambda tier: -tier.score)
        layout.categories.append(
            CategorySlot(category.name, category.weight, category.otherwise, tuple(tiers))
        )
    for gate in ruleset.gates:
        index = layout.add(gate.require.node)
        layout.gates.append(GateSlot(gate.id, index, gate.play, gate.severity == "hard"))
    for flag in ruleset.red_flags:
        layout.flags.append(FlagSlot(layout.add(flag.when.node), flag))
    for trigger in ruleset.triggers:
        layout.triggers.append(TriggerSlot(layout.add(trigger.when.node), trigger))
    for group, rules in ruleset.owners.items():
        layout.owners[group] = [
            OwnerSlot(None if rule.when is None else layout.add(rule.when.node), rule.role)
            for rule in rules
        ]
    return layout


@dataclass(slots=True)
class Outline:
    """What a decision holds that follows from the condition outcomes alone.

    Shared between the accounts with the same outcomes:
    :meth:`~upsell_rules.engine.evaluate.Evaluator.assemble` copies the mutable parts
    into each record, and nothing assigns to an outline once it is built. Not frozen, on
    purpose: a frozen dataclass sets each of its 17 fields through ``object.__setattr__``,
    which cost about 10,000 instructions per account (``bench/instructions.py``; see
    docs/performance.md). Slots keep reading a field quick.
    """

    category_scores: dict[str, float]
    raw_score: float
    cap: float | None
    score: float
    band: Band
    blocked: bool
    red_flags: tuple[dict[str, Any], ...]
    gates: tuple[dict[str, Any], ...]
    triggers: tuple[TriggerHit, ...]
    upsell_types: tuple[str, ...]
    play_id: str
    play: Play
    owner: str
    frame: str
    prepare: tuple[str, ...]
    opening: str
    before_outreach: str

    @property
    def capped_at(self) -> float | None:
        """The cap, when it lowered the score (a cap above it changed nothing)."""
        return self.cap if self.raw_score > self.score else None


@dataclass(slots=True)
class Holds:
    """What the red flags and gates that hold say: block, cap, or prepare first."""

    red_flags: list[dict[str, Any]] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    prepare: list[str] = field(default_factory=list)
    cap: float | None = None
    #: The red flag whose cap holds (the first in the ruleset among equal caps).
    cap_by: str = ""


class Fired(NamedTuple):
    """The triggers that fired, their upsell types in order, and the first one."""

    hits: tuple[TriggerHit, ...]
    upsell_types: tuple[str, ...]
    primary: Trigger | None


def band_for(bands: Sequence[Band], score: float) -> Band:
    """The band a score falls in (bands are sorted high to low)."""
    for band in bands:
        if score >= band.min:
            return band
    return bands[-1]


class Outliner:
    """Builds the :class:`Outline` of one outcome pattern, step by step."""

    def __init__(self, ruleset: Ruleset, registry: Registry, layout: ConditionLayout) -> None:
        self.ruleset = ruleset
        self.registry = registry
        self.layout = layout
        self.hard_gates = {gate.id for gate in ruleset.gates if gate.severity == "hard"}

    def outline(self, outcomes: Outcomes) -> Outline:
        """The parts of a decision that follow from ``outcomes`` alone."""
        category_scores, raw_score = self.score_categories(outcomes)
        holds = self.read_holds(outcomes)
        cap = holds.cap
        score = raw_score if cap is None or raw_score <= cap else cap
        band = band_for(self.ruleset.bands, score)
        fired = self.read_triggers(outcomes)
        blocked = bool(holds.blockers)
        play_id = self.choose_play(holds, band, fired.primary)
        play = self.ruleset.plays[play_id]
        steps = self.preparatory_steps(holds, band, play_id)
        return Outline(
            category_scores=category_scores,
            raw_score=raw_score,
            cap=cap,
            score=score,
            band=band,
            blocked=blocked,
            red_flags=tuple(holds.red_flags),
            gates=tuple(holds.gates),
            triggers=fired.hits,
            upsell_types=fired.upsell_types,
            play_id=play_id,
            play=play,
            owner=self.owner(play, outcomes),
            frame=self.frame(play, play_id, blocked, fired.primary),
            prepare=steps,
            opening=self.opening(holds, raw_score, score, band, play),
            before_outreach=self.before_outreach(steps),
        )

    def score_categories(self, outcomes: Outcomes) -> tuple[dict[str, float], float]:
        """Each category's score (its best tier that holds) and the weighted raw score."""
        category_scores: dict[str, float] = {}
        weighted = 0.0
        for category in self.layout.categories:
            best = category.otherwise
            for tier in category.tiers:
                if outcomes[tier.position]:
                    if tier.score > best:
                        best = tier.score
                    break
            category_scores[category.name] = best
            weighted += best * category.weight
        return category_scores, round(weighted * self.ruleset.scale, 2)

    def read_holds(self, outcomes: Outcomes) -> Holds:
        """The red flags that hold and every gate, with the plays they block or add."""
        holds = Holds()
        for slot in self.layout.flags:
            if not outcomes[slot.position]:
                continue
            flag = slot.flag
            holds.red_flags.append({"id": flag.id, "effect": flag.effect, "play": flag.play})
            effect = flag.effect
            if effect == "block" and flag.play:
                holds.blockers.append(flag.play)
            elif effect == "cap" and flag.cap is not None:
                if holds.cap is None or flag.cap < holds.cap:
                    holds.cap, holds.cap_by = flag.cap, flag.id
            elif effect == "prepare" and flag.play:
                holds.prepare.append(flag.play)
        for gate in self.layout.gates:
            holds.gates.append({"id": gate.id, "passed": outcomes[gate.position],
                                "severity": "hard" if gate.hard else "soft", "play": gate.play})
        for gate in self.layout.gates:
            if not outcomes[gate.position]:
                (holds.blockers if gate.hard else holds.prepare).append(gate.play)
        return holds

    def read_triggers(self, outcomes: Outcomes) -> Fired:
        """The triggers that fired, in ruleset order."""
        hits: list[TriggerHit] = []
        upsell_types: list[str] = []
        primary: Trigger | None = None
        for slot in self.layout.triggers:
            if outcomes[slot.position]:
                trigger = slot.trigger
                if primary is None:
                    primary = trigger
                kind = trigger.upsell_type
                hits.append(TriggerHit(trigger.id, kind, trigger.evidence))
                if kind not in upsell_types:
                    upsell_types.append(kind)
        return Fired(tuple(hits), tuple(upsell_types), primary)

    def choose_play(self, holds: Holds, band: Band, primary: Trigger | None) -> str:
        """A blocker's play first; else the first trigger's in an outreach band; else the
        band's."""
        if holds.blockers:
            return holds.blockers[0]
        if band.outreach and primary is not None:
            return primary.play
        return band.play

    def frame(self, play: Play, play_id: str, blocked: bool, primary: Trigger | None) -> str:
        """The play's framing, or the upsell type's when the first trigger chose the play."""
        if play.frame or blocked or primary is None or play_id != primary.play:
            return play.frame
        upsell_type = self.registry.upsell_types.get(primary.upsell_type)
        return upsell_type.frame if upsell_type is not None else ""

    def preparatory_steps(self, holds: Holds, band: Band, play_id: str) -> tuple[str, ...]:
        """Plays to do before outreach (they matter only in an outreach band)."""
        if not holds.prepare or holds.blockers or not band.outreach:
            return ()
        return tuple(p for p in dict.fromkeys(holds.prepare) if p != play_id)

    def opening(
        self, holds: Holds, raw_score: float, score: float, band: Band, play: Play
    ) -> str:
        """The narrative's first sentence: the band and score, or what blocks."""
        shown_score = f"{score_text(score)}/100"
        if holds.cap is not None and raw_score > score:
            shown_score += f", capped from {score_text(raw_score)} by {holds.cap_by}"
        if not holds.blockers:
            return f"{band.title} at {shown_score}."
        reasons = [flag["id"] for flag in holds.red_flags if flag["effect"] == "block"]
        reasons += [gate["id"] for gate in holds.gates
                    if not gate["passed"] and gate["id"] in self.hard_gates]
        return (
            f"Blocked by {', '.join(reasons)}: {blocking_step(play.title)} "
            f"(timing score {shown_score}, {band.title} band)."
        )

    def before_outreach(self, steps: tuple[str, ...]) -> str:
        """The sentence listing the preparatory plays, if any."""
        if not steps:
            return ""
        return "Before outreach: " + "; ".join(self.ruleset.plays[p].title for p in steps) + "."

    def owner(self, play: Play, outcomes: Outcomes) -> str:
        """The play's owner: a role, or the first owner rule of its group that holds."""
        rules = self.layout.owners.get(play.owner)
        if rules is None:
            return play.owner or "unassigned"
        for rule in rules:
            if rule.position is None or outcomes[rule.position]:
                return rule.role
        return "unassigned"


def blocking_step(title: str) -> str:
    """A blocking play's title as the step that comes first: ``Re-engagement sequence
    first``, but ``Health first`` stays as it is rather than saying "first" twice."""
    return title if re.search(r"\bfirst\b", title, re.IGNORECASE) else f"{title} first"


def score_text(value: float) -> str:
    """A score as people read it: ``70``, ``72.5`` (no ``.0``)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
