"""Product-analytics events source: a Segment-style track-event export, per account.

Registered through the ``upsell_rules`` entry point as ``events``. Name it on the
command line: ``--data events:exports/tracks.jsonl`` (an events export looks like any
JSON Lines file, so it is never picked by extension). Which events count as
gated-feature attempts, the length of a billing cycle and what makes a power user are
set in the ruleset's ``sources.events`` section, so RevOps can change them without code.
See :mod:`upsell_rules_events.aggregate` for what each signal means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from upsell_rules.errors import RecordError
from upsell_rules.io.encoding import encoding_problems
from upsell_rules.io.mapping import check_preset
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import ParamSpec, RawRecord, Source

from .aggregate import EventOptions, read_events, summarise

__all__ = ["EVENTS_SOURCE", "EventOptions", "read_events", "summarise", "upsell_rules_sources"]


def _never(path: str) -> bool:
    return False


def _read_without_context(path: str) -> Iterator[RawRecord | RecordError]:
    raise NotImplementedError("the core calls read_with_context for this source")


OPTIONS = {
    "gated_feature_events": ParamSpec(
        "list",
        ["Upgrade Prompt Clicked"],
        description="event names that count as an attempt to use a feature above the plan",
    ),
    "activity_events": ParamSpec(
        "list",
        None,
        description="event names that make a user active (default: every track, page and "
        "screen event)",
    ),
    "cycle_days": ParamSpec("integer", 30, description="length of a billing cycle in days"),
    "cycles": ParamSpec("integer", 6, description="how many billing cycles of history"),
    "department_property": ParamSpec(
        "string", "department", description="the user property that names a department"
    ),
    "power_user_factor": ParamSpec(
        "number", 3.0, description="a power user has at least this many times the mean events"
    ),
    "power_user_min_events": ParamSpec(
        "integer", 10, description="... and at least this many events in the current cycle"
    ),
    "preset": ParamSpec(
        "string", description="read a vendor's export: posthog_events or amplitude_events "
        "(docs/data.md)", check=check_preset("events")
    ),
    "group_type": ParamSpec(
        "string", "company", description="with a preset: the group type that is the account"
    ),
    "encoding": ParamSpec(
        "string", description="the export's text encoding: utf-8 (default), utf-16, "
        "cp1252...; --encoding on the command line wins", check=encoding_problems,
    ),
    "event_fields": ParamSpec(
        "mapping", None, description="where each part of an event sits (event, user, group, "
        "timestamp, department -> dotted path); overrides the preset's"
    ),
}

EVENTS_SOURCE = Source(
    name="events",
    description=(
        "Segment-style track-event export (JSON Lines), aggregated per account (groupId) "
        "into seats_active_history, gated_feature_attempts, power_users and "
        "departments_active. Use --data events:PATH."
    ),
    matches=_never,
    read=_read_without_context,
    options=OPTIONS,
    read_with_context=read_events,
)


@hookimpl(trylast=True)
def upsell_rules_sources(register: Callable[[Source], None]) -> None:
    """Register the events source."""
    register(EVENTS_SOURCE)
