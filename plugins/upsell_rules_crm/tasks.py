"""What a CRM task says: subject, body, due date from the play's window, the owner."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

_WITHIN = re.compile(r"within\s+(?:\d+\s*-\s*)?(\d+)\s+(business\s+days?|days?|weeks?)", re.I)


def add_business_days(start: date, days: int) -> date:
    """``start`` plus ``days`` working days (Monday to Friday)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def due_date(window: str, as_of: date, default_days: int) -> date:
    """The due date a play's window implies: "immediately" is the as-of date, "within
    1-3 business days" the third working day after it, "within 2 weeks" 14 days after;
    anything else ``default_days`` days after."""
    if re.search(r"\bimmediately\b|\btoday\b", window, re.I):
        return as_of
    match = _WITHIN.search(window)
    if match is None:
        return as_of + timedelta(days=default_days)
    count, unit = int(match.group(1)), match.group(2).lower()
    if unit.startswith("business"):
        return add_business_days(as_of, count)
    return as_of + timedelta(days=count * (7 if unit.startswith("week") else 1))


def subject(decision: Mapping[str, Any]) -> str:
    """``Seat expansion (usage review): Harborview Dental Group``."""
    name = decision.get("account_name") or decision["account_id"]
    return f"{decision['action']['title']}: {name}"


def body(decision: Mapping[str, Any]) -> str:
    """The narrative, then the account, the window and the idempotency key (so a repeat
    can be found in the CRM)."""
    key = decision.get("transition", {}).get("key", "")
    return (f"{decision.get('narrative', '')}\n\nAccount {decision['account_id']}; window: "
            f"{decision['action']['window']}.\nupsell-rules key: {key}")


def owner_id(decision: Mapping[str, Any], owners: Mapping[str, Any] | None) -> str | None:
    """The CRM user id of the decision's owner, from the sink's ``owners`` mapping."""
    if not owners:
        return None
    value = owners.get(str(decision.get("owner") or ""))
    return str(value) if value else None


def task_id(opened: str | None) -> str | None:
    """The task id in what the sink reported when it opened the task (``task ID``)."""
    match = re.search(r"\btask (\S+)", opened or "")
    return match.group(1) if match else None
