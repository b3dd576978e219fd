"""Fit a ruleset's category weights (and band cut-offs) to history, proposed as a YAML edit.

The method, in the order it runs:

1. **Split by account.** Accounts, not snapshots, are shuffled with the seed and a
   ``holdout`` share is set aside, so no account's history helps to fit and to judge.
2. **Fit the weights** on the other accounts' deals. Each deal carries the category
   scores of the snapshot in force when it opened; the fit finds the weights (each 0.05
   to 0.85, summing to 1) under which the timing score best predicts ``won`` in a
   logistic model ``P(won) = 1 / (1 + exp(-(a + b * score)))``, by maximum likelihood
   with :func:`scipy.optimize.minimize` (SLSQP handles the bounds and the sum). A light
   pull towards the current weights keeps a thin history from swinging them wildly
   (:mod:`upsell_rules.history.weight_fit`).
3. **Place the band cut-offs** (optional) so that each band keeps the share of training
   snapshots it had before: the queue stays the size CSMs can work, and the act-now win
   rate before and after compares like with like.
4. **Judge on the held-out accounts**: the AUC of the score against ``won`` (the chance
   that a random won deal scored above a random lost one; 0.5 is a coin toss) is the
   metric, with the act-now win rate and lift beside it. The proposal is then decided
   for real (every held-out snapshot through the evaluator) to give the backtest before
   and after.

Category scores do not depend on weights, so steps 2-3 re-score recorded decisions
instead of deciding every snapshot again; the final real evaluation checks that short
cut.
"""

from __future__ import annotations

import bisect
import difflib
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from upsell_rules.errors import UpsellRulesError
from upsell_rules.history.backtest import (
    Joined,
    Point,
    Shape,
    Timeline,
    join,
    run_backtest,
)
from upsell_rules.history.outcomes import Deal, Outcomes
from upsell_rules.ruleset.yamledit import edit_numbers, format_number
from upsell_rules.ruleset.yamlload import Path, YamlDocument

if TYPE_CHECKING:
    from upsell_rules.history.weight_fit import Fit

#: Fewer training deals than this (or no win, or no loss) is too little to fit.
MIN_DEALS = 30
#: The fewest won and the fewest not-won held-out deals before a held-out comparison is
#: believed: with fewer, one deal more or less swings the AUC by tenths.
MIN_HELD_OUT_EACH = 10


class CalibrationError(UpsellRulesError):
    """Calibration cannot run on this history (too few deals, no wins, ...)."""


@dataclass(frozen=True)
class Split:
    """Accounts used to fit and accounts held out to judge."""

    train: frozenset[str]
    test: frozenset[str]


def split_accounts(accounts: Iterable[str], holdout: float, seed: int) -> Split:
    """Shuffle the sorted account ids with ``seed`` and hold out a ``holdout`` share."""
    if not 0 < holdout < 1:
        raise CalibrationError(f"--holdout must be between 0 and 1, got {holdout}")
    ids = sorted(set(accounts))
    random.Random(seed).shuffle(ids)
    count = max(1, round(len(ids) * holdout))
    if count >= len(ids):
        raise CalibrationError("too few accounts to hold some out")
    return Split(frozenset(ids[count:]), frozenset(ids[:count]))


