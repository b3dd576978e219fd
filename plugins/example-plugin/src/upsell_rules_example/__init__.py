"""Example upsell-rules plugin: how heavy is an account's support load?

A third-party plugin written against the public plugin API only (``upsell_rules.plugin.hookspecs``
and ``upsell_rules.plugin.types``). It provides:

- the derivation ``support_load``: open tickets weighted by priority (P1 counts 4, P2 2,
  P3 1, P4 0.5) per ``per_seats`` licensed seats (10 by default). A team of 20 seats with
  one open P1 and one P3 has a support load of (4 + 1) / 20 * 10 = 2.5;
- the expression function ``tickets_at_or_above(priorities, "P2")``: how many open
  tickets are at that priority or more urgent.

An account with no open tickets has no ``open_ticket_priorities`` value; its support
load is then unknown (missing), like every other signal whose input is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation, DeriveFn, Function, ParamSpec

__version__ = "0.2.0"

#: How much one open ticket of each priority weighs.
WEIGHTS = {"P1": 4.0, "P2": 2.0, "P3": 1.0, "P4": 0.5}


def _level(priority: str) -> int | None:
    text = priority.strip().upper()
    if len(text) == 2 and text[0] == "P" and text[1] in "1234":
        return int(text[1])
    return None


def _build_support_load(params: Mapping[str, Any]) -> DeriveFn:
    priorities_name = str(params["priorities"])
    seats_name = str(params["seats"])
    per_seats = float(params["per_seats"])
    if per_seats <= 0:
        raise ValueError(f"per_seats must be above 0, got {per_seats:g}")

    def support_load(signals: Mapping[str, Any], as_of: date) -> float | None:
        priorities = signals.get(priorities_name)
        seats = signals.get(seats_name)
        if priorities is None or not seats:
            return None
        weight = sum(WEIGHTS.get(str(p).strip().upper(), 1.0) for p in priorities)
        return round(weight / float(seats) * per_seats, 4)

    return support_load


SUPPORT_LOAD = Derivation(
    name="support_load",
    description="Open tickets weighted by priority (P1 4, P2 2, P3 1, P4 0.5) per 10 seats.",
    output_type="number",
    build=_build_support_load,
    params={
        "priorities": ParamSpec(
            "signal", "open_ticket_priorities", description="priorities of open tickets"
        ),
        "seats": ParamSpec("signal", "seats_licensed", description="licensed seats"),
        "per_seats": ParamSpec("number", 10, description="report the load per this many seats"),
    },
)


def tickets_at_or_above(priorities: Sequence[str], level: str) -> int | None:
    """Open tickets at ``level`` (P1..P4) or more urgent; missing for an unknown level."""
    wanted = _level(level)
    if wanted is None:
        return None
    return sum(1 for p in priorities if (found := _level(str(p))) is not None and found <= wanted)


TICKETS_AT_OR_ABOVE = Function(
    name="tickets_at_or_above",
    description="How many open tickets are at a priority (P1..P4) or more urgent.",
    args=("string_list", "string"),
    arg_names=("priorities", "level"),
    returns="integer",
    call=tickets_at_or_above,
)


@hookimpl
def upsell_rules_derivations(register: Callable[[Derivation], None]) -> None:
    """Register ``support_load``."""
    register(SUPPORT_LOAD)


@hookimpl
def upsell_rules_functions(register: Callable[[Function], None]) -> None:
    """Register ``tickets_at_or_above``."""
    register(TICKETS_AT_OR_ABOVE)
