"""Read account records through a source plugin and coerce them to typed values.

Coercion itself (types, messages, fast paths) lives in :mod:`upsell_rules.io.coercion`.

One bad cell costs one signal, not the account: a value that does not parse (or is
outside the signal's ``min:`` / ``max:``) is left out, so the signal is missing for that
account, and the account carries a :class:`DataWarning` (field, value, reason). A signal
the ruleset marks ``required: true`` keeps the stricter rule: its bad value fails the
record, reported (file, line, field, value, what was expected) and skipped; every other
record is still read. ``account_id`` is always required; duplicates are reported at the
second occurrence.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io.coercion import (
    _FAST,
    _SLOW,
    CoercionError,
    always_slow,
    coerce,
    coerce_fast,
    compile_coercer,
)
from upsell_rules.limits import Limits, using
from upsell_rules.limits import current as current_limits
from upsell_rules.plugin.guard import guard_source
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import RawRecord, Source, SourceContext
from upsell_rules.ruleset.model import SignalDef
from upsell_rules.ruleset.units import FRACTION_UNITS

__all__ = [
    "IDENTITY_FIELDS", "Account", "AccountReader", "CoercionError", "DataWarning", "JoinReport",
    "coerce", "coerce_fast", "compile_coercer", "pick_source",
]

IDENTITY_FIELDS = ("account_id", "account_name", "owner")


@dataclass(frozen=True)
class DataWarning:
    """A value that was left out of an account: its field, the raw value, and why."""

    field: str
    value: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready form (what the decision record's ``data_warnings`` holds)."""
        return {"field": self.field, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class Account:
    """One account: identity, typed signal values, and where the record came from.

    ``warnings`` name the values that were left out because they did not parse or were
    out of range (each such signal is missing for this account).
    """

    account_id: str
    account_name: str
    owner: str
    values: dict[str, Any]
    location: Location
    warnings: tuple[DataWarning, ...] = ()



def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def pick_source(registry: Registry, spec: str) -> tuple[Source, str]:
    """The source for a ``--data`` value and what to hand it.

    ``NAME:TARGET`` names the source (``events:export.jsonl``, ``sql:sqlite:///x.db``);
    anything else goes to the first source that claims it by pattern. Raises
    :class:`InputError` when no source reads it.
    """
    name, sep, rest = spec.partition(":")
    if sep and rest and name in registry.sources:
        return registry.sources[name], rest
    source = registry.source_for(spec)
    if source is None:
        known = ", ".join(sorted(registry.sources)) or "none installed"
        raise InputError(
            f"{spec}: no signal source reads this file (sources: {known}); "
            f"{format_hint(spec) or 'name one with --data SOURCE:PATH'}"
        )
    return source, spec


#: What to do with a spreadsheet workbook, which no bundled source reads.
SPREADSHEET_HINT = (
    "save it as CSV UTF-8 (in Excel: File > Save As > "
    "'CSV UTF-8 (Comma delimited)'; in Numbers: File > Export To > CSV, Text Encoding "
    "Unicode (UTF-8)) and pass the .csv file"
)
#: File types people export accounts as that no bundled source reads, and what to do.
_FORMAT_HINTS = {
    (".xlsx", ".xls", ".xlsm", ".ods", ".numbers"): f"this is a spreadsheet: {SPREADSHEET_HINT}",
}


def format_hint(spec: str) -> str:
    """What to do with an export no source reads (a spreadsheet), or ``""``."""
    lowered = spec.lower()
    for suffixes, hint in _FORMAT_HINTS.items():
        if lowered.endswith(suffixes):
            return hint
    return ""


@dataclass
class JoinReport:
    """How several ``--data`` inputs lined up, joined by ``account_id``.

    ``present`` maps each input to the accounts it has (read or failed); an account
    missing from an input is decided with what the other inputs say about it.
    """

    inputs: list[str]
    present: dict[str, set[str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def missing(self, spec: str) -> list[str]:
        """Accounts some other input has and ``spec`` has not, in reading order."""
        have = self.present.get(spec, set())
        return [aid for aid in self.order if aid not in have]

    def inputs_of(self, account_id: str) -> dict[str, list[str]]:
        """Which inputs have the account and which do not (for its decision record)."""
        found = [spec for spec in self.inputs if account_id in self.present.get(spec, ())]
        return {"present": found, "missing": [s for s in self.inputs if s not in found]}

    def lines(self, limit: int = 10) -> list[str]:
        """The human-readable report: a summary, then each input that lacks accounts."""
        everywhere = sum(
            1 for aid in self.order if all(aid in self.present[s] for s in self.inputs)
        )
        out = [
            f"joined {len(self.inputs)} inputs by account_id: {len(self.order)} accounts, "
            f"{everywhere} in every input"
        ]
        for spec in self.inputs:
            missing = self.missing(spec)
            if missing:
                shown = ", ".join(missing[:limit])
                more = f" and {len(missing) - limit} more" if len(missing) > limit else ""
                out.append(
                    f"{len(missing)} account(s) missing from {spec} (present in another "
                    f"input): {shown}{more}"
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "accounts": len(self.order),
            "inputs": [
                {"input": spec, "accounts": len(self.present.get(spec, ())),
                 "missing": self.missing(spec)}
                for spec in self.inputs
            ],
        }


def duplicate_error(location: Location, account_id: str, first: Location) -> RecordError:
    """The error for a record whose ``account_id`` an earlier record (at ``first``) has."""
    return RecordError(
        location,
        f"duplicate account_id {account_id!r} (first at line {first.line})",
        field="account_id",
        value=account_id,
        account_id=account_id,
    )


class FirstSeen(MutableMapping[str, Location]):
    """Account id -> where it was first seen, in less memory than a dict of locations.

    Reporting duplicates means remembering every id of a file, so this is the one thing
    that grows with the input while records stream. Keeping one int per id (line and
    column packed) instead of a :class:`Location` object cuts it by about a third, to
    about 150 bytes per account. Locations from another file than the first are kept as
    they are.
    """

    _COL = 1 << 32

    def __init__(self) -> None:
        self._path: str | None = None
        self._packed: dict[str, int] = {}
        self._other: dict[str, Location] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._packed or key in self._other

    def __getitem__(self, key: str) -> Location:
        packed = self._packed.get(key)
        if packed is None or self._path is None:
            return self._other[key]
        line, col = divmod(packed, self._COL)
        return Location(self._path, line, col)

    def __setitem__(self, key: str, value: Location) -> None:
        if self._path is None:
            self._path = value.path
        if value.path == self._path and value.line >= 0 and 0 <= value.col < self._COL:
            self._packed[key] = value.line * self._COL + value.col
            self._other.pop(key, None)
        else:
            self._other[key] = value
            self._packed.pop(key, None)

    def __delitem__(self, key: str) -> None:
        if key in self._packed:
            del self._packed[key]
        else:
            del self._other[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._packed
        yield from self._other

    def __len__(self) -> int:
        return len(self._packed) + len(self._other)


class AccountReader:
    """Reads ``--data`` inputs into :class:`Account` objects, reporting bad rows as it goes.

    ``as_of`` and ``source_options`` (the ruleset's ``sources:`` section, by source name)
    reach the sources that take them. Several inputs are joined by ``account_id`` with
    :meth:`read_all`; :attr:`join` then says which input lacked which accounts.

    ``limits`` (default: :func:`upsell_rules.limits.current`) cap the number of records
    and are what the source sees as current while it starts reading (size, line length).
    """

    def __init__(
        self,
        registry: Registry,
        types: Mapping[str, str],
        limits: Limits | None = None,
        *,
        as_of: date | None = None,
        source_options: Mapping[str, Mapping[str, Any]] | None = None,
        signals: Mapping[str, SignalDef] | None = None,
    ) -> None:
        #: Field types: the data contract (from plugins), overridden by the ruleset.
        #: Fixed once the reader is built.
        self.types: dict[str, str] = {name: s.type for name, s in registry.fields.items()}
        self.types.update(types)
        for name in IDENTITY_FIELDS:
            self.types[name] = "string"
        # Field -> (fast coercion, type); ``types`` is fixed once the reader is built.
        self._coercers: dict[str, tuple[Any, str]] = {
            name: (_FAST.get(kind, always_slow), kind) for name, kind in self.types.items()
        }
        self._straight = compile_coercer(self.types)
        self.registry = registry
        self.limits = limits if limits is not None else current_limits()
        #: Records the sources have produced so far (a progress counter for watchdogs).
        self.records_read = 0
        self.as_of = as_of
        self.source_options = source_options or {}
        self.join: JoinReport | None = None
        self._mappings: dict[str, Any] = {}
        #: Called with a located line for each value left out of an account (a bad cell
        #: that costs one signal); the CLI prints it as a warning.
        self.on_warning: Any = None
        signals = signals or {}
        #: Fields whose bad value fails the record (``required: true``), account_id too.
        self.required = {n for n, s in signals.items() if s.required} | {"account_id"}
        #: Field -> (min, max) from the ruleset's ``min:`` / ``max:``.
        self.ranges = {
            n: (s.minimum, s.maximum)
            for n, s in signals.items()
            if s.minimum is not None or s.maximum is not None
        }
        #: Fields that hold a share of one (0.85 is 85%): a value above 1 gets a unit hint.
        self.fractions = {n for n, s in signals.items() if s.unit in FRACTION_UNITS}

    def context(self, source: Source) -> SourceContext:
        """The options (defaults, then the ruleset's) and date a source reads with."""
        options = {k: v.default for k, v in source.options.items() if v.default is not None}
        options.update(self.source_options.get(source.name, {}))
        return SourceContext(options, self.as_of)

    def mapping_for(self, source: Source) -> Any:
        """The column mapping and formats the source's options declare (may be empty)."""
        if source.name not in self._mappings:
            from upsell_rules.io.mapping import MAPPING_OPTIONS, build_mapping

            options = self.context(source).options
            declared = {k: v for k, v in options.items() if k in MAPPING_OPTIONS}
            self._mappings[source.name] = build_mapping(declared, self.types)
        return self._mappings[source.name]

    def read(self, path: str) -> Iterator[Account | RecordError]:
        """Yield each account or the error that kept it out, in file order.

        ``path`` may name its source: ``events:export.jsonl``.
        """
        source, target = pick_source(self.registry, path)
        read_with_context = source.read_with_context
        if read_with_context is not None:
            context = self.context(source)

            def start() -> Iterable[Any]:
                return read_with_context(target, context)
        else:

            def start() -> Iterable[Any]:
                return source.read(target)
        # A source that raises or yields the wrong thing costs what it touches.
        raw = guard_source(
            (), source=source.name, plugin=self.registry.provider("source", source.name),
            spec=path, start=start,
        )
        mapping = self.mapping_for(source) or None  # tested once, not per record
        seen: MutableMapping[str, Location] = FirstSeen()
        for item in self._limited(path, raw):
            if isinstance(item, RecordError):
                yield item
                continue
            if mapping:
                item = RawRecord(mapping.apply(item.values), item.location)
            result = self._coerce(item, seen)
            if isinstance(result, Account):
                if result.warnings and self.on_warning is not None:
                    self._warn(result)
                yield result
            else:
                yield from result

    def read_all(self, paths: Sequence[str]) -> Iterator[Account | RecordError]:
        """Read one input, or join several by ``account_id``.

        The first input streams and sets the order; the others are read first and held
        in memory. A field given by several inputs takes the value of the last one
        listed. An account with an error in any input is not decided (its errors are
        reported). Accounts missing from the first input come after it.
        """
        if len(paths) == 1:
            yield from self.read(paths[0])
            return
        join = self.join = JoinReport(list(paths), {spec: set() for spec in paths})
        failed: set[str] = set()
        later: list[dict[str, Account]] = []
        for spec in paths[1:]:
            accounts: dict[str, Account] = {}
            for item in self.read(spec):
                if isinstance(item, RecordError):
                    if item.account_id:
                        failed.add(item.account_id)
                        join.present[spec].add(item.account_id)
                    yield item
                    continue
                accounts[item.account_id] = item
                join.present[spec].add(item.account_id)
            later.append(accounts)
        first = paths[0]
        ordered: dict[str, None] = {}
        for item in self.read(first):
            if isinstance(item, RecordError):
                if item.account_id:
                    join.present[first].add(item.account_id)
                    ordered.setdefault(item.account_id)
                yield item
                continue
            join.present[first].add(item.account_id)
            ordered.setdefault(item.account_id)
            if item.account_id not in failed:
                parts = [a[item.account_id] for a in later if item.account_id in a]
                yield _merge([item, *parts])
        for accounts in later:
            for account_id in accounts:
                if account_id not in ordered:
                    ordered.setdefault(account_id)
                    if account_id not in failed:
                        yield _merge([a[account_id] for a in later if account_id in a])
        for account_id in sorted(failed - set(ordered)):
            ordered.setdefault(account_id)
        join.order = list(ordered)

    def _limited(
        self, path: str, items: Iterator[RawRecord | RecordError]
    ) -> Iterator[RawRecord | RecordError]:
        """``items`` with the record limit applied and the limits current at the start.

        Sources read :func:`~upsell_rules.limits.current` before their first record, so
        setting them around that first step is enough, and costs nothing per record.
        """
        items = iter(items)
        with using(self.limits):
            first = next(items, None)
        if first is None:
            return
        cap = self.limits.records
        count = 1
        previous = first.location
        for item in itertools.chain((first,), items):
            if item.location != previous:
                count += 1
                previous = item.location
            self.records_read += 1
            if cap and count > cap:
                raise InputError(
                    f"{item.location}: more than {cap:,} records in {path} (--max-records)"
                )
            yield item

    def coerce_record(
        self, raw: RawRecord, seen: MutableMapping[str, Location] | None = None
    ) -> Iterator[Account | RecordError]:
        """Coerce one raw record: yields the account, or every error that kept it out.

        ``seen`` tracks account ids across a file so duplicates are reported.
        """
        result = self._coerce(raw, {} if seen is None else seen)
        if isinstance(result, list):
            yield from result
        else:
            if result.warnings and self.on_warning is not None:
                self._warn(result)
            yield result

    def _coerce(
        self, raw: RawRecord, seen: MutableMapping[str, Location]
    ) -> Account | list[RecordError]:
        """:meth:`coerce_record` without the generator: the account or its errors.

        One function on purpose: it runs once per record, and splitting it into steps
        would add calls to the hottest loop of reading (docs/performance.md)."""
        account_id = raw.values.get("account_id")
        if type(account_id) is not str:
            if isinstance(account_id, int | float) and not isinstance(account_id, bool):
                account_id = str(account_id)
            elif account_id is not None:
                return [
                    RecordError(
                        raw.location,
                        f"{_show(account_id)} is not text (an account_id is required text)",
                        field="account_id",
                        value=_show(account_id),
                    )
                ]
        if not isinstance(account_id, str) or not account_id.strip():
            return [RecordError(raw.location, "missing required value", field="account_id")]
        account_id = account_id.strip()
        if account_id in seen:
            return [duplicate_error(raw.location, account_id, seen[account_id])]
        seen[account_id] = raw.location
        fast = self._straight(raw.values)
        if fast is not None and not self.ranges:
            return _account(account_id, fast, raw.location)
        values: dict[str, Any] = {}
        errors: list[RecordError] = []
        warnings: list[DataWarning] = []
        if fast is not None:
            values = fast
            raw_items: Any = ()
        else:
            raw_items = raw.values.items()
        coercers = self._coercers
        slow = _SLOW
        for name, value in raw_items:
            found = coercers.get(name)
            if found is None:
                continue
            coerced = found[0](value)
            if coerced is slow:
                try:
                    coerced = coerce(value, found[1])
                except CoercionError as exc:
                    if name in self.required:
                        errors.append(
                            RecordError(
                                raw.location,
                                f"{_show(value)!r} {exc}" if isinstance(value, str)
                                else f"{_show(value)} {exc}",
                                field=name,
                                value=_show(value),
                                account_id=account_id,
                            )
                        )
                    else:
                        warnings.append(DataWarning(name, _show(value), str(exc)))
                    continue
            if coerced is not None:
                values[name] = coerced
        if self.ranges:
            self._check_ranges(values, raw, account_id, errors, warnings)
        if errors:
            return errors
        account = _account(account_id, values, raw.location)
        if warnings:
            return Account(account.account_id, account.account_name, account.owner,
                           values, raw.location, tuple(warnings))
        return account

    def _warn(self, account: Account) -> None:
        for w in account.warnings:
            self.on_warning(warning_line(str(account.location), account.account_id, w.to_dict()))

    def _check_ranges(
        self,
        values: dict[str, Any],
        raw: RawRecord,
        account_id: str,
        errors: list[RecordError],
        warnings: list[DataWarning],
    ) -> None:
        """Take out values outside their signal's ``min:`` / ``max:`` (or fail if required)."""
        for name, (low, high) in self.ranges.items():
            value = values.get(name)
            if value is None:
                continue
            for item in value if isinstance(value, list) else (value,):
                if not isinstance(item, int | float) or isinstance(item, bool):
                    continue
                if low is not None and item < low:
                    reason = f"is below the minimum {low:g}"
                elif high is not None and item > high:
                    reason = f"is above the maximum {high:g}"
                    if name in self.fractions and item > 1:
                        reason += (f" (a fraction: {item / 100:g} is {item:g}%; if the export "
                                   f"writes percentage points, declare formats: "
                                   f"{{{name}: percent}})")
                else:
                    continue
                if isinstance(value, list):
                    reason = f"has an item {item!r} that {reason}"
                shown = _show(raw.values.get(name, value))
                del values[name]
                if name in self.required:
                    errors.append(RecordError(raw.location, f"{shown!r} {reason}", field=name,
                                              value=shown, account_id=account_id))
                else:
                    warnings.append(DataWarning(name, shown, reason))
                break


def warning_line(location: str, account_id: str, warning: Mapping[str, str]) -> str:
    """The located line for a value left out of an account (see :class:`DataWarning`)."""
    field, value = warning["field"], warning["value"]
    shown = repr(value) if value and value[0] not in "[{" else value
    reason = warning["reason"]
    hint = ""
    if reason.startswith(("is not a date", "is not a number", "has an item")):
        hint = ("; another format is read where declared (date_order, number_format, "
                "formats in the ruleset's sources: section, docs/data.md)")
    return (
        f"{location}: {field}: {shown} {reason}; {field} is missing for {account_id} "
        f"(mark the signal required: true to fail the record instead){hint}"
    )


def _account(account_id: str, values: dict[str, Any], location: Location) -> Account:
    """The account for typed ``values`` (name and owner are blank when absent)."""
    return Account(
        account_id=account_id,
        account_name=str(values.get("account_name", "")),
        owner=str(values.get("owner", "")),
        values=values,
        location=location,
    )


def _merge(parts: list[Account]) -> Account:
    """One account from its records in several inputs; later inputs win per field."""
    if len(parts) == 1:
        return parts[0]
    values: dict[str, Any] = {}
    for part in parts:
        values.update(part.values)
    first = parts[0]
    return _account(first.account_id, values, first.location)