def rescore(
    points: Sequence[Point],
    weights: Sequence[float],
    scale: float,
    cutoffs: Sequence[tuple[str, float]],
) -> list[Point]:
    """The points as the evaluator would score them with other weights and band limits.

    ``cutoffs`` are (band id, min) from the highest band down. A cap recorded on a point
    still applies, as in the evaluator.
    """
    out: list[Point] = []
    for point in points:
        raw = round(sum(w * c for w, c in zip(weights, point.categories, strict=True)) * scale,
                    2)
        score = raw if point.capped_at is None or raw <= point.capped_at else point.capped_at
        band = cutoffs[-1][0]
        for band_id, low in cutoffs:
            if score >= low:
                band = band_id
                break
        out.append(replace(point, score=score, band=band))
    return out


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (ties count half); ``None`` without both classes."""
    positives = sum(1 for label in labels if label)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = average
        i = j + 1
    rank_sum = sum(r for r, label in zip(ranks, labels, strict=True) if label)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def fit_weights(
    features: Sequence[Sequence[float]], won: Sequence[bool], start: Sequence[float]
) -> Fit:
    """Maximum-likelihood weights (:func:`upsell_rules.history.weight_fit.fit_weights`).

    Needs scipy (the ``calibrate`` extra); without it, a :class:`CalibrationError` says
    how to install it.
    """
    try:
        from upsell_rules.history import weight_fit
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise CalibrationError(
            "calibrate needs scipy: pip install 'upsell-rules[calibrate]'"
        ) from exc
    return weight_fit.fit_weights(features, won, start)


def round_weights(weights: Sequence[float], decimals: int = 2) -> list[float]:
    """Round to ``decimals`` places keeping the sum exactly 1 (largest remainders win)."""
    unit = 10**decimals
    total = sum(weights)
    exact = [w / total * unit for w in weights]
    floors = [math.floor(e) for e in exact]
    missing = unit - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], i))
    for i in by_remainder[:missing]:
        floors[i] += 1
    return [f / unit for f in floors]


def match_band_shares(
    before: Sequence[Point], after_scores: Sequence[float], bands: Sequence[tuple[str, float]]
) -> list[tuple[str, float]]:
    """Whole-number band minimums under which each band keeps its share of ``before``.

    ``bands`` are (id, min) from the highest band down; the lowest band keeps its min.
    Each cut-off is the whole number where the share of ``after_scores`` at or above it
    is closest to the share of points that were in that band or higher.
    """
    total = len(before)
    if total == 0:
        return list(bands)
    ranked = sorted(after_scores)
    out: list[tuple[str, float]] = []
    ceiling = 100.0
    for index, (band_id, low) in enumerate(bands):
        if index == len(bands) - 1:
            out.append((band_id, low))
            break
        share = sum(1 for p in before if p.score >= low) / total
        best = low
        best_gap = math.inf
        # Keep every band at least one point wide, below the band above it.
        floor_value = float(len(bands) - 1 - index)
        candidate = ceiling - 1
        while candidate >= floor_value:
            above = total - _count_below(ranked, candidate)
            gap = abs(above / total - share)
            if gap < best_gap:
                best, best_gap = candidate, gap
            candidate -= 1
        out.append((band_id, best))
        ceiling = best
    return out


def _count_below(ranked: Sequence[float], value: float) -> int:
    return bisect.bisect_left(ranked, value)


@dataclass
class Proposal:
    """What calibration proposes and how it did on the held-out accounts."""

    split: Split
    train_deals: int
    test_deals: int
    categories: list[str]
    weights_before: list[float]
    weights_after: list[float]
    bands_before: list[tuple[str, float]]
    bands_after: list[tuple[str, float]]
    fit: Fit
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    text: str = ""
    diff: str = ""
    backtest_before: dict[str, Any] = field(default_factory=dict)
    backtest_after: dict[str, Any] = field(default_factory=dict)
    #: Whether re-scoring recorded decisions matched deciding the proposal for real.
    shortcut_agrees: bool | None = None
    #: Held-out deals that were won.
    test_won: int = 0

    @property
    def too_few_held_out(self) -> bool:
        """True when the held-out deals are too few, in wins or in the rest, to judge by."""
        return min(self.test_won, self.test_deals - self.test_won) < MIN_HELD_OUT_EACH

    @property
    def improved(self) -> bool:
        """True when the held-out AUC went up on enough held-out deals to judge."""
        auc_metric = self.metrics.get("auc", {})
        before, after = auc_metric.get("before"), auc_metric.get("after")
        return (not self.too_few_held_out and before is not None and after is not None
                and after > before)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the proposal text itself is left out; the diff is in)."""
        return {
            "split": {
                "train_accounts": len(self.split.train),
                "test_accounts": len(self.split.test),
                "train_deals": self.train_deals,
                "test_deals": self.test_deals,
                "test_won": self.test_won,
                "too_few_held_out": self.too_few_held_out,
            },
            "weights": {
                name: {"before": b, "after": a}
                for name, b, a in zip(self.categories, self.weights_before,
                                      self.weights_after, strict=True)
            },
            "bands": {
                band_id: {"min_before": b, "min_after": a}
                for (band_id, b), (_, a) in zip(self.bands_before, self.bands_after, strict=True)
            },
            "fit": {
                "method": "maximum likelihood, logistic link, scipy.optimize SLSQP",
                "success": self.fit.success,
                "message": self.fit.message,
                "train_log_likelihood_before": round(self.fit.log_likelihood_before, 3),
                "train_log_likelihood_after": round(self.fit.log_likelihood_after, 3),
                "unrounded_weights": [round(w, 4) for w in self.fit.weights],
            },
            "held_out": self.metrics,
            "improved": self.improved,
            "rescoring_matched_real_decisions": self.shortcut_agrees,
            "diff": self.diff,
            "backtest_before": self.backtest_before,
            "backtest_after": self.backtest_after,
        }


