"""The outcomes file: upsell deals that really happened, and accounts that churned.

One row per deal: ``account_id``, ``opened_on``, ``closed_on``, ``outcome`` (``won``,
``lost`` or ``no_decision``), ``upsell_type``, ``amount``, and ``churned_on`` when the
account later churned. An account that churned without any deal gets a row with only
``account_id`` and ``churned_on``, so the base churn rate can be measured. ``deal_id`` is
optional; other columns are ignored (CRM exports carry many).

The file is CSV, JSON or JSON Lines and is read by the same source plugins as account
data, so every problem is located (``file:line: field: problem``) and a bad row never
hides the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io.mapping import build_mapping, load_preset
from upsell_rules.io.records import CoercionError, coerce
from upsell_rules.plugin.registry import Registry

OUTCOME_VALUES = ("won", "lost", "no_decision")

#: Column -> type, in the documented order.
OUTCOME_FIELDS: dict[str, str] = {
    "deal_id": "string",
    "account_id": "string",
    "opened_on": "date",
    "closed_on": "date",
    "outcome": "string",
    "upsell_type": "string",
    "amount": "number",
    "churned_on": "date",
}

# CRM exports spell these differently; the registered upsell type names win.
_TYPE_ALIASES = {"add-on": "addon", "add_on": "addon", "seats": "seat", "upgrade": "plan"}
_OUTCOME_ALIASES = {"no decision": "no_decision", "no-decision": "no_decision",
                    # The closed stages of Salesforce and HubSpot pipelines.
                    "closed won": "won", "closed lost": "lost"}


@dataclass(frozen=True)
class Deal:
    """One closed upsell opportunity."""

    account_id: str
    opened_on: date
    closed_on: date
    outcome: str
    upsell_type: str
    amount: float | None
    location: Location
    deal_id: str = ""

    @property
    def won(self) -> bool:
        """True for a won deal."""
        return self.outcome == "won"


@dataclass
class Outcomes:
    """Everything read from an outcomes file."""

    deals: list[Deal] = field(default_factory=list)
    #: account_id -> the day the account churned.
    churned: dict[str, date] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)
    rows: int = 0

    @property
    def failed_rows(self) -> int:
        """Rows left out for a problem (a row with several problems counts once)."""
        return len({error.location for error in self.errors})

    @property
    def last_date(self) -> date | None:
        """The latest date in the file (deals and churn), or None for an empty file."""
        days = [d.closed_on for d in self.deals] + list(self.churned.values())
        return max(days, default=None)


def _coerce_row(raw: Any, location: Location) -> tuple[dict[str, Any], list[RecordError]]:
    values: dict[str, Any] = {}
    errors: list[RecordError] = []
    account_id = raw.get("account_id")
    account_text = str(account_id).strip() if account_id is not None else ""
    for name, kind in OUTCOME_FIELDS.items():
        value = raw.get(name)
        try:
            coerced = coerce(value, kind)
        except CoercionError as exc:
            shown = f"{value!r}" if isinstance(value, str) else str(value)
            hint = ""
            # Currency, thousands, slashes or a time: a CRM's own formats, not a typo.
            if kind in ("number", "date") and any(c in str(value) for c in "$€£¥,/ "):
                hint = (" (a CRM export's formats, such as $1,400.00 or 1/19/2027, are read "
                        "with its --outcomes-preset: salesforce_opportunities, hubspot_deals)")
            errors.append(
                RecordError(location, f"{shown} {exc}{hint}", field=name, value=str(value),
                            account_id=account_text)
            )
            continue
        if coerced is not None:
            values[name] = coerced.strip() if isinstance(coerced, str) else coerced
    return values, errors


def _check_row(values: dict[str, Any], location: Location) -> list[RecordError]:
    """The rules between columns, each broken rule one located error."""
    errors: list[RecordError] = []
    account_id = values.get("account_id", "")

    def error(name: str, message: str) -> None:
        value = values.get(name)
        shown = value.isoformat() if isinstance(value, date) else ("" if value is None
                                                                   else str(value))
        errors.append(RecordError(location, message, field=name, value=shown,
                                  account_id=account_id))

    if not account_id:
        error("account_id", "missing required value")
        return errors
    deal_fields = [n for n in ("opened_on", "closed_on", "outcome", "upsell_type", "amount")
                   if n in values]
    if not deal_fields:
        if "churned_on" not in values:
            error("outcome", "the row has neither a deal (opened_on, closed_on, outcome) nor "
                  "a churned_on date")
        return errors
    outcome = values.get("outcome")
    if outcome is None:
        error("outcome", f"missing required value (one of {', '.join(OUTCOME_VALUES)})")
    elif outcome not in OUTCOME_VALUES:
        error("outcome", f"{outcome!r} is not one of {', '.join(OUTCOME_VALUES)}")
    for name in ("opened_on", "closed_on"):
        if name not in values:
            error(name, "missing required value (a deal needs opened_on and closed_on)")
    opened, closed = values.get("opened_on"), values.get("closed_on")
    if isinstance(opened, date) and isinstance(closed, date) and closed < opened:
        error("closed_on", f"{closed.isoformat()} is before opened_on {opened.isoformat()}")
    churned = values.get("churned_on")
    if isinstance(churned, date) and isinstance(opened, date) and churned < opened:
        error("churned_on", f"{churned.isoformat()} is before the deal opened "
              f"({opened.isoformat()})")
    amount = values.get("amount")
    if isinstance(amount, int | float) and amount < 0:
        error("amount", f"{amount} is negative")
    return errors


def _normalise(values: dict[str, Any]) -> None:
    outcome = values.get("outcome")
    if isinstance(outcome, str):
        lowered = outcome.lower()
        values["outcome"] = _OUTCOME_ALIASES.get(lowered, lowered)
    kind = values.get("upsell_type")
    if isinstance(kind, str):
        lowered = kind.lower()
        values["upsell_type"] = _TYPE_ALIASES.get(lowered, lowered)


def iter_outcomes(
    path: str, registry: Registry, preset: str = ""
) -> Iterator[dict[str, Any] | RecordError]:
    """Yield each row's coerced values (with ``_location``) or its errors, in file order.

    ``preset`` names a shipped mapping for a CRM's opportunity export
    (``salesforce_opportunities``, ``hubspot_deals``): its columns, formats and stage names.
    """
    source = registry.source_for(path)
    if source is None:
        known = ", ".join(sorted(registry.sources)) or "none installed"
        raise InputError(f"{path}: no source reads this file (sources: {known})")
    mapping, renames = None, {}
    if preset:
        options = load_preset(preset)
        mapping = build_mapping(options, OUTCOME_FIELDS)
        renames = {str(k).lower(): str(v) for k, v in
                   ((options.get("values") or {}).get("outcome") or {}).items()}
    id_column = next((c for c, f in mapping.columns.items() if f == "account_id"),
                     "account_id") if mapping else "account_id"
    raw_items = source.read(path) if id_column == "account_id" else _read_with_id(
        source, path, id_column)
    for raw in raw_items:
        if isinstance(raw, RecordError):
            yield raw
            continue
        row = mapping.apply(raw.values) if mapping else raw.values
        stage = row.get("outcome")
        if isinstance(stage, str) and stage.strip().lower() in renames:
            row = {**row, "outcome": renames[stage.strip().lower()]}
        values, errors = _coerce_row(row, raw.location)
        if errors:
            yield from errors
            continue
        _normalise(values)
        problems = _check_row(values, raw.location)
        if problems:
            yield from problems
            continue
        values["_location"] = raw.location
        yield values


def _read_with_id(source: Any, path: str, id_column: str) -> Any:
    """Read through a source whose id column is mapped (the CSV source checks for it)."""
    from upsell_rules.plugin.types import SourceContext

    if source.read_with_context is None:
        return source.read(path)
    return source.read_with_context(path, SourceContext({"columns": {id_column: "account_id"}},
                                                        None))


def _deal_key(item: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two rows the same deal: its ``deal_id`` or, without one, every field."""
    deal_id = item.get("deal_id", "")
    if deal_id:
        return ("id", deal_id)
    return ("row", *(item.get(name) for name in OUTCOME_FIELDS if name != "churned_on"))


