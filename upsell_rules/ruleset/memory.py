"""The ruleset's ``memory:`` section: cooldowns, caps, feedback effects and owner capacity.

These settings only matter to a run with a state store (``run --state``): they say what
is held back from delivery. The JSON Schema checks their shape; :func:`build_memory`
checks what the schema cannot (a cooldown names a play or a band that exists) and
returns the typed policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from upsell_rules.errors import did_you_mean
from upsell_rules.ruleset.yamlload import Path


@dataclass(frozen=True)
class Cooldown:
    """After an outreach of ``play`` (or in ``band``) is delivered, wait ``days``."""

    play: str | None
    band: str | None
    days: int
    reenrol: bool = True
    per_quarter: int | None = None

    def applies(self, play: str, band: str) -> bool:
        """True when this cooldown covers an outreach with this play in this band."""
        return (self.play is not None and self.play == play) or (
            self.band is not None and self.band == band
        )


@dataclass(frozen=True)
class FeedbackEffect:
    """What one CRM outcome does: snooze, close the open outreach, start a cooldown."""

    outcome: str
    snooze_days: int | None = None
    close: bool = False
    cooldown_days: int | None = None


@dataclass(frozen=True)
class MemoryPolicy:
    """The typed ``memory:`` section (empty when the ruleset has none)."""

    cooldowns: tuple[Cooldown, ...] = ()
    feedback: dict[str, FeedbackEffect] = field(default_factory=dict)
    per_owner_per_week: int | None = None


def outcome_key(text: str) -> str:
    """An outcome as the ruleset names it: ``"Closed Lost"`` -> ``closed_lost``."""
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def build_memory(
    data: Mapping[str, Any],
    add: Callable[[Path, str, str], None],
) -> MemoryPolicy:
    """The policy from the ruleset's top-level mapping ``data``.

    ``add(path, code, message)`` reports a problem at a place in the file. Shapes were
    checked by the schema; anything of the wrong type here is skipped silently, because
    the schema has already said so.
    """
    memory = data.get("memory")
    if not isinstance(memory, dict):
        return MemoryPolicy()
    cooldowns = _cooldowns(memory, data, add)
    effects = _feedback_effects(memory, add)
    capacity = memory.get("capacity")
    cap = capacity.get("per_owner_per_week") if isinstance(capacity, dict) else None
    return MemoryPolicy(
        tuple(cooldowns), effects, cap if isinstance(cap, int) else None
    )


def _cooldowns(
    memory: Mapping[str, Any], data: Mapping[str, Any], add: Callable[[Path, str, str], None]
) -> list[Cooldown]:
    """``memory.cooldowns``, each naming a play or a band the ruleset has (else E170)."""
    raw_plays = data.get("plays")
    plays: dict[str, Any] = raw_plays if isinstance(raw_plays, dict) else {}
    bands = [b.get("id") for b in data.get("bands") or [] if isinstance(b, dict)]
    cooldowns: list[Cooldown] = []
    for index, spec in enumerate(memory.get("cooldowns") or []):
        if not isinstance(spec, dict) or not isinstance(spec.get("days"), int):
            continue
        path: Path = ("memory", "cooldowns", index)
        play, band = spec.get("play"), spec.get("band")
        if (play is None) == (band is None):
            add(path, "E170", f"memory.cooldowns[{index}]: name either a play or a band")
            continue
        if play is not None and play not in plays:
            hint = did_you_mean(str(play), [str(p) for p in plays])
            add((*path, "play"), "E170", f"memory.cooldowns[{index}].play: unknown play "
                f"'{play}'{hint}")
            continue
        if band is not None and band not in bands:
            hint = did_you_mean(str(band), [str(b) for b in bands])
            add((*path, "band"), "E170", f"memory.cooldowns[{index}].band: unknown band "
                f"'{band}'{hint}")
            continue
        quarter = spec.get("per_quarter")
        cooldowns.append(Cooldown(
            play=str(play) if play is not None else None,
            band=str(band) if band is not None else None,
            days=int(spec["days"]),
            reenrol=spec.get("reenrol", True) is not False,
            per_quarter=int(quarter) if isinstance(quarter, int) else None,
        ))
    return cooldowns


def _feedback_effects(
    memory: Mapping[str, Any], add: Callable[[Path, str, str], None]
) -> dict[str, FeedbackEffect]:
    """``memory.feedback``: what each recorded outcome does (an empty one is E170)."""
    effects: dict[str, FeedbackEffect] = {}
    feedback = memory.get("feedback")
    for name, spec in (feedback if isinstance(feedback, dict) else {}).items():
        if not isinstance(spec, dict):
            continue
        if not spec:
            add(("memory", "feedback", name), "E170", f"memory.feedback.{name}: an outcome "
                "needs an effect (snooze_days, close or cooldown_days)")
            continue
        effects[outcome_key(str(name))] = FeedbackEffect(
            outcome=outcome_key(str(name)),
            snooze_days=spec.get("snooze_days"),
            close=spec.get("close") is True,
            cooldown_days=spec.get("cooldown_days"),
        )
    return effects


__all__ = ["Cooldown", "FeedbackEffect", "MemoryPolicy", "build_memory", "outcome_key"]
