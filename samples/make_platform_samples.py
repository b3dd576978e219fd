"""Write the raw exports that show the signal sources joining into account records.

A real team does not keep a contract CSV: it has a CRM export, a product-analytics event
export and a helpdesk export. These three files describe the same eight accounts that
way, for the events and tickets sources and for ``--data`` joining:

- ``crm_accounts.csv``: what the CRM knows (plan, seats, health, champion, renewal...);
  no usage, no tickets;
- ``events.jsonl``: a Segment-style track-event export (``track``, ``identify`` and
  ``group`` calls); the events source turns it into ``seats_active_history``,
  ``gated_feature_attempts``, ``power_users`` and ``departments_active``;
- ``tickets.csv``: a helpdesk export; the tickets source turns it into
  ``open_ticket_priorities``, ``named_gaps`` and ``named_gaps_on``.

Evaluate them together, as of 2026-11-02, with the default ruleset (its ``sources:``
section maps the events and ticket tags)::

    upsell-rules dry-run rulesets/upsell_timing.yaml --as-of 2026-11-02 \\
        --data samples/crm_accounts.csv --data events:samples/events.jsonl \\
        --data tickets:samples/tickets.csv

The expected outcome of each account is in ``samples/README.md``. Standard library only;
running it twice gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

AS_OF = date(2026, 11, 2)
CYCLE_DAYS = 30
HERE = Path(__file__).resolve().parent


def days_ago(days: int) -> str:
    """The ISO date ``days`` before the evaluation date (negative: after it)."""
    return (AS_OF - timedelta(days=days)).isoformat()


CRM_COLUMNS = (
    "account_id", "account_name", "plan", "owner", "arr", "customer_since", "seats_licensed",
    "usage_limit", "usage_history", "departments_at_purchase", "health_score",
    "success_milestone_on", "champion_last_engaged_on", "renewal_date", "last_renewal_date",
    "nps_score", "nps_responded_on", "competitor_evaluation", "engagement_trend",
)


def crm(account_id: str, name: str, owner: str, *, seats: int, renewal_in: int,
        departments_at_purchase: int = 1, arr: int = 30000, **extra: Any) -> dict[str, Any]:
    """A healthy CRM record (milestone, health 90, champion 6 days ago); ``extra`` overrides."""
    record: dict[str, Any] = {
        "account_id": account_id,
        "account_name": name,
        "plan": "Growth",
        "owner": owner,
        "arr": arr,
        "customer_since": days_ago(700),
        "seats_licensed": seats,
        "departments_at_purchase": departments_at_purchase,
        "health_score": 90,
        "success_milestone_on": days_ago(150),
        "champion_last_engaged_on": days_ago(6),
        "renewal_date": days_ago(-renewal_in),
        "last_renewal_date": days_ago(365 - renewal_in),
        "nps_score": 9,
        "nps_responded_on": days_ago(40),
        "competitor_evaluation": "false",
        "engagement_trend": "growing",
    }
    record.update(extra)
    return record


CRM = [
    # ACC-3001: active users 14 -> 23 of 25 seats over six cycles (events), three power
    # users; renewal in 75 days. Act now, seat_headroom (seat).
    crm("ACC-3001", "Northwind Clinics", "Priya Raman", seats=25, renewal_in=75),
    # ACC-3002: one "Upgrade Prompt Clicked" and two "Premium Feature Blocked" events in the
    # last 14 days: three gated-feature attempts once the ruleset maps both event names.
    # Half the seats used. Act now, gated_feature_cluster (plan).
    crm("ACC-3002", "Bluefin Logistics", "Daniel Okafor", seats=40, renewal_in=70,
        departments_at_purchase=2),
    # ACC-3003: an open "urgent" ticket (P1) on an otherwise strong account: blocked by
    # open_p1_p2_ticket, play resolve_ticket.
    crm("ACC-3003", "Cobalt Legal", "Priya Raman", seats=20, renewal_in=72),
    # ACC-3004: tickets tagged "sso" (6 days ago) and "Need an audit log export" (10 days
    # ago) name two add-ons; no product pull. Warming, named_gap (addon).
    crm("ACC-3004", "Driftwood Schools", "Maya Lindqvist", seats=50, renewal_in=80),
    # ACC-3005: users in four departments this cycle, one at purchase; its track events
    # carry no groupId, a group call ties each user to the account. Mid-contract. Act now,
    # multi_team_spread (seat).
    crm("ACC-3005", "Evergreen Media", "Daniel Okafor", seats=60, renewal_in=200),
    # ACC-3006: in the CRM and the helpdesk, not in the event export: decided on CRM data
    # alone, listed as missing from events. Monitor, no trigger.
    crm("ACC-3006", "Foxtail Finance", "Maya Lindqvist", seats=30, renewal_in=210),
    # ACC-3007: 15 of 20 seats active with two power users; metered usage at 85% of the
    # limit (CRM). Act now, power_users_emerging (seat).
    crm("ACC-3007", "Granite Analytics", "Priya Raman", seats=20, renewal_in=65,
        usage_limit=100000, usage_history="61000|70000|78000|85000"),
    # ACC-3008: old tickets only: a P2 solved long ago and an SSO request 200 days ago
    # (outside the 90-day gap window). Steady product use, mid-contract. Monitor.
    crm("ACC-3008", "Harbor Freight Partners", "Daniel Okafor", seats=30, renewal_in=190),
]

#: (account, active users per cycle oldest first, power users now, departments now,
#:  how the account is named on events: group | context | group_call)
USAGE: list[tuple[str, list[int], int, int, str]] = [
    ("ACC-3001", [14, 16, 18, 20, 22, 23], 3, 1, "group"),
    ("ACC-3002", [18, 19, 20, 20, 21, 20], 0, 2, "context"),
    ("ACC-3003", [12, 13, 14, 14, 15, 15], 0, 1, "group"),
    ("ACC-3004", [10, 11, 11, 12, 12, 12], 0, 1, "context"),
    ("ACC-3005", [18, 20, 22, 24, 25, 26], 0, 4, "group_call"),
    ("ACC-3007", [9, 10, 12, 13, 14, 15], 2, 1, "group"),
    ("ACC-3008", [20, 20, 21, 21, 20, 21], 0, 1, "group"),
    # ACC-3099 is in the event export only (a trial workspace the CRM does not know).
    ("ACC-3099", [3, 4], 0, 1, "group"),
]

DEPARTMENTS = ("Operations", "Finance", "Sales", "Engineering")
ACTIVITY = ("Dashboard Viewed", "Report Exported", "Record Created", "Search Performed")

#: Gated-feature events: (account, event name, days before the evaluation date).
GATED = [
    ("ACC-3002", "Upgrade Prompt Clicked", 11),
    ("ACC-3002", "Premium Feature Blocked", 6),
    ("ACC-3002", "Premium Feature Blocked", 2),
    # One attempt months ago: outside the 14-day window, it counts for nothing.
    ("ACC-3008", "Upgrade Prompt Clicked", 120),
]

TICKETS = [
    # id, account, priority, status, created (days ago), tags, subject
    (5101, "ACC-3003", "urgent", "open", 3, "outage|api", "API returns 500 on every export"),
    (5102, "ACC-3003", "normal", "solved", 40, "billing", "Invoice address change"),
    (5103, "ACC-3004", "normal", "solved", 6, "sso|feature-request",
     "Can we log in with our Google accounts?"),
    (5104, "ACC-3004", "low", "pending", 10, "feature-request", "Need an audit log export"),
    (5105, "ACC-3006", "normal", "open", 12, "how-to", "How do I share a dashboard?"),
    (5106, "ACC-3008", "high", "solved", 150, "bug", "Sync delayed by an hour"),
    (5107, "ACC-3008", "normal", "closed", 200, "sso", "Single sign-on for the whole team"),
    (5108, "ACC-3001", "low", "closed", 30, "how-to", "Adding a user"),
]


def _timestamp(rng: random.Random, day: date) -> str:
    hour, minute, second = rng.randrange(8, 19), rng.randrange(60), rng.randrange(60)
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}.000Z"


def _cycle_day(rng: random.Random, cycle: int) -> date:
    """A day well inside billing cycle ``cycle`` (0 = the one ending on AS_OF)."""
    end = AS_OF - timedelta(days=CYCLE_DAYS * cycle)
    return end - timedelta(days=rng.randrange(3, CYCLE_DAYS - 3))


def events() -> list[dict[str, Any]]:
    """Every event of the export, in time order (as an export would list them)."""
    rng = random.Random(3003)
    out: list[tuple[str, dict[str, Any]]] = []
    for account, history, power, departments, naming in USAGE:
        users = [f"{account.lower()}-u{n:02d}" for n in range(1, max(history) + 1)]
        first_day = AS_OF - timedelta(days=CYCLE_DAYS * len(history))
        for index, user in enumerate(users):
            department = DEPARTMENTS[index % departments]
            out.append((f"{first_day.isoformat()}T07:00:00.000Z", {
                "type": "identify", "userId": user,
                "traits": {"department": department},
            }))
            if naming == "group_call":
                out.append((f"{first_day.isoformat()}T07:00:01.000Z", {
                    "type": "group", "userId": user, "groupId": account,
                }))
        for age, active in enumerate(reversed(history)):
            for rank, user in enumerate(users[:active]):
                count = 2 if age else 4
                if age == 0 and rank < power:
                    count = 30
                for _ in range(count):
                    event: dict[str, Any] = {
                        "type": "track",
                        "event": rng.choice(ACTIVITY),
                        "userId": user,
                    }
                    if naming == "group":
                        event["groupId"] = account
                    elif naming == "context":
                        event["context"] = {"groupId": account}
                    out.append((_timestamp(rng, _cycle_day(rng, age)), event))
    for account, name, ago in GATED:
        user = f"{account.lower()}-u01"
        out.append((_timestamp(rng, AS_OF - timedelta(days=ago)), {
            "type": "track", "event": name, "userId": user, "groupId": account,
            "properties": {"feature": "advanced_reporting"},
        }))
    out.sort(key=lambda pair: (pair[0], json.dumps(pair[1], sort_keys=True)))
    lines = []
    for stamp, event in out:
        lines.append({**event, "timestamp": stamp})
    return lines


def write_crm(path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CRM_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in CRM:
        writer.writerow({k: record.get(k, "") for k in CRM_COLUMNS})
    path.write_text(buffer.getvalue(), encoding="utf-8")


def write_events(path: Path) -> None:
    text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events())
    path.write_text(text, encoding="utf-8")


def write_tickets(path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "account", "priority", "status", "created", "tags", "subject"])
    for ticket_id, account, priority, status, ago, tags, subject in TICKETS:
        created = f"{days_ago(ago)} 09:30:00"
        writer.writerow([ticket_id, account, priority, status, created, tags, subject])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def main() -> None:
    write_crm(HERE / "crm_accounts.csv")
    write_events(HERE / "events.jsonl")
    write_tickets(HERE / "tickets.csv")


if __name__ == "__main__":
    main()
