"""The typed, engine-neutral form of a loaded ruleset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from upsell_rules.errors import Location
from upsell_rules.expr.nodes import Node
from upsell_rules.ruleset.memory import MemoryPolicy
from upsell_rules.ruleset.templates import Template


@dataclass(frozen=True)
class Condition:
    """A checked condition: its source text, AST and where it was written."""

    source: str
    node: Node
    location: Location


@dataclass(frozen=True)
class SignalDef:
    """A declared signal: an input field, a derived signal, or a named condition."""

    name: str
    type: str
    unit: str = ""
    description: str = ""
    derive: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    when: Condition | None = None
    location: Location | None = None
    #: A bad value fails the record (``required: true``) instead of going missing.
    required: bool = False
    #: Accepted range (``min:`` / ``max:``); a value outside is handled like a bad one.
    minimum: float | None = None
    maximum: float | None = None

    @property
    def is_input(self) -> bool:
        """True when the value is read from the account record."""
        return self.derive is None and self.when is None


@dataclass(frozen=True)
class Tier:
    """One row of a category table."""

    id: str
    score: float
    when: Condition


@dataclass(frozen=True)
class Category:
    """A scoring category: weight and tiers (its score is the best matching tier)."""

    name: str
    weight: float
    tiers: tuple[Tier, ...]
    otherwise: float = 0.0


@dataclass(frozen=True)
class Band:
    """A score band: ``min`` inclusive, ``max`` exclusive (the top band includes it)."""

    id: str
    title: str
    min: float
    max: float
    play: str
    outreach: bool = False


@dataclass(frozen=True)
class Gate:
    """A readiness requirement; ``hard`` blocks, ``soft`` adds a preparatory play."""

    id: str
    severity: str
    require: Condition
    play: str


@dataclass(frozen=True)
class RedFlag:
    """A disqualifier: ``block`` (with a play), ``cap`` (score ceiling) or ``prepare``."""

    id: str
    when: Condition
    effect: str
    play: str | None = None
    cap: float | None = None


@dataclass(frozen=True)
class Trigger:
    """A reason to expand, bound to an upsell type and a play."""

    id: str
    upsell_type: str
    when: Condition
    play: str
    evidence: Template | None = None


@dataclass(frozen=True)
class OwnerRule:
    """One owner rule: when it matches (or always, without a condition), this role."""

    role: str
    when: Condition | None = None


@dataclass(frozen=True)
class Play:
    """What to do: title, window, who owns it, and the opening message."""

    id: str
    title: str
    window: Template
    owner: str
    message: Template | None = None
    frame: str = ""


@dataclass(frozen=True)
class SinkConfig:
    """One entry of the ruleset's ``sinks:`` section: a named, configured action sink.

    ``options`` are the entry's settings for the sink (``url``, ``path``...); ``bands``
    and ``blocked`` filter which decisions it receives (``None``: no filter).
    """

    id: str
    type: str
    options: dict[str, Any]
    location: Location
    bands: tuple[str, ...] | None = None
    blocked: bool | None = None


@dataclass(frozen=True)
class Ruleset:
    """A validated ruleset, ready to be prepared by an engine."""

    name: str
    version: str
    description: str
    path: str
    sha256: str
    constants: dict[str, Any]
    signals: dict[str, SignalDef]
    categories: tuple[Category, ...]
    scale: float
    bands: tuple[Band, ...]
    gates: tuple[Gate, ...]
    red_flags: tuple[RedFlag, ...]
    triggers: tuple[Trigger, ...]
    owners: dict[str, tuple[OwnerRule, ...]]
    plays: dict[str, Play]
    plugins: tuple[str, ...] = ()
    #: What-if overrides (``--set path=value``) applied on top of the file, as typed.
    overrides: tuple[str, ...] = ()
    #: Options for signal sources, by source name (the ``sources:`` section).
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Named action sinks ``run`` delivers to (the ``sinks:`` section).
    sinks: dict[str, SinkConfig] = field(default_factory=dict)
    #: Cooldowns, caps, feedback effects and owner capacity (the ``memory:`` section).
    memory: MemoryPolicy = field(default_factory=MemoryPolicy)

    def input_types(self) -> dict[str, str]:
        """The type of every input signal (what a reader must coerce), by name."""
        return {name: sig.type for name, sig in self.signals.items() if sig.is_input}

    def identity(self) -> dict[str, Any]:
        """The ``ruleset`` block every decision carries.

        ``overrides`` appears only when what-if overrides were applied; ``sha256`` then
        fingerprints the file together with them.
        """
        block: dict[str, Any] = {"name": self.name, "version": self.version, "sha256": self.sha256}
        if self.overrides:
            block["overrides"] = list(self.overrides)
        return block
