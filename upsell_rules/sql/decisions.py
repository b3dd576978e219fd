"""Decisions in SQL: blockers, the play, its owner role and the lists of fired ids.

Mirrors :class:`~upsell_rules.engine.outline.Outliner` (``engine/outline.py``): blockers
are the fired ``block`` red flags, then the failed hard gates, in ruleset order; a blocked
account gets the first blocker's play; otherwise an outreach band takes the first fired
trigger's play, and any other band its own play. The play's owner role (``action_owner``)
follows its owner rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from upsell_rules.io.rows import LIST_SEPARATOR
from upsell_rules.ruleset.model import Gate, Play, RedFlag, Ruleset, Trigger
from upsell_rules.sql.values import case, col, lit, not_null


def blocker_play(
    flags: Sequence[tuple[RedFlag, exp.Expr]], gates: Sequence[tuple[Gate, exp.Expr]]
) -> exp.Expr:
    """The play of the first blocker, or NULL when nothing blocks."""
    whens = [(fired, lit(flag.play)) for flag, fired in flags
             if flag.effect == "block" and flag.play]
    whens += [(exp.Not(this=passed), lit(gate.play)) for gate, passed in gates
              if gate.severity == "hard"]
    return case(whens)


def first_trigger(triggers: Sequence[tuple[Trigger, exp.Expr]], play: bool) -> exp.Expr:
    """The first fired trigger's id (or its play), NULL when none fired."""
    return case([(fired, lit(t.play if play else t.id)) for t, fired in triggers])


def kinds_in_order(triggers: Sequence[tuple[Trigger, exp.Expr]]) -> list[tuple[str, exp.Expr]]:
    """(upsell type, condition) for :func:`fired_ids`: each type where its first fired
    trigger stands, as the engine lists them (not in the order the types first appear)."""
    items: list[tuple[str, exp.Expr]] = []
    for index, (trigger, fired) in enumerate(triggers):
        earlier = [f.copy() for t, f in triggers[:index] if t.upsell_type == trigger.upsell_type]
        condition = fired.copy()
        for before in earlier:
            condition = exp.And(this=condition, expression=exp.Not(this=before))
        items.append((trigger.upsell_type, condition))
    return items


def fired_ids(items: Sequence[tuple[str, exp.Expr]]) -> exp.Expr:
    """The ids whose condition holds, in order, ``|``-joined (NULL when none)."""
    if not items:
        return exp.cast(exp.null(), exp.DataType.build("VARCHAR"))
    parts = [case([(fired, lit(LIST_SEPARATOR + ident))], lit("")) for ident, fired in items]
    joined: exp.Expr = parts[0]
    for part in parts[1:]:
        joined = exp.DPipe(this=joined, expression=part)
    text = exp.Nullif(this=joined, expression=lit(""))
    return exp.Substring(this=text, start=lit(2))


def play(ruleset: Ruleset) -> exp.Expr:
    """The play: the blocker's, an outreach band's trigger play, or the band's own."""
    outreach = [b.id for b in ruleset.bands if b.outreach]
    whens = [(not_null(col("_blocker_play")), col("_blocker_play"))]
    if outreach:
        in_outreach = exp.In(this=col("band"), expressions=[lit(b) for b in outreach])
        whens.append((exp.And(this=in_outreach, expression=not_null(col("_trigger_play"))),
                      col("_trigger_play")))
    by_band = exp.Case(this=col("band"))
    for b in ruleset.bands:
        by_band = by_band.when(lit(b.id), lit(b.play))
    return case(whens, by_band)


def owner(ruleset: Ruleset, owner_rules: dict[str, list[tuple[exp.Expr | None, str]]]
          ) -> exp.Expr:
    """The owner role of the chosen play (``owner_rules``: group -> (condition, role)).

    The account's owner, the person, is another column: passed through from the table.
    """
    by_play = exp.Case(this=col("play"))
    for play_id, p in ruleset.plays.items():
        by_play = by_play.when(lit(play_id), _owner_of(p, owner_rules))
    return by_play


def _owner_of(p: Play, owner_rules: dict[str, list[tuple[exp.Expr | None, str]]]
              ) -> exp.Expr:
    rules = owner_rules.get(p.owner)
    if rules is None:
        return lit(p.owner or "unassigned")
    whens: list[tuple[exp.Expr, exp.Expr]] = []
    for condition, role in rules:
        if condition is None:
            return case(whens, lit(role))
        whens.append((condition, lit(role)))
    return case(whens, lit("unassigned"))
