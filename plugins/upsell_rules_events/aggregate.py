"""Aggregate a Segment-style track-event export into per-account contract signals.

One JSON object per line, as Segment, RudderStack and most product-analytics tools
export them::

    {"type": "track", "event": "Report Exported", "userId": "u-17",
     "groupId": "ACC-1001", "timestamp": "2026-10-22T14:03:11.000Z",
     "properties": {"department": "Finance"}}

The account is ``groupId``, else ``context.groupId``, else the group a ``group`` call in
the same export put the user in. Billing cycles are counted back from the evaluation
date in steps of ``cycle_days``: cycle 0 is the ``cycle_days`` days up to and including
it. Events after the evaluation date are ignored, so a run for a past date sees what
was known then. Per account it produces:

``seats_active_history``
    distinct active users per cycle, oldest first (cycles before the account's first
    event are left out, so a new account has a short history, not leading zeros);
``gated_feature_attempts``
    the dates of events whose name the ruleset maps as a gated-feature attempt
    (``gated_feature_events``, e.g. "Upgrade Prompt Clicked");
``power_users``
    users of the current cycle with at least ``power_user_factor`` times the mean
    number of events per active user, and at least ``power_user_min_events``;
``departments_active``
    distinct values of the user property ``department_property`` among the users
    active in the current cycle.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io.encoding import decoding_problem, open_export
from upsell_rules.plugin.types import RawRecord, SourceContext

from .shapes import EventShape

ACTIVITY_TYPES = ("track", "page", "screen")


@dataclass
class _Account:
    """What one account's events add up to while the file is read."""

    first_line: int
    #: user -> day -> number of activity events that day
    activity: dict[str, Counter[date]] = field(default_factory=dict)
    gated: list[date] = field(default_factory=list)
    failed: bool = False


@dataclass(frozen=True)
class EventOptions:
    """The events source's options, checked and typed."""

    gated_feature_events: frozenset[str]
    activity_events: frozenset[str]
    cycle_days: int
    cycles: int
    department_property: str
    power_user_factor: float
    power_user_min_events: int

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> EventOptions:
        """Options from the ruleset's ``sources.events`` section (defaults filled in)."""

        def names(key: str) -> frozenset[str]:
            value = options.get(key) or []
            if isinstance(value, str):
                value = [value]
            return frozenset(str(v).strip().casefold() for v in value if str(v).strip())

        cycle_days = int(options.get("cycle_days", 30))
        cycles = int(options.get("cycles", 6))
        if cycle_days < 1 or cycles < 1:
            raise InputError("events source: cycle_days and cycles must be at least 1")
        return cls(
            gated_feature_events=names("gated_feature_events"),
            activity_events=names("activity_events"),
            cycle_days=cycle_days,
            cycles=cycles,
            department_property=str(options.get("department_property", "department")),
            power_user_factor=float(options.get("power_user_factor", 3.0)),
            power_user_min_events=int(options.get("power_user_min_events", 10)),
        )


def event_day(event: Mapping[str, Any]) -> date | None:
    """The UTC calendar day of an event's ``timestamp`` (or ``originalTimestamp``)."""
    raw = event.get("timestamp") or event.get("originalTimestamp") or event.get("sentAt")
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _group_of(event: Mapping[str, Any]) -> str:
    group = event.get("groupId")
    if not group:
        context = event.get("context")
        if isinstance(context, dict):
            group = context.get("groupId")
    return str(group).strip() if isinstance(group, str | int) and str(group).strip() else ""


def _user_of(event: Mapping[str, Any]) -> str:
    user = event.get("userId") or event.get("anonymousId")
    return str(user).strip() if isinstance(user, str | int) else ""


def _department(event: Mapping[str, Any], prop: str) -> str:
    for holder in (event.get("properties"), event.get("traits")):
        if isinstance(holder, dict) and isinstance(holder.get(prop), str):
            return str(holder[prop]).strip()
    context = event.get("context")
    if isinstance(context, dict) and isinstance(context.get("traits"), dict):
        value = context["traits"].get(prop)
        if isinstance(value, str):
            return value.strip()
    return ""