def _metrics(points: Sequence[Point], joined: Sequence[Joined], top: str) -> dict[str, Any]:
    pairs = [(j.point, j.deal.won) for j in joined if j.point is not None]
    scores = [p.score for p, _ in pairs]
    labels = [won for _, won in pairs]
    top_deals = [won for p, won in pairs if p.band == top]
    rest = [won for p, won in pairs if p.band != top]
    top_rate = sum(top_deals) / len(top_deals) if top_deals else None
    rest_rate = sum(rest) / len(rest) if rest else None
    return {
        "auc": auc(scores, labels),
        "top_win_rate": top_rate,
        "top_deals": len(top_deals),
        "top_share": sum(1 for p in points if p.band == top) / len(points) if points else None,
        "lift": top_rate / rest_rate if top_rate is not None and rest_rate else None,
    }


@dataclass(frozen=True)
class _Halves:
    """The history split by account: points and joined deals to fit on and to judge on."""

    split: Split
    train_points: list[Point]
    test_points: list[Point]
    train_joined: list[Joined]
    test_joined: list[Joined]
    #: The held-out accounts' deals, joined again to re-scored points.
    test_deals: list[Deal]


def _split_history(
    points: Sequence[Point], outcomes: Outcomes, horizon_days: int, holdout: float, seed: int
) -> _Halves:
    """Split accounts with ``seed`` and join each side's deals to its own snapshots."""
    split = split_accounts((p.account_id for p in points), holdout, seed)
    train_points = [p for p in points if p.account_id in split.train]
    test_points = [p for p in points if p.account_id in split.test]
    train_deals = [d for d in outcomes.deals if d.account_id in split.train]
    test_deals = [d for d in outcomes.deals if d.account_id in split.test]
    train_joined = [j for j in join(Timeline(train_points), train_deals, horizon_days)
                    if j.point is not None]
    test_joined = [j for j in join(Timeline(test_points), test_deals, horizon_days)
                   if j.point is not None]
    return _Halves(split, train_points, test_points, train_joined, test_joined, test_deals)


def _require_enough(train_joined: Sequence[Joined]) -> None:
    """Raise :class:`CalibrationError` unless there are enough training deals, with both
    wins and losses."""
    wins = sum(1 for j in train_joined if j.deal.won)
    if len(train_joined) < MIN_DEALS or wins == 0 or wins == len(train_joined):
        raise CalibrationError(
            f"too little history to fit: {len(train_joined)} training deals with {wins} "
            f"won (need at least {MIN_DEALS}, with both wins and losses)"
        )


def _yaml_changes(
    doc: YamlDocument,
    shape: Shape,
    weights: Sequence[float],
    bands_before: Sequence[tuple[str, float]],
    bands_after: Sequence[tuple[str, float]],
) -> dict[Path, str]:
    """The numbers to rewrite in the ruleset file: changed weights, and each moved band
    minimum with the maximum of the band below it."""
    changes: dict[Path, str] = {}
    for name, old, new in zip(shape.categories, shape.weights, weights, strict=True):
        if abs(old - new) > 1e-9:
            changes[("scoring", "categories", name, "weight")] = format_number(new)
    raw_bands = doc.data.get("bands") if isinstance(doc.data, dict) else None
    positions = {b.get("id"): i for i, b in enumerate(raw_bands or []) if isinstance(b, dict)}
    for index, ((band_id, old_min), (_, new_min)) in enumerate(
        zip(bands_before, bands_after, strict=True)
    ):
        if abs(old_min - new_min) < 1e-9:
            continue
        changes[("bands", positions[band_id], "min")] = format_number(new_min, 0)
        lower = bands_before[index + 1][0]
        changes[("bands", positions[lower], "max")] = format_number(new_min, 0)
    return changes


def _unified_diff(doc: YamlDocument, text: str) -> str:
    """The proposal against the current file, as a unified diff."""
    return "".join(
        difflib.unified_diff(
            doc.text.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{doc.path} (current)",
            tofile=f"{doc.path} (proposed)",
        )
    )


