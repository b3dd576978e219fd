"""The plan-upgrade upsell type: metered usage near the plan limit, or gated features.

Registered through the ``upsell_rules`` entry point like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.series import (
    as_date,
    as_date_list,
    as_number,
    as_number_list,
    cycles_to_days,
    format_count,
    format_number,
    format_percent,
    growth_floor,
    last_growth_rate,
    projected_cycles_to_limit,
    trailing_run,
)
from upsell_rules.plugin.types import UpsellType

__all__ = ["PLAN", "describe_plan", "upsell_rules_upsell_types"]

#: Usage share of the limit that the trigger watches (the domain's 70% rule).
USAGE_SHARE = 0.70
#: Growth per cycle from which usage velocity is worth mentioning (20% month over month).
FAST_GROWTH = 0.20
#: How far back gated-feature attempts count (repeated attempts within 14 days).
ATTEMPT_DAYS = 14


def describe_plan(signals: Mapping[str, Any]) -> str | None:
    """Summarise pressure on the plan: usage against its limit, and gated-feature attempts.

    Reads ``usage_history``, ``usage_limit`` and ``gated_feature_attempts``. Counting
    attempts "in the last 14 days" needs the evaluation date, which the engine passes
    in the same mapping under the key ``"_as_of"``; without it the summary gives the
    number of attempts on record. Returns ``None`` when none of these signals is there.
    """
    parts: list[str] = []
    usage = as_number_list(signals.get("usage_history"))
    limit = as_number(signals.get("usage_limit"))
    if usage and limit is not None and limit > 0:
        parts.append(_usage_summary(usage, limit))

    attempts = as_date_list(signals.get("gated_feature_attempts"))
    if attempts:
        as_of = as_date(signals.get("_as_of"))
        if as_of is None:
            parts.append(f"{format_count(len(attempts), 'gated-feature attempt')} on record")
        else:
            recent = sum(1 for day in attempts if 0 <= (as_of - day).days <= ATTEMPT_DAYS)
            if recent:
                parts.append(
                    f"{format_count(recent, 'gated-feature attempt')} "
                    f"in the last {ATTEMPT_DAYS} days"
                )
    return "; ".join(parts) or None


def _usage_summary(usage: list[float], limit: float) -> str:
    """Usage share, cycles above the watched share, growth and the projected ceiling."""
    text = f"usage at {format_percent(usage[-1] / limit)} of the {format_number(limit)} limit"
    above = trailing_run(usage, lambda value: value / limit > USAGE_SHARE)
    if above:
        text += f", above {format_percent(USAGE_SHARE)} for {format_count(above, 'cycle')}"
    growth = last_growth_rate(usage)
    if growth is not None and growth >= growth_floor(FAST_GROWTH):
        text += f", up {format_percent(growth)} on the previous cycle"
    to_ceiling = projected_cycles_to_limit(usage, limit)
    days = None if to_ceiling is None else cycles_to_days(to_ceiling)
    if days == 0:
        text += "; the limit is reached"
    elif days is not None:
        text += f"; ceiling in ~{format_count(days, 'day')}"
    return text


PLAN = UpsellType(
    name="plan",
    title="Plan upgrade",
    frame="workflow validation / capability completion",
    description=(
        "A higher tier for an account outgrowing its plan: repeated attempts at gated "
        "features, metered usage above 70% of the limit for two or more cycles, or usage "
        "growing 20% or more per cycle."
    ),
    default_window="within 1-3 business days",
    describe=describe_plan,
    default_opening=(
        "Your team keeps reaching past what the {plan} plan includes. Is that filling a "
        "gap in your workflow? If so, let's look at whether the next tier fits."
    ),
    trigger_hint="feature_ceiling_hit or usage_cycles_at_70 >= 2",
)


@hookimpl(trylast=True)
def upsell_rules_upsell_types(register: Callable[[UpsellType], None]) -> None:
    """Register the plan upsell type."""
    register(PLAN)
