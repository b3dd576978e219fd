"""The typed account a source record becomes, and the warnings for values it left out."""

from __future__ import annotations

import json
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from upsell_rules.errors import Location

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


#: Values nested too deeply for JSON (a hostile file can hold a list 900 levels deep,
#: which json.dumps and repr refuse) are shown by outline: ``[[[[...]]]]``.
_OUTLINE = reprlib.Repr()
_OUTLINE.maxlevel = 4


def shown_value(value: Any) -> str:
    """``value`` as a report shows it: text as it is, anything else as JSON, cut at 60.
    Never raises, however deeply ``value`` is nested."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=str)
        except (RecursionError, ValueError):
            text = _OUTLINE.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def shown_item(item: Any) -> str:
    """A list item as a message quotes it: text in quotes, anything else as JSON (cut at
    60 characters, see :func:`shown_value`)."""
    shown = shown_value(item)
    return repr(shown) if isinstance(item, str) else shown


def make_account(account_id: str, values: dict[str, Any], location: Location) -> Account:
    """The account for typed ``values`` (name and owner are blank when absent)."""
    return Account(
        account_id=account_id,
        account_name=str(values.get("account_name", "")),
        owner=str(values.get("owner", "")),
        values=values,
        location=location,
    )


class WarningLine(str):
    """The text of a value left out of an account, knowing which field it was (a reader's
    ``on_warning`` gets these: a printer can count them by field)."""

    field: str

    def __new__(cls, text: str, field: str) -> WarningLine:
        line = super().__new__(cls, text)
        line.field = field
        return line


def warning_line(location: str, account_id: str, warning: Mapping[str, str]) -> WarningLine:
    """The located line for a value left out of an account (see :class:`DataWarning`)."""
    field, value = warning["field"], warning["value"]
    shown = repr(value) if value and value[0] not in "[{" else value
    reason = warning["reason"]
    hint = ""
    if reason.startswith(("is not a date", "is not a number", "has an item")):
        hint = ("; another format is read where declared (date_order, number_format, "
                "formats in the ruleset's sources: section, docs/data.md)")
    return WarningLine(
        f"{location}: {field}: {shown} {reason}; {field} is missing for {account_id} "
        f"(mark the signal required: true to fail the record instead){hint}", field)
