"""Support-tickets source: a helpdesk CSV export (Zendesk, Freshdesk, Intercom...).

Registered through the ``upsell_rules`` entry point as ``tickets``. Name it on the
command line: ``--data tickets:exports/tickets.csv``. The export has a header row with
at least ``id``, ``account``, ``priority``, ``status`` and ``created``; ``tags`` and
``subject`` are optional. Per account it produces:

``open_ticket_priorities``
    the priority (``P1`` ... ``P4``) of every open ticket; helpdesk words (urgent, high,
    normal, low) are mapped with ``priority_map``;
``named_gaps`` / ``named_gaps_on``
    add-on modules the customer asked for, from ticket tags (``gap_tags``) or words in
    the subject (``gap_keywords``), in tickets created within ``gap_window_days`` of the
    evaluation date; and the day of the most recent one.

The mappings live in the ruleset's ``sources.tickets`` section, so RevOps decides which
tags and phrases name which add-on. Tickets created after the evaluation date are
ignored. A ticket's status is its status in the export (the helpdesk does not say what
it was on an earlier day).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io.encoding import decoding_problem, encoding_problems, open_export
from upsell_rules.io.mapping import check_preset
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import ParamSpec, RawRecord, Source, SourceContext

__all__ = ["TICKETS_SOURCE", "read_tickets", "upsell_rules_sources"]

REQUIRED = ("id", "priority", "status", "created")
#: Statuses that count a ticket as open when neither the ruleset nor a preset names them.
OPEN_STATUSES = ("new", "open", "pending", "on-hold", "hold")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")
_TAG_SPLIT = re.compile(r"[|,;\s]+")
_PRIORITY = re.compile(r"^p[1-4]$", re.IGNORECASE)


@dataclass
class _Account:
    first_line: int
    open_priorities: list[str] = field(default_factory=list)
    gaps: dict[str, date] = field(default_factory=dict)
    failed: bool = False


def _mapping(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k).strip().casefold(): str(v).strip() for k, v in value.items() if str(k).strip()}


def _priority(raw: str, mapping: Mapping[str, str]) -> str | None:
    text = raw.strip()
    if _PRIORITY.match(text):
        return text.upper()
    return mapping.get(text.casefold())


def read_tickets(path: str, context: SourceContext) -> Iterator[RawRecord | RecordError]:
    """Read a helpdesk ticket export and yield one aggregated record per account.

    A row without an account, or with an unreadable ``created`` date or priority, is
    reported at its line; its account is then left out, since its signals would be
    wrong without that ticket.
    """
    opts = context.options
    shipped = _preset(opts)
    account_column = str(opts.get("account_column") or "account")
    statuses = opts.get("open_statuses") or shipped.get("open_statuses") or OPEN_STATUSES
    open_statuses = {str(s).strip().casefold() for s in statuses}
    priorities = {"urgent": "P1", "high": "P2", "normal": "P3", "medium": "P3", "low": "P4"}
    priorities.update(_mapping(shipped.get("priority_map")))
    priorities.update(_mapping(opts.get("priority_map")))
    priorities = {k.casefold(): v for k, v in priorities.items()}
    gap_tags = _mapping(opts.get("gap_tags"))
    gap_keywords = _mapping(opts.get("gap_keywords"))
    window = int(opts.get("gap_window_days", 90))
    as_of = context.as_of
    # A byte the encoding cannot read fails its row only (checked below), not the export.
    handle, codec = open_export(path, opts.get("encoding"), "ticket export", "tickets", "")
    accounts: dict[str, _Account] = {}
    with handle:
        reader = csv.DictReader(handle, skipinitialspace=True)
        columns = _columns(opts, shipped)
        header = [columns.get(h.strip(), h.strip()) for h in reader.fieldnames or []]
        reader.fieldnames = header
        missing = [c for c in (*REQUIRED, account_column) if c not in header]
        if missing:
            raise InputError(
                f"{path}:1: the ticket export has no {', '.join(repr(c) for c in missing)} "
                f"column (columns: {', '.join(header) or 'none'})"
            )
        line = reader.line_num
        for row in reader:
            start, line = line + 1, reader.line_num
            where = Location(path, start)
            account_id = (row.get(account_column) or "").strip()
            problem = decoding_problem(account_id, codec)
            if problem:
                yield RecordError(where, problem, field=account_column)
                continue
            if not account_id:
                yield RecordError(where, "missing account", field=account_column)
                continue
            account = accounts.setdefault(account_id, _Account(start))
            problem = decoding_problem(" ".join(str(v) for v in row.values()), codec)
            if problem:  # the account's signals would be wrong without this ticket
                account.failed = True
                yield RecordError(where, problem, account_id=account_id)
                continue
            created_text = (row.get("created") or "").strip()
            match = _DATE.match(created_text)
            created = None
            if match:
                try:
                    created = date.fromisoformat(match.group(1))
                except ValueError:
                    created = None
            if created is None:
                account.failed = True
                yield RecordError(where, f"{created_text!r} is not a date (expected YYYY-MM-DD)",
                                  field="created", value=created_text, account_id=account_id)
                continue
            if as_of is not None and created > as_of:
                continue
            status = (row.get("status") or "").strip().casefold()
            if status in open_statuses:
                priority = _priority(row.get("priority") or "", priorities)
                if priority is None:
                    account.failed = True
                    yield RecordError(
                        where,
                        f"unknown priority {(row.get('priority') or '').strip()!r} (map it with "
                        "sources.tickets.priority_map)",
                        field="priority", value=(row.get("priority") or "").strip(),
                        account_id=account_id,
                    )
                    continue
                account.open_priorities.append(priority)
            if as_of is not None and created < as_of - timedelta(days=window):
                continue
            for gap in _gaps(row, gap_tags, gap_keywords):
                if gap not in account.gaps or account.gaps[gap] < created:
                    account.gaps[gap] = created
    for account_id, account in accounts.items():
        if account.failed:
            continue
        values: dict[str, Any] = {"account_id": account_id}
        if account.open_priorities:
            values["open_ticket_priorities"] = sorted(account.open_priorities)
        if account.gaps:
            values["named_gaps"] = sorted(account.gaps)
            values["named_gaps_on"] = max(account.gaps.values()).isoformat()
        yield RawRecord(values=values, location=Location(path, account.first_line))


def _preset(opts: Mapping[str, Any]) -> dict[str, Any]:
    """The shipped preset the options name (empty without one)."""
    from upsell_rules.io.mapping import load_preset

    preset = str(opts.get("preset") or "")
    if not preset:
        return {}
    shipped = load_preset(preset)
    if shipped.get("source") != "tickets":
        raise InputError(f"sources.tickets: preset '{preset}' is not a tickets preset")
    return shipped


def _columns(opts: Mapping[str, Any], shipped: Mapping[str, Any]) -> dict[str, str]:
    """Export column -> ticket field: the preset's (``columns``), then the ruleset's."""
    columns = {str(k): str(v) for k, v in (shipped.get("columns") or {}).items()}
    columns.update({str(k): str(v) for k, v in (opts.get("columns") or {}).items()})
    return columns


def _gaps(row: Mapping[str, Any], tags: Mapping[str, str], keywords: Mapping[str, str]) -> set[str]:
    """The add-on gaps a ticket names, through its tags or its subject's words."""
    found: set[str] = set()
    for tag in _TAG_SPLIT.split(str(row.get("tags") or "")):
        gap = tags.get(tag.strip().casefold())
        if gap:
            found.add(gap)
    subject = str(row.get("subject") or "").casefold()
    for phrase, gap in keywords.items():
        if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", subject):
            found.add(gap)
    return found