def _rescored_metrics(
    halves: _Halves, shape: Shape, weights: Sequence[float],
    bands_after: Sequence[tuple[str, float]], horizon_days: int,
) -> dict[str, dict[str, Any]]:
    """Held-out metrics before, and after from the recorded decisions re-scored."""
    before_metrics = _metrics(halves.test_points, halves.test_joined, shape.top)
    rescored_test = rescore(halves.test_points, weights, shape.scale, bands_after)
    after_joined = join(Timeline(rescored_test), halves.test_deals, horizon_days)
    after_metrics = _metrics(rescored_test, [j for j in after_joined if j.point is not None],
                             shape.top)
    return {
        key: {"before": before_metrics[key], "after": after_metrics[key]}
        for key in before_metrics
    }


def propose(
    doc: YamlDocument,
    points: Sequence[Point],
    outcomes: Outcomes,
    shape: Shape,
    *,
    horizon_days: int = 90,
    holdout: float = 0.3,
    seed: int = 0,
    fit_bands: bool = True,
) -> Proposal:
    """Fit on the training accounts and write the proposal text (not yet judged for real).

    ``doc`` is the ruleset file as loaded (its positions are used for the edit).
    ``metrics`` holds the held-out comparison from re-scored decisions; the caller adds
    the real backtests with :func:`judge`.
    """
    halves = _split_history(points, outcomes, horizon_days, holdout, seed)
    _require_enough(halves.train_joined)
    features = [j.point.categories for j in halves.train_joined if j.point is not None]
    labels = [j.deal.won for j in halves.train_joined]
    fit = fit_weights(features, labels, shape.weights)
    weights = round_weights(fit.weights)
    bands_before = [(band_id, low) for band_id, _title, low in shape.bands]
    if fit_bands:
        rescored_train = rescore(halves.train_points, weights, shape.scale, bands_before)
        bands_after = match_band_shares(halves.train_points,
                                        [p.score for p in rescored_train], bands_before)
    else:
        bands_after = list(bands_before)
    changes = _yaml_changes(doc, shape, weights, bands_before, bands_after)
    text = edit_numbers(doc, changes) if changes else doc.text
    return Proposal(
        split=halves.split,
        train_deals=len(halves.train_joined),
        test_deals=len(halves.test_joined),
        test_won=sum(1 for j in halves.test_joined if j.deal.won),
        categories=list(shape.categories),
        weights_before=list(shape.weights),
        weights_after=weights,
        bands_before=bands_before,
        bands_after=bands_after,
        fit=fit,
        metrics=_rescored_metrics(halves, shape, weights, bands_after, horizon_days),
        text=text,
        diff=_unified_diff(doc, text),
    )


def judge(
    proposal: Proposal,
    before_points: Sequence[Point],
    after_points: Sequence[Point],
    outcomes: Outcomes,
    before_shape: Shape,
    after_shape: Shape,
    horizon_days: int,
) -> None:
    """Judge the proposal on the held-out accounts with real decisions of both rulesets.

    ``after_points`` are the held-out snapshots decided by the proposed ruleset. The
    metrics computed from re-scored decisions in :func:`propose` are replaced by the ones
    from these real decisions, and ``shortcut_agrees`` records whether the two agreed.
    """
    test = set(proposal.split.test)
    before = [p for p in before_points if p.account_id in test]
    after = [p for p in after_points if p.account_id in test]
    deals = [d for d in outcomes.deals if d.account_id in test]
    top = before_shape.top
    real_before = _metrics(before, [j for j in join(Timeline(before), deals, horizon_days)
                                    if j.point is not None], top)
    real_after = _metrics(after, [j for j in join(Timeline(after), deals, horizon_days)
                                  if j.point is not None], after_shape.top)
    rescored = {key: value["after"] for key, value in proposal.metrics.items()}
    proposal.shortcut_agrees = all(
        _close(rescored[key], real_after[key]) for key in real_after
    )
    proposal.metrics = {
        key: {"before": real_before[key], "after": real_after[key]} for key in real_before
    }
    proposal.backtest_before = run_backtest(
        before_points, outcomes, before_shape, horizon_days, accounts=test
    )
    proposal.backtest_after = run_backtest(
        after_points, outcomes, after_shape, horizon_days, accounts=test
    )


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 1e-9
    return bool(a == b)
