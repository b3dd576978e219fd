"""The seat-expansion upsell type: active seats closing in on the licensed count.

Registered through the ``upsell_rules`` entry point like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.series import (
    as_number,
    as_number_list,
    cycles_to_days,
    format_count,
    format_number,
    format_percent,
    projected_cycles_to_limit,
    window_start,
)
from upsell_rules.plugin.types import UpsellType

__all__ = ["SEAT", "describe_seat", "upsell_rules_upsell_types"]

#: How many recent billing cycles the summary looks back over.
TREND_CYCLES = 3


def describe_seat(signals: Mapping[str, Any]) -> str | None:
    """Summarise seat growth against the licensed seats, with a projected ceiling date.

    Reads ``seats_active_history`` and ``seats_licensed``; returns ``None`` when either
    is missing or there are no licensed seats. The projection assumes monthly billing
    cycles and follows the last three cycles' pace; it is left out when seats are flat
    or falling.
    """
    history = as_number_list(signals.get("seats_active_history"))
    licensed = as_number(signals.get("seats_licensed"))
    if not history or licensed is None or licensed <= 0:
        return None
    current = history[-1]
    share = f"{format_percent(current / licensed)} of {format_number(licensed)} licensed"
    if len(history) >= 2:
        start = window_start(history, TREND_CYCLES)
        cycles = min(len(history), TREND_CYCLES)
        text = (
            f"{format_number(start or 0)} -> {format_number(current)} active seats over the "
            f"last {cycles} cycles ({share})"
        )
    else:
        text = f"{format_number(current)} active seats ({share})"

    if current > licensed:
        return f"{text}; already {format_number(current - licensed)} over the licensed seats"
    to_ceiling = projected_cycles_to_limit(history, licensed, TREND_CYCLES)
    if to_ceiling == 0:
        return f"{text}; the seat ceiling is reached"
    days = None if to_ceiling is None else cycles_to_days(to_ceiling)
    if days is not None:
        return f"{text}; at this pace the ceiling is ~{format_count(days, 'day')} away"
    return text


SEAT = UpsellType(
    name="seat",
    title="Seat expansion",
    frame="growth continuity",
    description=(
        "More seats for a team that is growing into its licence: active seats near the "
        "licensed count for two or more cycles, spread to new teams, or new power users."
    ),
    default_window="immediately, before users are blocked",
    describe=describe_seat,
    default_opening=(
        "Your team is growing into its {seats_licensed} seats. Let's plan the next seats "
        "before anyone is locked out."
    ),
    trigger_hint="seat_utilization >= 85% or seat_cycles_at_80 >= 2",
)


@hookimpl(trylast=True)
def upsell_rules_upsell_types(register: Callable[[UpsellType], None]) -> None:
    """Register the seat upsell type."""
    register(SEAT)
