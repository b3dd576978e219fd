"""Read account records through a source plugin and coerce them to typed values.

A record with a malformed value is reported (file, line, field, value, what was
expected) and skipped; every other record is still read. Duplicate ``account_id``s are
reported at the second occurrence.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.limits import Limits, using
from upsell_rules.limits import current as current_limits
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import RawRecord, Source, SourceContext

IDENTITY_FIELDS = ("account_id", "account_name", "owner")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_FLOAT_MAX = int(sys.float_info.max)
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


@dataclass(frozen=True)
class Account:
    """One account: identity, typed signal values, and where the record came from."""

    account_id: str
    account_name: str
    owner: str
    values: dict[str, Any]
    location: Location


class CoercionError(ValueError):
    """A value that does not fit its field's type; the message says what was expected."""


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise CoercionError("is not a number")
    if isinstance(value, int | float):
        result: float | int = value
    elif isinstance(value, str):
        text = value.strip()
        if not _NUMBER.match(text):
            if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
                raise CoercionError("is not a finite number")
            raise CoercionError("is not a number")
        try:
            result = int(text)
        except ValueError:
            try:
                result = float(text)
            except ValueError:
                raise CoercionError("is not a number") from None
    else:
        raise CoercionError("is not a number")
    if isinstance(result, float) and not math.isfinite(result):
        raise CoercionError("is not a finite number")
    if isinstance(result, int) and not -_FLOAT_MAX < result < _FLOAT_MAX:
        # Rules mix integers with fractions; one beyond float range would raise
        # OverflowError in the middle of an evaluation instead of failing here.
        raise CoercionError("is too large")
    return result


def _integer(value: Any) -> int:
    number = _number(value)
    if isinstance(number, float):
        if not number.is_integer():
            raise CoercionError("is not a whole number")
        return int(number)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise CoercionError("is not true or false")


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise CoercionError("is not text")


def _date(value: Any) -> date:
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CoercionError("is not a date (expected YYYY-MM-DD)")


_SCALAR = {
    "number": _number,
    "integer": _integer,
    "boolean": _boolean,
    "string": _string,
    "date": _date,
}


# --- fast paths ---------------------------------------------------------------------
# Most values already have their JSON type (or are plain digits in a CSV cell). These
# functions take exactly those cases and return _SLOW for anything else, which then goes
# through coerce() above, so every message and every edge case stays coerce()'s own.

_SLOW: Any = object()


def _fast_number(value: Any) -> Any:
    kind = type(value)
    if kind is int:
        return value if -_FLOAT_MAX < value < _FLOAT_MAX else _SLOW
    if kind is float:
        return value if value - value == 0.0 else _SLOW  # inf and nan give nan
    if kind is str and value.isdigit() and value.isascii():
        return int(value) if len(value) < 300 else _SLOW
    return _SLOW


def _fast_integer(value: Any) -> Any:
    if type(value) is float:
        return int(value) if value - value == 0.0 and value.is_integer() else _SLOW
    return _fast_number(value)


def _fast_date(value: Any) -> Any:
    # YYYY-MM-DD: ten characters with dashes at 4 and 7. fromisoformat reads ASCII digits
    # only and its other ten-character form (2026-W45-1) has no dash at 7; anything it
    # refuses goes the slow way, which has the full check and the message.
    if type(value) is str and len(value) == 10 and value[4] == "-" == value[7]:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return _SLOW
    return _SLOW


def _fast_boolean(value: Any) -> Any:
    return value if type(value) is bool else _SLOW


def _fast_text_item(value: Any) -> Any:
    return value if type(value) is str else _SLOW


def _fast_text(value: Any) -> Any:
    # Blank text is missing; text with no space at its start cannot be blank.
    return value if type(value) is str and value and not value[0].isspace() else _SLOW


def _fast_list(element: Any) -> Any:
    def fast_list(value: Any) -> Any:
        if type(value) is not list:
            return _SLOW
        out = []
        for item in value:
            if item is None or item == "":
                continue
            coerced = element(item)
            if coerced is _SLOW:
                return _SLOW
            out.append(coerced)
        return out or None

    return fast_list


