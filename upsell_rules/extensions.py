"""The types plugins register: input fields, signal sources, derivations, upsell types.

Plugins build these objects and hand them to the ``register`` callback of the matching
hook in :mod:`upsell_rules.hookspecs`. They are plain frozen dataclasses so that a
plugin author needs nothing but this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from upsell_rules.errors import Location, RecordError

#: The value types a signal can have. Lists hold values of the named element type.
SignalType = Literal[
    "number",
    "integer",
    "boolean",
    "string",
    "date",
    "number_list",
    "integer_list",
    "string_list",
    "date_list",
]

SIGNAL_TYPES: tuple[str, ...] = (
    "number",
    "integer",
    "boolean",
    "string",
    "date",
    "number_list",
    "integer_list",
    "string_list",
    "date_list",
)


@dataclass(frozen=True)
class FieldSpec:
    """An input field a source can provide, with its type (used to coerce raw text)."""

    name: str
    type: SignalType
    description: str = ""


@dataclass(frozen=True)
class RawRecord:
    """One account as a source read it: field name to raw value, and where it came from.

    Values are strings (CSV) or JSON values (JSON/JSONL); the core coerces them to the
    declared types, so a source never needs to know the ruleset.
    """

    values: Mapping[str, Any]
    location: Location


@dataclass(frozen=True)
class Source:
    """A signal source: turns a file (or URL) into raw account records.

    ``matches(path)`` says whether this source reads that path (usually by extension);
    ``read(path)`` yields a :class:`RawRecord` per account or a
    :class:`~upsell_rules.errors.RecordError` for a row it could not parse, and must go
    on with the next row after an error.
    """

    name: str
    description: str
    matches: Callable[[str], bool]
    read: Callable[[str], Iterator[RawRecord | RecordError]]
    fields: tuple[FieldSpec, ...] = ()


ParamKind = Literal["number", "integer", "string", "signal", "signals"]


@dataclass(frozen=True)
class ParamSpec:
    """A parameter a derivation takes from the ruleset's ``params:`` mapping.

    ``signal`` parameters name another signal the derivation reads (``signals`` a list of
    them); the core checks the names exist and orders derivations so inputs come first.
    """

    kind: ParamKind
    default: Any = None
    required: bool = False
    description: str = ""


#: A compiled derivation: reads the account's signals (already coerced and derived so
#: far) and the as-of date, and returns the value or ``None`` when it cannot be known.
DeriveFn = Callable[[Mapping[str, Any], date], Any]


@dataclass(frozen=True)
class Derivation:
    """A derived signal: a named function from other signals (and parameters) to a value.

    ``build(params)`` is called once per ruleset load with the parameters (defaults
    filled in) and returns the per-account function. Returning ``None`` from that
    function means "unknown": conditions on it are false and it is listed as missing.
    """

    name: str
    description: str
    output_type: SignalType
    build: Callable[[Mapping[str, Any]], DeriveFn]
    params: Mapping[str, ParamSpec] = field(default_factory=dict)

    def reads(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The signal names this derivation reads, given its resolved parameters."""
        names: list[str] = []
        for pname, spec in self.params.items():
            value = params.get(pname, spec.default)
            if spec.kind == "signal" and isinstance(value, str):
                names.append(value)
            elif spec.kind == "signals" and isinstance(value, list | tuple):
                names.extend(str(v) for v in value)
        return tuple(names)


@dataclass(frozen=True)
class UpsellType:
    """A kind of upsell (seat, plan, add-on...) that triggers can name.

    ``describe(signals)`` returns a one-line, number-grounded summary of the account's
    situation for this upsell type (used when a trigger has no evidence template of its
    own), or ``None`` when the signals it needs are missing.
    """

    name: str
    title: str
    frame: str
    description: str = ""
    default_window: str = ""
    describe: Callable[[Mapping[str, Any]], str | None] | None = None
