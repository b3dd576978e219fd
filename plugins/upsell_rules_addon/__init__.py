"""The add-on upsell type: a module the customer said they are missing.

Registered through the ``upsell_rules`` entry point like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.series import as_date, as_string_list, format_count
from upsell_rules.plugin.types import UpsellType

__all__ = ["ADDON", "describe_addon", "upsell_rules_upsell_types"]


def describe_addon(signals: Mapping[str, Any]) -> str | None:
    """Summarise the gaps the customer named, and when.

    Reads ``named_gaps`` and, if present, ``named_gaps_on``; with the evaluation date
    (passed by the engine under the key ``"_as_of"``) it also says how long ago that
    was. Returns ``None`` when no gap was named.
    """
    gaps = as_string_list(signals.get("named_gaps"))
    if not gaps:
        return None
    text = f"asked for: {', '.join(gaps)}"
    named_on = as_date(signals.get("named_gaps_on"))
    if named_on is None:
        return text
    as_of = as_date(signals.get("_as_of"))
    if as_of is None or as_of < named_on:
        return f"{text} (named on {named_on.isoformat()})"
    age = (as_of - named_on).days
    when = "today" if age == 0 else f"{format_count(age, 'day')} ago"
    return f"{text} (named on {named_on.isoformat()}, {when})"


ADDON = UpsellType(
    name="addon",
    title="Add-on",
    frame="gap resolution",
    description=(
        "An add-on module that closes a gap the customer named themselves, in a support "
        "ticket, a business review or a direct request."
    ),
    default_window="within 48-72 hours of the request",
    describe=describe_addon,
    default_opening=(
        "You mentioned needing {named_gaps:list}. We have a module for that; worth a "
        "15-minute look?"
    ),
    trigger_hint="named_gap_count >= 1 and days_since_gap_named <= 3",
)


@hookimpl(trylast=True)
def upsell_rules_upsell_types(register: Callable[[UpsellType], None]) -> None:
    """Register the add-on upsell type."""
    register(ADDON)
