"""Read account records through a source plugin and coerce them to typed values.

A record with a malformed value is reported (file, line, field, value, what was
expected) and skipped; every other record is still read. Duplicate ``account_id``s are
reported at the second occurrence.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.extensions import RawRecord
from upsell_rules.registry import Registry

IDENTITY_FIELDS = ("account_id", "account_name", "owner")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
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


class AccountReader:
    """Reads one data file into :class:`Account` objects, reporting bad rows as it goes."""

    def __init__(self, registry: Registry, types: Mapping[str, str]) -> None:
        #: Field types: the data contract (from plugins), overridden by the ruleset.
        self.types: dict[str, str] = {name: s.type for name, s in registry.fields.items()}
        self.types.update(types)
        for name in IDENTITY_FIELDS:
            self.types[name] = "string"
        self.registry = registry

    def read(self, path: str) -> Iterator[Account | RecordError]:
        """Yield each account or the error that kept it out, in file order."""
        source = self.registry.source_for(path)
        if source is None:
            known = ", ".join(sorted(self.registry.sources)) or "none installed"
            raise InputError(f"{path}: no signal source reads this file (sources: {known})")
        seen: dict[str, Location] = {}
        for item in source.read(path):
            if isinstance(item, RecordError):
                yield item
                continue
            yield from self.coerce_record(item, seen)

    def coerce_record(
        self, raw: RawRecord, seen: dict[str, Location] | None = None
    ) -> Iterator[Account | RecordError]:
        """Coerce one raw record: yields the account, or every error that kept it out.

        ``seen`` tracks account ids across a file so duplicates are reported.
        """
        seen = {} if seen is None else seen
        account_id = raw.values.get("account_id")
        if isinstance(account_id, int | float) and not isinstance(account_id, bool):
            account_id = str(account_id)
        if account_id is not None and not isinstance(account_id, str):
            yield RecordError(
                raw.location,
                f"{_show(account_id)} is not text (an account_id is required text)",
                field="account_id",
                value=_show(account_id),
            )
            return
        if not isinstance(account_id, str) or not account_id.strip():
            yield RecordError(raw.location, "missing required value", field="account_id")
            return
        account_id = account_id.strip()
        if account_id in seen:
            first = seen[account_id]
            yield RecordError(
                raw.location,
                f"duplicate account_id {account_id!r} (first at line {first.line})",
                field="account_id",
                value=account_id,
                account_id=account_id,
            )
            return
        seen[account_id] = raw.location
        values: dict[str, Any] = {}
        errors: list[RecordError] = []
        types = self.types
        for name, value in raw.values.items():
            kind = types.get(name)
            if kind is None:
                continue
            try:
                coerced = coerce(value, kind)
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
            yield from errors
            return
        yield Account(
            account_id=account_id,
            account_name=str(values.get("account_name", "")),
            owner=str(values.get("owner", "")),
            values=values,
            location=raw.location,
        )