def _duplicate_error(item: dict[str, Any], first: Location) -> RecordError:
    """A deal row that repeats an earlier one (an export run twice, a join that fanned out)."""
    deal_id = item.get("deal_id", "")
    if deal_id:
        message = (f"deal {deal_id!r} appears again (first at line {first.line}); each deal "
                   "counts once, so this row is left out")
    else:
        message = (f"the same deal as line {first.line} (same account, dates, outcome, type "
                   "and amount); left out, as a repeated row would count the deal twice "
                   "(give each deal a deal_id if these are two deals)")
    return RecordError(item["_location"], message, field="deal_id", value=deal_id,
                       account_id=item["account_id"])


def read_outcomes(path: str, registry: Registry, preset: str = "") -> Outcomes:
    """Read and check a whole outcomes file.

    Raises :class:`~upsell_rules.errors.InputError` when the file cannot be read at all;
    row problems are collected in ``errors``. A deal that repeats an earlier row (the
    same ``deal_id``, or every field the same when there is none) is an error on the
    repeat; the first row counts.
    """
    result = Outcomes()
    churn_seen: dict[str, Location] = {}
    deals_seen: dict[tuple[Any, ...], Location] = {}
    failed_at: set[Location] = set()
    for item in iter_outcomes(path, registry, preset):
        if isinstance(item, RecordError):
            result.errors.append(item)
            if item.location not in failed_at:
                failed_at.add(item.location)
                result.rows += 1
            continue
        result.rows += 1
        location: Location = item["_location"]
        account_id: str = item["account_id"]
        churned = item.get("churned_on")
        if isinstance(churned, date):
            known = result.churned.get(account_id)
            if known is not None and known != churned:
                result.errors.append(
                    RecordError(
                        location,
                        f"{churned.isoformat()} contradicts churned_on {known.isoformat()} "
                        f"at line {churn_seen[account_id].line} for the same account",
                        field="churned_on",
                        value=churned.isoformat(),
                        account_id=account_id,
                    )
                )
                continue
            if known is None:
                result.churned[account_id] = churned
                churn_seen[account_id] = location
        if "outcome" in item:
            key = _deal_key(item)
            if key in deals_seen:
                result.errors.append(_duplicate_error(item, deals_seen[key]))
                continue
            deals_seen[key] = location
            amount = item.get("amount")
            result.deals.append(
                Deal(
                    account_id=account_id,
                    opened_on=item["opened_on"],
                    closed_on=item["closed_on"],
                    outcome=item["outcome"],
                    upsell_type=item.get("upsell_type", ""),
                    amount=float(amount) if isinstance(amount, int | float) else None,
                    location=location,
                    deal_id=item.get("deal_id", ""),
                )
            )
    return result