def read_events(path: str, context: SourceContext) -> Iterator[RawRecord | RecordError]:
    """Read a track-event export and yield one aggregated record per account.

    A line that is not a JSON object is reported at its line; an event with an unreadable
    timestamp is reported at its line and its account is left out (its signals would be
    wrong). Events whose account cannot be told (no group, no group call for the user)
    are ignored.
    """
    options = EventOptions.from_mapping(context.options)
    shape = EventShape.from_options(context.options)
    accounts: dict[str, _Account] = {}
    user_group: dict[str, str] = {}
    departments: dict[str, str] = {}
    pending: list[tuple[int, str, str, date]] = []  # (line, user, event name, day)
    latest_day: date | None = None
    # A byte the encoding cannot read fails its line only (checked below), not the export.
    handle, codec = open_export(path, context.options.get("encoding"), "events export",
                                "events", "\n")
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            problem = decoding_problem(line, codec)
            if problem:
                yield RecordError(Location(path, number), problem)
                continue
            try:
                event = json.loads(line)
            except ValueError as exc:
                yield RecordError(Location(path, number), f"not valid JSON: {exc}")
                continue
            if not isinstance(event, dict):
                yield RecordError(Location(path, number), "expected a JSON object (one event)")
                continue
            if shape is not None:
                event = shape.to_segment(event)
            kind = str(event.get("type") or "track").lower()
            user = _user_of(event)
            group = _group_of(event)
            if kind == "group":
                if user and group:
                    user_group[user] = group
                continue
            if kind == "identify" or kind not in ACTIVITY_TYPES:
                dept = _department(event, options.department_property)
                if user and dept:
                    departments[user] = dept
                continue
            day = event_day(event)
            if day is None:
                account = accounts.get(group) if group else None
                if account is not None:
                    account.failed = True
                yield RecordError(
                    Location(path, number),
                    f"timestamp {event.get('timestamp')!r} is not an ISO 8601 date or time",
                    field="timestamp",
                    value=str(event.get("timestamp")),
                    account_id=group,
                )
                if group and group not in accounts:
                    accounts[group] = _Account(number, failed=True)
                continue
            if context.as_of is not None and day > context.as_of:
                continue
            dept = _department(event, options.department_property)
            if user and dept:
                departments[user] = dept
            latest_day = day if latest_day is None or day > latest_day else latest_day
            name = str(event.get("event") or "")
            if not group:
                pending.append((number, user, name, day))
                continue
            _count(accounts, group, number, user, name, day, options)
    for number, user, name, day in pending:
        group = user_group.get(user, "")
        if group:
            _count(accounts, group, number, user, name, day, options)
    as_of = context.as_of or latest_day or date.today()
    for group, account in accounts.items():
        if account.failed:
            continue
        values = summarise(account, departments, as_of, options)
        values["account_id"] = group
        yield RawRecord(values=values, location=Location(path, account.first_line))


def _count(
    accounts: dict[str, _Account],
    group: str,
    number: int,
    user: str,
    name: str,
    day: date,
    options: EventOptions,
) -> None:
    account = accounts.get(group)
    if account is None:
        account = accounts[group] = _Account(number)
    account.first_line = min(account.first_line, number)
    folded = name.strip().casefold()
    if folded in options.gated_feature_events:
        account.gated.append(day)
    if user and (not options.activity_events or folded in options.activity_events):
        account.activity.setdefault(user, Counter())[day] += 1


def summarise(
    account: _Account, departments: Mapping[str, str], as_of: date, options: EventOptions
) -> dict[str, Any]:
    """The contract signals for one account's events (see the module docstring)."""
    per_cycle: list[set[str]] = [set() for _ in range(options.cycles)]
    current: Counter[str] = Counter()
    for user, days in account.activity.items():
        for day, count in days.items():
            cycle = (as_of - day).days // options.cycle_days
            if 0 <= cycle < options.cycles:
                per_cycle[cycle].add(user)
                if cycle == 0:
                    current[user] += count
    history = [len(users) for users in reversed(per_cycle)]
    while history and history[0] == 0:
        history.pop(0)
    values: dict[str, Any] = {}
    if history:
        values["seats_active_history"] = history
    window_start = as_of - timedelta(days=options.cycle_days * options.cycles - 1)
    gated = sorted(day for day in account.gated if window_start <= day <= as_of)
    if gated:
        values["gated_feature_attempts"] = [day.isoformat() for day in gated]
    if current:
        mean = sum(current.values()) / len(current)
        threshold = max(options.power_user_min_events, options.power_user_factor * mean)
        values["power_users"] = sum(1 for count in current.values() if count >= threshold)
        active_departments = {departments[u] for u in current if departments.get(u)}
        if active_departments:
            values["departments_active"] = len(active_departments)
    return values