def _fast_number_list(integers: bool) -> Any:
    """A list of plain ints (or, unless ``integers``, finite floats), checked at C speed.

    Everything else (None or "" items, text, bools, huge values) takes ``slow``.
    """
    slow = _fast_list(_fast_integer if integers else _fast_number)
    just_ints = {int}
    numbers = {int, float}

    def fast_numbers(value: Any) -> Any:
        if type(value) is str:
            # A CSV cell such as "14|16|19": plain ASCII digits between the bars.
            items = value.split("|")
            if (
                value.isascii()
                and "".join(items).isdigit()
                and all(items)
                and max(map(len, items)) < 300
            ):
                return list(map(int, items))
            return slow(value)
        if type(value) is not list or not value:
            return slow(value)
        kinds = set(map(type, value))
        if kinds == just_ints:
            if min(value) > -_FLOAT_MAX and max(value) < _FLOAT_MAX:
                return value[:]
        elif not integers and kinds <= numbers:
            try:
                if all(map(math.isfinite, value)):
                    return value[:]
            except OverflowError:
                pass
        return slow(value)

    return fast_numbers


_FAST = {
    "number": _fast_number,
    "integer": _fast_integer,
    "boolean": _fast_boolean,
    "string": _fast_text,
    "date": _fast_date,
    "number_list": _fast_number_list(integers=False),
    "integer_list": _fast_number_list(integers=True),
    "boolean_list": _fast_list(_fast_boolean),
    "string_list": _fast_list(_fast_text_item),
    "date_list": _fast_list(_fast_date),
}


def coerce_fast(value: Any, kind: str) -> Any:
    """:func:`coerce`, faster for values that already have their type."""
    fast = _FAST.get(kind)
    if fast is not None:
        coerced = fast(value)
        if coerced is not _SLOW:
            return coerced
    return coerce(value, kind)


