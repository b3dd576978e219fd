"""Account snapshots over time, read point-in-time.

A snapshots file is an accounts file (CSV, JSON or JSONL, read by the same source plugins
and coerced by the same :class:`~upsell_rules.io.records.AccountReader`) in which every record
also carries a ``snapshot_date``: the day the export was taken. One account appears once
per snapshot date.

A backtest must judge each snapshot with only what was known on its date. Exports are
often assembled after the fact, so a snapshot can carry facts from its future (a champion
change that came later, a gated-feature attempt from next month). :func:`point_in_time`
removes them: a date field dated after the snapshot is blanked, dates after it are dropped
from date lists, and the fields that describe the same event (the NPS score of a later
NPS response, the gaps of a later gap request) are blanked with their date. Scheduled
dates, which are known in advance by nature (the next renewal), are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io.records import Account, AccountReader, CoercionError, coerce, format_hint

SNAPSHOT_FIELD = "snapshot_date"

#: Date fields that describe a planned future (a contract's next renewal), not a past
#: event: a snapshot may hold a value after its own date, and it is kept.
SCHEDULED_FIELDS: tuple[str, ...] = ("renewal_date",)

#: Fields whose meaning depends on an event date: when the date is hidden as being after
#: the snapshot, these are hidden too (the score belongs to that later NPS response).
COMPANIONS: Mapping[str, tuple[str, ...]] = {
    "nps_responded_on": ("nps_score",),
    "named_gaps_on": ("named_gaps",),
}


@dataclass(frozen=True)
class Snapshot:
    """One account as it stood on ``on``; ``hidden`` names what was dated after that day."""

    account: Account
    on: date
    hidden: tuple[str, ...] = ()


def point_in_time(
    values: Mapping[str, Any],
    types: Mapping[str, str],
    cutoff: date,
    scheduled: Iterable[str] = SCHEDULED_FIELDS,
    companions: Mapping[str, tuple[str, ...]] = COMPANIONS,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The values as known on ``cutoff``, and the names of the fields that changed.

    ``types`` gives each field's type (``date`` and ``date_list`` fields are checked).
    A field listed in ``scheduled`` is never touched. Returns a new dict; ``values`` is
    left as it was.
    """
    keep = set(scheduled)
    out = dict(values)
    hidden: list[str] = []
    for name, value in values.items():
        if name in keep:
            continue
        kind = types.get(name)
        if kind == "date" and isinstance(value, date) and value > cutoff:
            del out[name]
            hidden.append(name)
            for companion in companions.get(name, ()):
                if companion in out:
                    del out[companion]
                    hidden.append(companion)
        elif kind == "date_list" and isinstance(value, list):
            known = [day for day in value if not (isinstance(day, date) and day > cutoff)]
            if len(known) != len(value):
                hidden.append(name)
                if known:
                    out[name] = known
                else:
                    del out[name]
    return out, tuple(dict.fromkeys(hidden))


class SnapshotReader:
    """Reads a snapshots file into point-in-time :class:`Snapshot` objects.

    Errors are located like the account reader's (``file:line: field: problem``); a bad
    record is reported and skipped, every other one is still read. An account may appear
    once per snapshot date.
    """

    def __init__(
        self,
        reader: AccountReader,
        scheduled: Iterable[str] = SCHEDULED_FIELDS,
        companions: Mapping[str, tuple[str, ...]] = COMPANIONS,
    ) -> None:
        self.reader = reader
        self.scheduled = tuple(scheduled)
        self.companions = companions

    def read(self, path: str) -> Iterator[Snapshot | RecordError]:
        """Yield each snapshot, or the error that kept a record out, in file order."""
        registry = self.reader.registry
        source = registry.source_for(path)
        if source is None:
            known = ", ".join(sorted(registry.sources)) or "none installed"
            hint = format_hint(path)
            raise InputError(
                f"{path}: no signal source reads this file (sources: {known})"
                + (f"; {hint}" if hint else "")
            )
        first_seen: dict[tuple[str, date], Location] = {}
        for raw in source.read(path):
            if isinstance(raw, RecordError):
                yield raw
                continue
            account_id = raw.values.get("account_id")
            account_text = str(account_id).strip() if account_id is not None else ""
            on = raw.values.get(SNAPSHOT_FIELD)
            try:
                day = coerce(on, "date")
            except CoercionError as exc:
                yield RecordError(
                    raw.location,
                    f"{on!r} {exc}" if isinstance(on, str) else f"{on} {exc}",
                    field=SNAPSHOT_FIELD,
                    value=str(on),
                    account_id=account_text,
                )
                continue
            if day is None:
                yield RecordError(
                    raw.location,
                    "missing required value (the day this snapshot was taken)",
                    field=SNAPSHOT_FIELD,
                    account_id=account_text,
                )
                continue
            # The account reader checks account ids within one "file"; each snapshot
            # date is its own file here, so duplicates are checked per (account, date).
            for item in self.reader.coerce_record(raw, {}):
                if isinstance(item, RecordError):
                    yield item
                    continue
                key = (item.account_id, day)
                if key in first_seen:
                    yield RecordError(
                        raw.location,
                        f"account {item.account_id!r} already has a snapshot on "
                        f"{day.isoformat()} (first at line {first_seen[key].line})",
                        field=SNAPSHOT_FIELD,
                        value=day.isoformat(),
                        account_id=item.account_id,
                    )
                    continue
                first_seen[key] = raw.location
                yield self.snapshot(item, day)

    def snapshot(self, account: Account, on: date) -> Snapshot:
        """Apply :func:`point_in_time` to one account read for the date ``on``."""
        values, hidden = point_in_time(
            account.values, self.reader.types, on, self.scheduled, self.companions
        )
        if hidden:
            account = replace(account, values=values)
        return Snapshot(account, on, hidden)
