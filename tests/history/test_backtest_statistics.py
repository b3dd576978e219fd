"""The backtest's statistics checked against independent computations: Wilson intervals
against scipy, the lift's interval worked out by hand, verdicts that do not over-claim on
small groups, and figures that do not depend on the order of the input rows."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from upsell_rules.errors import Location
from upsell_rules.history.backtest import Point, Shape, run_backtest, wilson
from upsell_rules.history.backtest_figures import (
    HEALTHY_BY_TYPE,
    HEALTHY_WIN_RATE,
    MIN_TO_JUDGE,
    judge,
    ratio_interval,
)
from upsell_rules.history.outcomes import Deal, Outcomes

SHAPE = Shape(
    bands=(("act_now", "Act now", 70.0), ("warming", "Warming", 50.0),
           ("monitor", "Monitor", 30.0), ("wait", "Wait", 0.0)),
    triggers=(("t1", "seat"),),
    categories=("product", "relationship", "commercial"),
    weights=(0.4, 0.35, 0.25),
    scale=10.0,
    identity={"name": "hand", "version": "1", "sha256": "0" * 64},
)
START = date(2026, 1, 1)


@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_matches_scipy(case: tuple[int, int]) -> None:
    won, deals = case
    expected = binomtest(won, deals).proportion_ci(0.95, method="wilson")
    low, high = wilson(won, deals) or (-1.0, -1.0)
    # scipy uses the exact normal quantile (1.95996...), the backtest 1.96.
    assert low == pytest.approx(expected.low, abs=2e-4)
    assert high == pytest.approx(expected.high, abs=2e-4)


def test_lift_interval_worked_out_by_hand() -> None:
    # 87 of 155 against 45 of 164: ratio 2.0456, log-scale standard error
    # sqrt(1/87 - 1/155 + 1/45 - 1/164) = 0.14549, so 2.0456 x exp(+-1.96 x 0.14549).
    low, high = ratio_interval(87, 155, 45, 164) or (0.0, 0.0)
    assert low == pytest.approx(1.5379, abs=1e-3) and high == pytest.approx(2.7210, abs=1e-3)
    assert ratio_interval(0, 10, 3, 10) is None and ratio_interval(3, 10, 0, 10) is None


@pytest.mark.parametrize(("kind", "won", "deals", "verdict"), [
    ("seat", 0, 1, "too_few"),        # one lost deal says nothing
    ("seat", 9, 9, "too_few"),        # nor do nine wins
    ("seat", 1, 10, "below"),         # 10%, interval 2-40%: all of it under 45%
    ("plan", 14, 51, "unclear"),      # 27.5%, interval 17-41%: reaches into 35-50%
    ("seat", 14, 51, "below"),        # the same deals against 45-60%: clearly below
    ("seat", 25, 50, "healthy"),
    ("seat", 45, 50, "above"),        # 90%, interval 79-96%: all above 60%
    ("seat", 33, 50, "unclear"),      # 66%, interval 52-78%: reaches back into the range
])
def test_a_verdict_needs_the_evidence(kind: str, won: int, deals: int, verdict: str) -> None:
    assert judge(HEALTHY_BY_TYPE[kind], won / deals, deals, wilson(won, deals)) == verdict


def test_no_value_no_verdict() -> None:
    assert judge(HEALTHY_WIN_RATE, None, 0) is None
    assert judge(HEALTHY_WIN_RATE, 0.2, MIN_TO_JUDGE - 1) == "too_few"


def _history(
    rng: random.Random, accounts: int, deals_per_account: int
) -> tuple[list[Point], list[Deal], dict[str, date]]:
    bands = [b for b, _t, _low in SHAPE.bands]
    points: list[Point] = []
    deals: list[Deal] = []
    churned: dict[str, date] = {}
    for a in range(accounts):
        account = f"A{a:03d}"
        for month in range(6):
            points.append(Point(account, START + timedelta(days=30 * month), 0.0,
                                rng.choice(bands), rng.random() < 0.2, None,
                                (0.0, 0.0, 0.0), ("t1",) if rng.random() < 0.5 else (), ()))
        for k in range(deals_per_account):
            opened = START + timedelta(days=rng.randrange(1, 200))
            deals.append(Deal(account, opened, opened + timedelta(days=rng.randrange(0, 60)),
                              rng.choice(["won", "lost", "no_decision"]),
                              rng.choice(["seat", "plan", "addon", ""]), None,
                              Location("o.csv", len(deals) + 2), f"D-{a}-{k}"))
        if rng.random() < 0.2:
            churned[account] = START + timedelta(days=rng.randrange(30, 300))
    return points, deals, churned


@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(0, 4))
def test_figures_do_not_depend_on_row_order(seed: int, accounts: int, per: int) -> None:
    rng = random.Random(seed)
    points, deals, churned = _history(rng, accounts, per)
    first = run_backtest(points, Outcomes(deals=deals, churned=churned), SHAPE, 90)
    rng.shuffle(points)
    rng.shuffle(deals)
    again = run_backtest(points, Outcomes(deals=deals, churned=dict(reversed(churned.items()))),
                         SHAPE, 90)
    assert again == first


@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(0, 4))
def test_counts_add_up(seed: int, accounts: int, per: int) -> None:
    points, deals, churned = _history(random.Random(seed), accounts, per)
    r = run_backtest(points, Outcomes(deals=deals, churned=churned), SHAPE, 90)
    volume = r["volume"]
    assert volume["deals"] == len(deals)
    assert volume["deals_matched"] + volume["deals_without_snapshot"] == len(deals)
    assert (volume["deals_unknown_account"] + volume["deals_before_first_snapshot"]
            + volume["deals_snapshot_too_old"]) == volume["deals_without_snapshot"]
    assert sum(b["deals"] for b in r["by_band"]) == volume["deals_matched"]
    assert sum(b["won"] for b in r["by_band"]) == r["overall"]["won"]
    assert sum(b["snapshots"] for b in r["by_band"]) == len(points)
    overall = r["overall"]
    assert overall["won"] + overall["lost"] + overall["no_decision"] == overall["deals"]
    for row in [overall, *r["by_band"], *r["by_upsell_type"], *r["by_trigger"]]:
        if row["deals"]:
            low, high = row["ci95"]
            assert 0.0 <= low <= row["win_rate"] <= high <= 1.0
    lift = r["lift"]
    if lift["ci95"] is not None:
        assert lift["ci95"][0] <= lift["ratio"] <= lift["ci95"][1]
        assert math.isfinite(lift["ci95"][1])
