"""Read account records through a source plugin and coerce them to typed values.

Coercion itself (types, messages, fast paths) lives in :mod:`upsell_rules.io.coercion`;
the typed :class:`Account` and its warnings in :mod:`upsell_rules.io.account`; choosing
the source in :mod:`upsell_rules.io.source_choice`; joining several inputs in
:mod:`upsell_rules.io.join`; duplicate ids in :mod:`upsell_rules.io.duplicates`. Every
name is still importable from here.

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
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from datetime import date
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io.account import (
    IDENTITY_FIELDS,
    Account,
    DataWarning,
    make_account,
    shown_value,
    warning_line,
)
from upsell_rules.io.coercion import (
    _FAST,
    _SLOW,
    CoercionError,
    always_slow,
    coerce,
    coerce_fast,
    compile_coercer,
)
from upsell_rules.io.contract import id_control_problem
from upsell_rules.io.duplicates import FirstSeen, duplicate_error
from upsell_rules.io.join import JoinReport, merge_accounts
from upsell_rules.io.source_choice import SPREADSHEET_HINT, format_hint, pick_source
from upsell_rules.limits import Limits, using
from upsell_rules.limits import current as current_limits
from upsell_rules.plugin.guard import guard_source
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import RawRecord, Source, SourceContext
from upsell_rules.ruleset.model import SignalDef
from upsell_rules.ruleset.units import FRACTION_UNITS

# The names other modules import from here; each lives in the module named after its concern.
__all__ = [
    "IDENTITY_FIELDS", "SPREADSHEET_HINT", "Account", "AccountReader", "CoercionError",
    "DataWarning", "FirstSeen", "JoinReport", "coerce", "coerce_fast", "compile_coercer",
    "duplicate_error", "format_hint", "pick_source", "warning_line",
]


class AccountReader:
    """Reads ``--data`` inputs into :class:`Account` objects, reporting bad rows as it goes.

    ``as_of`` and ``source_options`` (the ruleset's ``sources:`` section, by source name)
    reach the sources that take them. Several inputs are joined by ``account_id`` with
    :meth:`read_all`; :attr:`join` then says which input lacked which accounts.

    ``limits`` (default: :func:`upsell_rules.limits.current`) cap the number of records
    and are what the source sees as current while it starts reading (size, line length).

    ``encoding`` (``--encoding``) is the text encoding of the input files: it wins over
    the ruleset's ``encoding:`` for every source that declares that option.
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
        encoding: str | None = None,
    ) -> None:
        self.encoding = encoding
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
        if self.encoding and "encoding" in source.options:
            options["encoding"] = self.encoding
        return SourceContext(options, self.as_of)

    def reads_utf8(self, source: Source) -> bool:
        """Whether ``source`` reads its file as UTF-8 (no other encoding declared, by the
        ruleset or ``--encoding``): the fast paths (DuckDB reading the file, workers
        reading byte ranges) read UTF-8 only, so they step aside otherwise."""
        from upsell_rules.io.encoding import EncodingNameError, codec_name, is_default

        declared = self.context(source).options.get("encoding")
        try:
            return declared is None or is_default(codec_name(declared))
        except EncodingNameError:
            return False

    def declared_missing(self) -> int:
        """Cells read as missing because the mapping declares their text a missing-value
        token (``missing_values:``), over every input read so far."""
        return sum(mapping.missing_read for mapping in self._mappings.values())

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
                yield merge_accounts([item, *parts])
        for accounts in later:
            for account_id in accounts:
                if account_id not in ordered:
                    ordered.setdefault(account_id)
                    if account_id not in failed:
                        yield merge_accounts([a[account_id] for a in later if account_id in a])
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
                        f"{shown_value(account_id)} is not text (an account_id is required text)",
                        field="account_id",
                        value=shown_value(account_id),
                    )
                ]
        if not isinstance(account_id, str) or not account_id.strip():
            return [RecordError(raw.location, "missing required value", field="account_id")]
        account_id = account_id.strip()
        if not account_id.isprintable() and (bad := id_control_problem(account_id)):
            return [RecordError(raw.location, bad, field="account_id",
                                value=shown_value(account_id))]
        if account_id in seen:
            return [duplicate_error(raw.location, account_id, seen[account_id])]
        seen[account_id] = raw.location
        fast = self._straight(raw.values)
        if fast is not None and not self.ranges:
            return make_account(account_id, fast, raw.location)
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
                                f"{shown_value(value)!r} {exc}" if isinstance(value, str)
                                else f"{shown_value(value)} {exc}",
                                field=name,
                                value=shown_value(value),
                                account_id=account_id,
                            )
                        )
                    else:
                        warnings.append(DataWarning(name, shown_value(value), str(exc)))
                    continue
            if coerced is not None:
                values[name] = coerced
        if self.ranges:
            self._check_ranges(values, raw, account_id, errors, warnings)
        if errors:
            return errors
        account = make_account(account_id, values, raw.location)
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
            if value is None or _within(value, low, high):
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
                shown = shown_value(raw.values.get(name, value))
                del values[name]
                if name in self.required:
                    errors.append(RecordError(raw.location, f"{shown!r} {reason}", field=name,
                                              value=shown, account_id=account_id))
                else:
                    warnings.append(DataWarning(name, shown, reason))
                break



def _within(value: Any, low: float | None, high: float | None) -> bool:
    """True when ``value`` (a number, or a list) is certainly inside the range: the common
    case, checked at C speed. ``False`` sends it through the item-by-item check, which
    also skips items that are not numbers (and gives the message)."""
    if type(value) is list:
        try:
            return (low is None or min(value) >= low) and (high is None or max(value) <= high)
        except (TypeError, ValueError):  # text or dates among the items; an empty list
            return False
    if type(value) is int or type(value) is float:
        return (low is None or value >= low) and (high is None or value <= high)
    return True  # a date, a text, a boolean: ranges are for numbers
