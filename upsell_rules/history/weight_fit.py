"""Maximum-likelihood category weights for calibrate (needs the ``calibrate`` extra: scipy).

The model: ``P(won) = 1 / (1 + exp(-(a + b * score)))`` where ``score`` is the weighted
sum of a deal's category scores. :func:`fit_weights` finds the weights (each between
:data:`WEIGHT_MIN` and :data:`WEIGHT_MAX`, summing to 1), the intercept ``a`` and the
slope ``b`` that make the recorded outcomes most likely, with a light pull towards the
current weights. :mod:`upsell_rules.history.calibrate` imports this module only when it
fits, so the rest of calibrate works without scipy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

#: Bounds of a fitted weight: no category is switched off or allowed to take over.
WEIGHT_MIN, WEIGHT_MAX = 0.05, 0.85
#: How strongly the fit is pulled towards the current weights, in log-likelihood units
#: per unit of squared weight change (about as much as a few deals' worth of evidence).
PRIOR_STRENGTH = 5.0
#: Bounds of the intercept and of the slope while the weights are fitted.
INTERCEPT_BOUNDS, SLOPE_BOUNDS = (-20.0, 20.0), (-5.0, 5.0)

Vector = npt.NDArray[np.float64]


@dataclass
class Fit:
    """The fitted weights and what the optimiser said."""

    weights: list[float]
    intercept: float
    slope: float
    success: bool
    message: str
    log_likelihood_before: float
    log_likelihood_after: float


class BestLine(NamedTuple):
    """The best intercept and slope for fixed weights, and the negative log-likelihood there."""

    negative_log_likelihood: float
    intercept: float
    slope: float


class DealLikelihood:
    """The deals to fit: category scores per deal, won or not, and the current weights.

    The parameter vector the optimiser moves is the weights followed by the intercept
    and the slope.
    """

    def __init__(
        self, features: Sequence[Sequence[float]], won: Sequence[bool], start: Sequence[float]
    ) -> None:
        self.features: Vector = np.asarray(features, dtype=float)
        self.won: Vector = np.asarray(won, dtype=float)
        self.start: Vector = np.asarray(start, dtype=float)
        self.categories: int = self.features.shape[1]

    def penalised(self, theta: Vector) -> tuple[float, Vector]:
        """Negative log-likelihood plus the pull towards the current weights, and its
        gradient, at ``theta``."""
        count = self.categories
        weights, intercept, slope = theta[:count], theta[count], theta[count + 1]
        scores = self.features @ weights
        logits = intercept + slope * scores
        # log(1 + e^z) without overflow
        log1p = np.logaddexp(0.0, logits)
        pull = weights - self.start
        value = float(np.sum(log1p - self.won * logits)) + PRIOR_STRENGTH * float(
            np.sum(pull**2))
        residual = 1.0 / (1.0 + np.exp(-logits)) - self.won
        gradient = np.empty_like(theta)
        gradient[:count] = slope * (self.features.T @ residual) + 2 * PRIOR_STRENGTH * pull
        gradient[count] = float(np.sum(residual))
        gradient[count + 1] = float(np.sum(residual * scores))
        return value, gradient

    def best_line(self, weights: Vector) -> BestLine:
        """Best intercept and slope for fixed ``weights``, and the likelihood there."""
        scores = self.features @ weights

        def unpenalised(line: Vector) -> tuple[float, Vector]:
            logits = line[0] + line[1] * scores
            residual = 1.0 / (1.0 + np.exp(-logits)) - self.won
            value = float(np.sum(np.logaddexp(0.0, logits) - self.won * logits))
            return value, np.array([np.sum(residual), np.sum(residual * scores)])

        found = minimize(unpenalised, np.zeros(2), jac=True, method="L-BFGS-B")
        return BestLine(float(found.fun), float(found.x[0]), float(found.x[1]))

    def maximise(self, line: BestLine) -> Any:
        """The optimiser's result for weights, intercept and slope together, from the
        current weights and their best ``line`` (SLSQP: bounds, and weights summing to 1)."""
        count = self.categories
        theta0 = np.concatenate([self.start, [line.intercept, line.slope]])
        bounds = [(WEIGHT_MIN, WEIGHT_MAX)] * count + [INTERCEPT_BOUNDS, SLOPE_BOUNDS]
        sum_to_one = {
            "type": "eq",
            "fun": lambda theta: float(np.sum(theta[:count]) - 1.0),
            "jac": lambda theta: np.concatenate([np.ones(count), [0.0, 0.0]]),
        }
        return minimize(self.penalised, theta0, jac=True, method="SLSQP", bounds=bounds,
                        constraints=[sum_to_one], options={"maxiter": 500, "ftol": 1e-10})


def fit_weights(
    features: Sequence[Sequence[float]], won: Sequence[bool], start: Sequence[float]
) -> Fit:
    """Maximum-likelihood weights for ``P(won) = sigmoid(a + b * (weights . features))``.

    ``features`` are category scores (0-10) per deal, ``start`` the current weights (also
    the centre of the pull that keeps a thin history from swinging them).
    """
    deals = DealLikelihood(features, won, start)
    before = deals.best_line(deals.start)
    result = deals.maximise(before)
    count = deals.categories
    weights = [float(v) for v in result.x[:count]]
    after = deals.best_line(np.asarray(weights))
    return Fit(
        weights=weights,
        intercept=float(result.x[count]),
        slope=float(result.x[count + 1]),
        success=bool(result.success),
        message=str(result.message),
        log_likelihood_before=-before.negative_log_likelihood,
        log_likelihood_after=-after.negative_log_likelihood,
    )
