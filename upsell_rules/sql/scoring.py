"""Scores in SQL: category tiers, the weighted score and its rounding, caps, the band.

The engine's arithmetic is copied step by step so that the doubles are the same: the
weighted sum is added up in category order, and the score is rounded to cents the way
Python's ``round(x, 2)`` does (the exact binary value, ties to even), not the way a
dialect's ``ROUND`` does: see :func:`round_cents`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from upsell_rules.ruleset.model import Category, RedFlag, Ruleset
from upsell_rules.sql.values import case, col, dbl, is_null, lit

#: 2**27 + 1: Veltkamp's constant, splitting a double into two halves of 26 bits.
_SPLIT = 134217729.0


def category_score(category: Category, conditions: Sequence[exp.Expr]) -> exp.Expr:
    """The best matching tier's score, or ``otherwise`` (``conditions``: one per tier).

    The engine takes the first matching tier in descending score order and keeps it
    only when it beats ``otherwise``: a tier at or below ``otherwise`` can never count.
    """
    tiers = sorted(zip(category.tiers, conditions, strict=True), key=lambda p: -p[0].score)
    whens = [(cond, lit(float(t.score))) for t, cond in tiers if t.score > category.otherwise]
    return dbl(case(whens, lit(float(category.otherwise))))


def weighted(ruleset: Ruleset, columns: Sequence[str]) -> exp.Expr:
    """``(score_1 * weight_1 + score_2 * weight_2 + ...) * scale`` in the engine's order."""
    total: exp.Expr = lit(0.0)
    for category, name in zip(ruleset.categories, columns, strict=True):
        term = exp.Mul(this=col(name), expression=lit(float(category.weight)))
        total = exp.Add(this=total, expression=term)
    return exp.Mul(this=exp.paren(total), expression=lit(float(ruleset.scale)))


def rounding_parts(v: exp.Expr) -> dict[str, exp.Expr]:
    """First step of :func:`round_cents`: ``p = v*100`` and the high half of ``v``."""
    c = exp.Mul(this=v, expression=lit(_SPLIT))
    hi = exp.Sub(this=c, expression=exp.paren(exp.Sub(this=c.copy(), expression=v.copy())))
    p = exp.Mul(this=v.copy(), expression=lit(100.0))
    return {"_p": p, "_hi": hi, "_f": exp.Floor(this=p.copy())}


def rounding_tie(v: exp.Expr) -> exp.Expr:
    """Second step: the sign of ``v*100 - (floor + 0.5)``, computed exactly.

    ``p + e`` is ``v*100`` without rounding error (Dekker's product: ``100`` needs no
    split and ``hi*100`` and ``lo*100`` are exact), so ``(p - f - 0.5) + e`` has the
    sign of the exact distance to the half way point, and is 0 only on a true tie.
    """
    p, hi, f = col("_p"), col("_hi"), col("_f")
    e = exp.Add(
        this=exp.paren(exp.Sub(this=exp.Mul(this=hi, expression=lit(100.0)), expression=p)),
        expression=exp.Mul(this=exp.paren(exp.Sub(this=v, expression=hi.copy())),
                           expression=lit(100.0)),
    )
    d = exp.Sub(this=exp.paren(exp.Sub(this=p.copy(), expression=f)), expression=lit(0.5))
    return exp.Add(this=exp.paren(d), expression=exp.paren(e))


def round_cents() -> exp.Expr:
    """Third step: the rounded score, ``k / 100`` with ``k`` rounded half to even."""
    f, t = col("_f"), col("_t")
    up = exp.Add(this=f, expression=lit(1.0))
    even = exp.EQ(
        this=exp.Sub(this=f.copy(), expression=exp.Mul(
            this=lit(2.0), expression=exp.Floor(this=exp.Div(this=f.copy(), expression=lit(2.0))))),
        expression=lit(0.0),
    )
    k = case([
        (exp.GT(this=t, expression=lit(0.0)), up),
        (exp.LT(this=t.copy(), expression=lit(0.0)), f.copy()),
        (even, f.copy()),
    ], up.copy())
    return exp.Div(this=dbl(k), expression=lit(100.0))


def cap(flags: Sequence[tuple[RedFlag, exp.Expr]]) -> exp.Expr:
    """The lowest cap among the fired ``cap`` red flags, or NULL."""
    caps = [(flag, fired) for flag, fired in flags if flag.effect == "cap" and flag.cap is not None]
    caps.sort(key=lambda pair: pair[0].cap or 0.0)
    return dbl(case([(fired, lit(float(flag.cap or 0.0))) for flag, fired in caps]))


def capped_score(raw: exp.Expr, cap_value: exp.Expr) -> exp.Expr:
    """The score after the cap: the raw score unless a cap below it applies."""
    keep = exp.Or(this=is_null(cap_value), expression=exp.LTE(this=raw, expression=cap_value))
    return case([(keep, raw.copy())], cap_value.copy())


def band(ruleset: Ruleset, score: exp.Expr) -> exp.Expr:
    """The first band (high to low) whose ``min`` the score reaches, else the last."""
    bands = ruleset.bands
    whens = [(exp.GTE(this=score.copy(), expression=lit(float(b.min))), lit(b.id))
             for b in bands[:-1]]
    return case(whens, lit(bands[-1].id))
