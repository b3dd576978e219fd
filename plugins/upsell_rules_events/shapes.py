"""Vendor event exports read as Segment-style events, through a preset's field paths.

A preset (``upsell_rules/io/presets/posthog_events.yaml``, ``amplitude_events.yaml``) or
the ruleset's ``event_fields`` says where each part of an event sits in the vendor's
JSON object, as a dotted path (``properties.$groups.company``), or a list of paths of
which the first present one counts (``[user_id, device_id]``). ``{group_type}`` and
``{department_property}`` in a path are the source options of those names. Events whose
name is listed in ``identify_events`` update a user's department but are not activity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from upsell_rules.errors import InputError

#: The parts of an event a shape locates, and the Segment key each becomes.
ROLES = {"event": "event", "user": "userId", "group": "groupId", "timestamp": "timestamp",
         "department": "department"}


@dataclass(frozen=True)
class EventShape:
    """Where a vendor's export keeps each part of an event."""

    paths: dict[str, tuple[tuple[str, ...], ...]]
    identify_events: frozenset[str]
    department_property: str = "department"

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> EventShape | None:
        """The shape the options declare (preset, then ``event_fields``), or None."""
        from upsell_rules.io.mapping import load_preset

        layers: list[Mapping[str, Any]] = []
        preset = str(options.get("preset") or "")
        if preset:
            shipped = load_preset(preset)
            if shipped.get("source") != "events":
                raise InputError(f"sources.events: preset '{preset}' is not an events preset")
            layers.append(shipped)
        if options.get("event_fields"):
            layers.append(options)
        if not layers:
            return None
        fields: dict[str, Any] = {}
        identify: set[str] = set()
        for layer in layers:
            fields.update(layer.get("event_fields") or {})
            identify.update(str(n).casefold() for n in layer.get("identify_events") or [])
        unknown = sorted(set(fields) - set(ROLES))
        if unknown:
            raise InputError(f"sources.events: event_fields: unknown part(s) {', '.join(unknown)} "
                             f"(parts: {', '.join(ROLES)})")
        subst = {"group_type": str(options.get("group_type") or "company"),
                 "department_property": str(options.get("department_property") or "department")}
        paths: dict[str, tuple[tuple[str, ...], ...]] = {}
        for role, spec in fields.items():
            alternatives = spec if isinstance(spec, list) else [spec]
            paths[role] = tuple(tuple(str(p).format(**subst).split(".")) for p in alternatives)
        return cls(paths, frozenset(identify), subst["department_property"])

    def to_segment(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The vendor event as the Segment-style event the aggregation reads."""
        out: dict[str, Any] = {}
        for role, alternatives in self.paths.items():
            for path in alternatives:
                value = _lookup(event, path)
                if isinstance(value, list):  # Amplitude: "groups": {"company": ["ACC-1"]}
                    value = value[0] if value else None
                if value is not None and value != "":
                    out[ROLES[role]] = value
                    break
        name = str(out.get("event") or "")
        out["type"] = "identify" if name.casefold() in self.identify_events else "track"
        department = out.pop("department", None)
        if isinstance(department, str):
            out["traits"] = {self.department_property: department}
        return out


def _lookup(event: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = event
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