def _never(path: str) -> bool:
    return False


def _read_without_context(path: str) -> Iterator[RawRecord | RecordError]:
    raise NotImplementedError("the core calls read_with_context for this source")


TICKETS_SOURCE = Source(
    name="tickets",
    description=(
        "Helpdesk ticket export (CSV: id, account, priority, status, created, tags, "
        "subject), aggregated per account into open_ticket_priorities, named_gaps and "
        "named_gaps_on. Use --data tickets:PATH."
    ),
    matches=_never,
    read=_read_without_context,
    options={
        "account_column": ParamSpec(
            "string", "account", description="the column holding the account_id"
        ),
        # No default here: a preset's open statuses apply unless the ruleset names its own.
        "open_statuses": ParamSpec(
            "list",
            description="statuses that count a ticket as open (default: "
            f"{', '.join(OPEN_STATUSES)}; a preset may name others)",
        ),
        "priority_map": ParamSpec(
            "mapping", None,
            description="helpdesk priority -> P1..P4 (urgent: P1, high: P2, normal: P3 and "
            "low: P4 are built in)",
        ),
        "gap_tags": ParamSpec("mapping", None, description="ticket tag -> add-on it names"),
        "gap_keywords": ParamSpec(
            "mapping", None, description="word or phrase in the subject -> add-on it names"
        ),
        "preset": ParamSpec(
            "string", description="read a vendor's export: zendesk_tickets, intercom_conversations "
            "(docs/data.md)",
            check=check_preset("tickets"),
        ),
        "columns": ParamSpec(
            "mapping", None, description="export column -> ticket field (id, account, "
            "priority, status, created, tags, subject); overrides the preset's"
        ),
        "gap_window_days": ParamSpec(
            "integer", 90, description="only tickets created this many days before the date"
        ),
        "encoding": ParamSpec(
            "string", description="the export's text encoding: utf-8 (default), cp1252, "
            "latin-1, utf-16...; --encoding on the command line wins", check=encoding_problems,
        ),
    },
    read_with_context=read_tickets,
)


@hookimpl(trylast=True)
def upsell_rules_sources(register: Callable[[Source], None]) -> None:
    """Register the tickets source."""
    register(TICKETS_SOURCE)
