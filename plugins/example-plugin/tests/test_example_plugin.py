"""The example plugin's own tests, written with the upsell-rules plugin fixtures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import upsell_rules_example as example

AS_OF = date(2026, 11, 2)
RULESET = Path(__file__).resolve().parents[1] / "support_aware.yaml"


def test_support_load_weights_priorities_per_ten_seats():
    fn = example.SUPPORT_LOAD.build(
        {"priorities": "open_ticket_priorities", "seats": "seats_licensed", "per_seats": 10}
    )
    assert fn({"open_ticket_priorities": ["P1", "P3"], "seats_licensed": 20}, AS_OF) == 2.5
    assert fn({"seats_licensed": 20}, AS_OF) is None


def test_tickets_at_or_above():
    assert example.tickets_at_or_above(["P1", "P2", "P3"], "P2") == 2
    assert example.tickets_at_or_above(["P4"], "P2") == 0
    assert example.tickets_at_or_above(["P1"], "urgent") is None


def test_loads_through_the_kit(upsell_registry):
    registry = upsell_registry(example)
    assert "support_load" in registry.derivations
    assert "tickets_at_or_above" in registry.functions


def test_ruleset_decisions(upsell_registry, upsell_evaluate, upsell_assert_decision):
    registry = upsell_registry(example)
    decisions = upsell_evaluate(
        str(RULESET),
        [
            {"account_id": "A", "seats_licensed": 20, "seats_active_history": [18, 19],
             "health_score": 90, "open_ticket_priorities": ["P4"]},
            {"account_id": "B", "seats_licensed": 20, "seats_active_history": [18, 19],
             "health_score": 90, "open_ticket_priorities": ["P2"]},
        ],
        as_of=AS_OF,
        registry=registry,
    )
    upsell_assert_decision(decisions[0], band="act_now", blocked=False, fired=["seat_headroom"])
    upsell_assert_decision(decisions[1], blocked=True, fired=["urgent_ticket_open"],
                           play="stabilise_support")
