"""Vendor presets of the events and tickets sources decide like the Segment/contract files.

The PostHog and Amplitude exports are generated from samples/events.jsonl, the Zendesk
and Intercom exports from samples/tickets.csv, the way each vendor writes them (field
names and nesting, timestamp forms, statuses and priorities, tag separators, extra
columns, another column order). Every engine that is installed decides them, and each
decides them exactly like the contract files.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.plugin.build import default_registry
from upsell_rules_events.aggregate import _department, _group_of, _user_of

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
SAMPLES = ROOT / "samples"
AS_OF = "2026-11-02"
ENGINES = sorted(
    name for name, engine in default_registry().engines.items() if engine.available() is None
)


def _segment_events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (SAMPLES / "events.jsonl").open(encoding="utf-8")]


def _resolved(events: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str, str]]:
    """Each non-group event with its account and the department it tells (if any)."""
    user_group = {_user_of(e): _group_of(e) for e in events if e["type"] == "group"}
    out = []
    for event in events:
        if event["type"] == "group":
            continue
        group = _group_of(event) or user_group.get(_user_of(event), "")
        out.append((event, group, _department(event, "department")))
    return out


def _posthog(event: dict[str, Any], group: str, department: str) -> dict[str, Any]:
    stamp = event["timestamp"].replace("Z", "000+00:00")  # 2026-10-22T14:03:11.000000+00:00
    name = "$identify" if event["type"] == "identify" else event["event"]
    out: dict[str, Any] = {
        "uuid": "0190" + str(abs(hash(json.dumps(event, sort_keys=True))))[:12],
        "event": name, "distinct_id": event["userId"], "timestamp": stamp,
        "properties": {"$lib": "web", "$groups": {"company": group} if group else {}},
        "elements_chain": "",
    }
    if department:
        out["person_properties"] = {"department": department, "email": "x@example.com"}
    return out


def _amplitude(event: dict[str, Any], group: str, department: str) -> dict[str, Any]:
    stamp = event["timestamp"].replace("T", " ").replace("Z", "000")  # 2026-10-22 14:03:11.000000
    name = "$identify" if event["type"] == "identify" else event["event"]
    return {
        "event_type": name, "user_id": event["userId"], "device_id": "d-" + event["userId"],
        "event_time": stamp, "server_upload_time": stamp, "groups": {"company": [group]}
        if group else {}, "user_properties": {"department": department} if department else {},
        "event_properties": {}, "amplitude_id": 1,
    }


VENDORS: dict[str, Callable[[dict[str, Any], str, str], dict[str, Any]]] = {
    "posthog_events": _posthog,
    "amplitude_events": _amplitude,
}


def _zendesk(target: Path) -> None:
    rows = list(csv.DictReader((SAMPLES / "tickets.csv").open(encoding="utf-8", newline="")))
    header = ["Summation column", "Id", "Requester", "Assignee", "Group", "Subject", "Tags",
              "Status", "Priority", "Via", "Ticket type", "Created at", "Updated at",
              "Organization"]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([
                "", row["id"], "Jo Buyer", "Ann Agent", "Support", row["subject"],
                row["tags"].replace("|", " "), row["status"], row["priority"], "Mail",
                "question", row["created"][:16], row["created"][:16], row["account"],
            ])


def _decisions(ruleset: Path, events: Path, tickets: Path,
               engine: str = "python") -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, [
        "dry-run", str(ruleset), "--as-of", AS_OF, "--format", "json", "--engine", engine,
        "--data", str(SAMPLES / "crm_accounts.csv"), "--data", f"events:{events}",
        "--data", f"tickets:{tickets}",
    ])
    assert result.exit_code == 0, result.stderr
    assert "error" not in result.stderr, result.stderr
    decisions = json.loads(result.stdout)
    for decision in decisions:
        decision.pop("ruleset")
        decision.pop("inputs")  # the file names differ
    return sorted(decisions, key=lambda d: str(d["account_id"]))


def _with_presets(tmp_path: Path, events_preset: str,
                  tickets_preset: str = "zendesk_tickets") -> Path:
    text = RULESET.read_text(encoding="utf-8")
    text = text.replace("sources:\n  events:\n",
                        f"sources:\n  events:\n    preset: {events_preset}\n", 1)
    text = text.replace("\n  tickets:\n", f"\n  tickets:\n    preset: {tickets_preset}\n", 1)
    assert text.count("preset:") == 2
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text(text, encoding="utf-8")
    return ruleset


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("preset", sorted(VENDORS))
def test_vendor_exports_are_decided_like_the_segment_and_contract_files(
    tmp_path: Path, preset: str, engine: str
) -> None:
    events = tmp_path / "events.jsonl"
    with events.open("w", encoding="utf-8") as handle:
        for event, group, department in _resolved(_segment_events()):
            handle.write(json.dumps(VENDORS[preset](event, group, department)) + "\n")
    tickets = tmp_path / "zendesk.csv"
    _zendesk(tickets)
    expected = _decisions(RULESET, SAMPLES / "events.jsonl", SAMPLES / "tickets.csv")
    assert len(expected) == 9
    # The signals the event and ticket sources feed do reach the decisions.
    text = json.dumps(expected)
    assert '"power_users_emerging"' in text and "SSO" in text and "P1" in text
    assert _decisions(_with_presets(tmp_path, preset), events, tickets, engine) == expected


def test_a_preset_of_another_source_is_refused(tmp_path: Path) -> None:
    ruleset = _with_presets(tmp_path, "zendesk_tickets")
    result = CliRunner().invoke(cli, [
        "dry-run", str(ruleset), "--as-of", AS_OF, "--format", "json",
        "--data", f"events:{SAMPLES / 'events.jsonl'}",
    ])
    assert result.exit_code == 2
    assert "zendesk_tickets" in result.output


# --- Intercom conversations ---------------------------------------------------------------

#: Zendesk status -> Intercom conversation state (waiting on the customer is snoozed).
_INTERCOM_STATE = {"new": "open", "open": "open", "pending": "snoozed", "hold": "snoozed",
                   "solved": "closed", "closed": "closed"}
#: The two priority forms of the Conversation model: five levels, or a priority flag.
_INTERCOM_PRIORITY = {
    "levels": {"urgent": "urgent", "high": "high", "normal": "medium", "low": "low"},
    "flag": {"urgent": "priority", "high": "priority", "normal": "not_priority",
             "low": "not_priority"},
}
#: The report's attribute labels, and the export API's attribute names.
_INTERCOM_HEADERS = {
    "report": ["Conversation started at", "Conversation ID", "Channel", "Teammate assigned",
               "Company name", "Conversation state", "Company ID", "Conversation tags",
               "Conversation title", "Priority", "Conversation rating"],
    "api": ["conversation_started_at", "conversation_id", "channel", "admin_assignee_id",
            "company_name", "state", "company_id", "tags", "title", "priority", "rating"],
}


def _intercom(target: Path, labels: str, priority: str) -> None:
    rows = list(csv.DictReader((SAMPLES / "tickets.csv").open(encoding="utf-8", newline="")))
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(_INTERCOM_HEADERS[labels])
        for n, row in enumerate(rows):
            writer.writerow([
                row["created"], f"2150000{row['id']}", "Email" if n % 2 else "Messenger",
                "Ann Agent", f"Company {row['account']}", _INTERCOM_STATE[row["status"]],
                row["account"], ", ".join(row["tags"].split("|")), row["subject"],
                _INTERCOM_PRIORITY[priority][row["priority"]], "" if n % 3 else "5",
            ])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("labels", "priority"), [("report", "levels"), ("api", "flag")])
def test_an_intercom_conversations_export_is_decided_like_the_contract_file(
    tmp_path: Path, labels: str, priority: str, engine: str
) -> None:
    tickets = tmp_path / "intercom.csv"
    _intercom(tickets, labels, priority)
    expected = _decisions(RULESET, SAMPLES / "events.jsonl", SAMPLES / "tickets.csv")
    ruleset = _with_presets(tmp_path, "posthog_events", "intercom_conversations")
    ruleset.write_text(ruleset.read_text(encoding="utf-8").replace(
        "preset: posthog_events\n", "", 1), encoding="utf-8")
    got = _decisions(ruleset, SAMPLES / "events.jsonl", tickets, engine)
    assert got == expected
    # The open urgent ticket of ACC-3003 blocks it in both forms (P1 or a priority flag).
    blocked = {d["account_id"]: [f["id"] for f in d["red_flags"]] for d in got}
    assert "open_p1_p2_ticket" in json.dumps(blocked["ACC-3003"]), blocked


def test_an_intercom_state_the_ruleset_names_wins_over_the_preset(tmp_path: Path) -> None:
    tickets = tmp_path / "intercom.csv"
    _intercom(tickets, "report", "levels")
    ruleset = _with_presets(tmp_path, "posthog_events", "intercom_conversations")
    ruleset.write_text(ruleset.read_text(encoding="utf-8").replace(
        "preset: intercom_conversations\n",
        "preset: intercom_conversations\n    open_statuses: [snoozed]\n", 1), encoding="utf-8")
    got = {d["account_id"]: d for d in _decisions(ruleset, SAMPLES / "events.jsonl", tickets)}
    # ACC-3003's urgent conversation is open, not snoozed: no longer an open ticket.
    assert "open_p1_p2" not in json.dumps(got["ACC-3003"]["red_flags"])


def test_an_intercom_priority_nobody_mapped_is_a_located_error(tmp_path: Path) -> None:
    tickets = tmp_path / "intercom.csv"
    _intercom(tickets, "report", "levels")
    text = tickets.read_text(encoding="utf-8").replace(",urgent,", ",critical,", 1)
    tickets.write_text(text, encoding="utf-8")
    ruleset = _with_presets(tmp_path, "posthog_events", "intercom_conversations")
    result = CliRunner().invoke(cli, [
        "dry-run", str(ruleset), "--as-of", AS_OF, "--format", "json",
        "--data", str(SAMPLES / "crm_accounts.csv"), "--data", f"tickets:{tickets}",
    ])
    assert result.exit_code == 1, result.output
    assert f"{tickets}:2: priority: unknown priority 'critical'" in result.stderr
