"""Decisions as flat rows: the core columns a table of decisions holds, plus the record.

A warehouse table (the SQL sink), a Spark DataFrame (:mod:`upsell_rules.spark`) and the
tools reading them (dbt, reverse ETL) want the same few typed columns to filter and
join on, and the whole decision record beside them as JSON text. One table here says
which columns, in which order, of which type, so every writer produces the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from upsell_rules.io.fastjson import dumps_compact

__all__ = [
    "DECISION_COLUMNS",
    "KEY_COLUMNS",
    "LIST_SEPARATOR",
    "contract_value",
    "decision_core",
    "decision_row",
    "joined_ids",
]

#: How a list of ids is one text column, in every output (CSV, tables, Spark, compiled SQL).
LIST_SEPARATOR = "|"

#: Column -> type (``string``, ``date``, ``number``, ``bool``), in table order. ``owner``
#: is the account's owner (the person, echoed from the input), ``action_owner`` the
#: play's owner role, as in the CSV output. Lists of ids are ``|``-joined like the CSV
#: output and NULL when empty; ``record`` is the decision as compact JSON.
DECISION_COLUMNS: dict[str, str] = {
    "account_id": "string",
    "as_of": "date",
    "account_name": "string",
    "owner": "string",
    "score": "number",
    "band": "string",
    "blocked": "bool",
    "capped_at": "number",
    "upsell_types": "string",
    "trigger": "string",
    "triggers": "string",
    "failed_gates": "string",
    "red_flags": "string",
    "play": "string",
    "action_owner": "string",
    "window": "string",
    "ruleset_name": "string",
    "ruleset_version": "string",
    "ruleset_sha256": "string",
    "record": "string",
}
#: One row per account and as-of date: the key a table of decisions is upserted on.
KEY_COLUMNS = ("account_id", "as_of")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def joined_ids(items: Iterable[Any]) -> str | None:
    """Ids as one column: ``a|b|c`` in order, ``None`` when there are none."""
    text = LIST_SEPARATOR.join(str(item) for item in items)
    return text or None


def decision_core(decision: Mapping[str, Any]) -> dict[str, Any]:
    """The decision columns a compiled query computes too (:mod:`upsell_rules.sql.core`).

    ``trigger`` is the first trigger that fired (the one the play follows), or ``None``.
    """
    action = decision.get("action") or {}
    triggers = decision.get("triggers") or []
    capped = decision.get("capped_at")
    return {
        "account_id": str(decision["account_id"]),
        "account_name": _text(decision.get("account_name")),
        "owner": _text(decision.get("owner")),
        "score": float(decision["score"]),
        "band": str(decision["band"]),
        "blocked": bool(decision["blocked"]),
        "capped_at": None if capped is None else float(capped),
        "upsell_types": joined_ids(decision.get("upsell_types") or ()),
        "trigger": str(triggers[0]["id"]) if triggers else None,
        "triggers": joined_ids(t["id"] for t in triggers),
        "failed_gates": joined_ids(g["id"] for g in decision.get("gates") or []
                                   if not g["passed"]),
        "red_flags": joined_ids(f["id"] for f in decision.get("red_flags") or []),
        "play": _text(action.get("play")),
        "action_owner": _text(action.get("owner")),
    }


def decision_row(decision: Mapping[str, Any], as_of: str) -> dict[str, Any]:
    """The core columns of one decision record (``as_of`` as ISO text), and the record."""
    action = decision.get("action") or {}
    ruleset = decision.get("ruleset") or {}
    values = {
        **decision_core(decision),
        "as_of": str(decision.get("as_of") or as_of),
        "window": _text(action.get("window")),
        "ruleset_name": _text(ruleset.get("name")),
        "ruleset_version": _text(ruleset.get("version")),
        "ruleset_sha256": _text(ruleset.get("sha256")),
        "record": dumps_compact(dict(decision)),
    }
    return {column: values[column] for column in DECISION_COLUMNS}


def contract_value(value: Any) -> Any:
    """A database or Arrow value as the data contract reads it.

    Dates become ISO text, decimals numbers (whole ones ints), bytes text, and lists
    (PostgreSQL or Arrow arrays) keep their items converted the same way.
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list | tuple):
        return [contract_value(item) for item in value]
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return value
