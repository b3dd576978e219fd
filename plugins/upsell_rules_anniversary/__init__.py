"""The contract-anniversary upsell type: the value review ahead of a renewal.

Registered through the ``upsell_rules`` entry point like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.series import as_date, format_count
from upsell_rules.plugin.types import UpsellType

__all__ = ["ANNIVERSARY", "describe_anniversary", "upsell_rules_upsell_types"]


def describe_anniversary(signals: Mapping[str, Any]) -> str | None:
    """Name the renewal date, and how far away it is.

    Reads ``renewal_date``; the distance needs the evaluation date, which the engine
    passes under the key ``"_as_of"`` (left out without it). Returns ``None`` when the
    renewal date is missing.
    """
    renewal = as_date(signals.get("renewal_date"))
    if renewal is None:
        return None
    text = f"renewal on {renewal.isoformat()}"
    as_of = as_date(signals.get("_as_of"))
    if as_of is None:
        return text
    days = (renewal - as_of).days
    if days > 0:
        return f"{text}, in {format_count(days, 'day')}"
    if days == 0:
        return f"{text}, today"
    return f"{text}, {format_count(-days, 'day')} ago"


ANNIVERSARY = UpsellType(
    name="anniversary",
    title="Contract anniversary",
    frame="value review",
    description=(
        "A calendar trigger: the renewal is 60-90 days out, budgets are being set, and a "
        "review of what the account achieved can open the expansion conversation."
    ),
    default_window="75-90 days before renewal",
    describe=describe_anniversary,
    default_opening=(
        "Before renewal on {renewal_date}, let's review what the team has accomplished "
        "and shape next year's plan around where you are heading."
    ),
    trigger_hint="60 <= days_to_renewal <= 90",
)


@hookimpl(trylast=True)
def upsell_rules_upsell_types(register: Callable[[UpsellType], None]) -> None:
    """Register the anniversary upsell type."""
    register(ANNIVERSARY)