def coerce(value: Any, kind: str) -> Any:
    """Convert a raw value to ``kind``; ``None`` for missing (empty text, empty list)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind.endswith("_list"):
        element = _SCALAR[kind[: -len("_list")]]
        if isinstance(value, str):
            items: list[Any] = [part for part in (p.strip() for p in value.split("|")) if part]
        elif isinstance(value, list):
            items = [v for v in value if v is not None and v != ""]
        else:
            raise CoercionError("is not a list")
        if not items:
            return None
        out = []
        for item in items:
            try:
                out.append(element(item))
            except CoercionError as exc:
                raise CoercionError(f"has an item {item!r} that {exc}") from None
        return out
    return _SCALAR[kind](value)


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


#: File types people export accounts as that no bundled source reads, and what to do.
_FORMAT_HINTS = {
    (".xlsx", ".xls", ".xlsm", ".ods", ".numbers"): (
        "this is a spreadsheet: save it as CSV (in Excel: File > Save As > "
        "'CSV UTF-8 (Comma delimited)') and pass the .csv file"
    ),
    (".tsv", ".tab"): (
        "this is tab-separated: save it as CSV UTF-8 (comma-delimited) and pass the "
        ".csv file"
    ),
}


def format_hint(spec: str) -> str:
    """What to do with an export no source reads (a spreadsheet, a TSV), or ``""``."""
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
    ) -> None:
        #: Field types: the data contract (from plugins), overridden by the ruleset.
        #: Fixed once the reader is built.
        self.types: dict[str, str] = {name: s.type for name, s in registry.fields.items()}
        self.types.update(types)
        for name in IDENTITY_FIELDS:
            self.types[name] = "string"
        # Field -> (fast coercion, type); ``types`` is fixed once the reader is built.
        self._coercers: dict[str, tuple[Any, str]] = {
            name: (_FAST.get(kind, _always_slow), kind) for name, kind in self.types.items()
        }
        self._straight = compile_coercer(self.types)
        self.registry = registry
        self.limits = limits if limits is not None else current_limits()
        #: Records the sources have produced so far (a progress counter for watchdogs).
        self.records_read = 0
        self.as_of = as_of
        self.source_options = source_options or {}
        self.join: JoinReport | None = None

    def context(self, source: Source) -> SourceContext:
        """The options (defaults, then the ruleset's) and date a source reads with."""
        options = {k: v.default for k, v in source.options.items() if v.default is not None}
        options.update(self.source_options.get(source.name, {}))
        return SourceContext(options, self.as_of)

    def read(self, path: str) -> Iterator[Account | RecordError]:
        """Yield each account or the error that kept it out, in file order.

        ``path`` may name its source: ``events:export.jsonl``.
        """
        source, target = pick_source(self.registry, path)
        if source.read_with_context is not None:
            raw = source.read_with_context(target, self.context(source))
        else:
            raw = source.read(target)
        seen: MutableMapping[str, Location] = FirstSeen()
        for item in self._limited(path, raw):
            if isinstance(item, RecordError):
                yield item
                continue
            result = self._coerce(item, seen)
            if isinstance(result, Account):
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
            yield result

    def _coerce(
        self, raw: RawRecord, seen: MutableMapping[str, Location]
    ) -> Account | list[RecordError]:
        """:meth:`coerce_record` without the generator: the account or its errors."""
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
        if fast is not None:
            return _account(account_id, fast, raw.location)
        values: dict[str, Any] = {}
        errors: list[RecordError] = []
        coercers = self._coercers
        slow = _SLOW
        for name, value in raw.values.items():
            found = coercers.get(name)
            if found is None:
                continue
            coerced = found[0](value)
            if coerced is slow:
                try:
                    coerced = coerce(value, found[1])
                except CoercionError as exc:
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
                    continue
            if coerced is not None:
                values[name] = coerced
        if errors:
            return errors
        return _account(account_id, values, raw.location)


def _account(account_id: str, values: dict[str, Any], location: Location) -> Account:
    """The account for typed ``values`` (name and owner are blank when absent)."""
    return Account(
        account_id=account_id,
        account_name=str(values.get("account_name", "")),
        owner=str(values.get("owner", "")),
        values=values,
        location=location,
    )


def _always_slow(value: Any) -> Any:
    return _SLOW


#: Inline checks of the generated coercer, by field type: each takes ``v`` as it is or
#: sends the whole record to the general loop (``return None``).
_INLINE = {
    "integer": "type(v) is int and -M < v < M",
    "number": "(type(v) is int and -M < v < M) or (type(v) is float and v - v == 0.0)",
    "string": "type(v) is str and v and not v[0].isspace()",
    "boolean": "type(v) is bool",
}


def compile_coercer(types: Mapping[str, str]) -> Any:
    """One straight-line function that coerces a record whose values all take a fast path.

    ``coerce(raw_values)`` returns the typed values, or ``None`` as soon as one value
    needs more than the fast path (text to convert, a missing-looking value, an error):
    the caller then runs the general loop, which gives the same values for the rest and
    every message. Field names go into the source through ``repr`` only.
    """
    lines = ["def coerce(raw):", "    get = raw.get", "    out = {}"]
    namespace: dict[str, Any] = {
        "__builtins__": {"type": type, "len": len, "int": int, "float": float, "str": str,
                         "bool": bool, "ValueError": ValueError},
        "M": _FLOAT_MAX,
        "SLOW": _SLOW,
        "fromiso": date.fromisoformat,
    }
    for index, (name, kind) in enumerate(types.items()):
        key = repr(name)
        lines.append(f"    v = get({key})")
        lines.append("    if v is not None:")
        if kind in _INLINE:
            lines.append(f"        if {_INLINE[kind]}:")
            lines.append(f"            out[{key}] = v")
            lines.append("        else:")
            lines.append("            return None")
        elif kind == "date":
            lines.append("        if type(v) is str and len(v) == 10 and v[4] == '-' == v[7]:")
            lines.append("            try:")
            lines.append(f"                out[{key}] = fromiso(v)")
            lines.append("            except ValueError:")
            lines.append("                return None")
            lines.append("        else:")
            lines.append("            return None")
        else:
            namespace[f"f{index}"] = _FAST.get(kind, _always_slow)
            lines.append(f"        c = f{index}(v)")
            lines.append("        if c is SLOW:")
            lines.append("            return None")
            lines.append("        if c is not None:")
            lines.append(f"            out[{key}] = c")
    lines.append("    return out")
    exec(compile("\n".join(lines) + "\n", "<upsell-rules coercion>", "exec"), namespace)
    return namespace["coerce"]


def _merge(parts: list[Account]) -> Account:
    """One account from its records in several inputs; later inputs win per field."""
    if len(parts) == 1:
        return parts[0]
    values: dict[str, Any] = {}
    for part in parts:
        values.update(part.values)
    first = parts[0]
    return _account(first.account_id, values, first.location)
