"""The events and tickets sources: aggregation rules, mappings from the ruleset, errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT, run_cli
from upsell_rules.errors import InputError, RecordError
from upsell_rules.io.records import AccountReader
from upsell_rules.plugin.build import build_registry
from upsell_rules.plugin.types import RawRecord, SourceContext
from upsell_rules_events import EVENTS_SOURCE, read_events
from upsell_rules_tickets import TICKETS_SOURCE, read_tickets

AS_OF = date(2026, 11, 2)


def defaults(source: Any, **options: Any) -> SourceContext:
    values = {k: v.default for k, v in source.options.items() if v.default is not None}
    values.update(options)
    return SourceContext(values, AS_OF)


def write_events(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def track(user: str, day: str, event: str = "Page Viewed", group: str | None = "A1",
          **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "track", "event": event, "userId": user,
                           "timestamp": f"{day}T10:00:00Z", **extra}
    if group is not None:
        out["groupId"] = group
    return out


def records(items: list[RawRecord | RecordError]) -> dict[str, dict[str, Any]]:
    return {str(r.values["account_id"]): dict(r.values) for r in items
            if isinstance(r, RawRecord)}


# --- events ----------------------------------------------------------------------------


def test_active_users_per_cycle_oldest_first_without_leading_empty_cycles(tmp_path: Path) -> None:
    events = [
        track("u1", "2026-08-20"),                       # cycle 2 (Aug 5 - Sep 3)
        track("u1", "2026-09-20"), track("u2", "2026-09-21"),   # cycle 1
        track("u1", "2026-10-20"), track("u2", "2026-10-21"), track("u3", "2026-11-02"),
        track("u4", "2026-11-03"),                       # after as-of: ignored
    ]
    out = records(list(read_events(str(write_events(tmp_path / "e.jsonl", events)),
                                   defaults(EVENTS_SOURCE))))
    assert out["A1"]["seats_active_history"] == [1, 2, 3]
    assert "gated_feature_attempts" not in out["A1"]


def test_gated_attempts_follow_the_mapping(tmp_path: Path) -> None:
    path = write_events(tmp_path / "e.jsonl", [
        track("u1", "2026-10-25", "Upgrade Prompt Clicked"),
        track("u1", "2026-10-30", "premium feature blocked"),
        track("u2", "2026-10-31", "Something Else"),
    ])
    default = records(list(read_events(str(path), defaults(EVENTS_SOURCE))))
    assert default["A1"]["gated_feature_attempts"] == ["2026-10-25"]
    mapped = records(list(read_events(str(path), defaults(
        EVENTS_SOURCE, gated_feature_events=["Upgrade Prompt Clicked", "Premium Feature Blocked"]
    ))))
    assert mapped["A1"]["gated_feature_attempts"] == ["2026-10-25", "2026-10-30"]


def test_power_users_and_departments(tmp_path: Path) -> None:
    events = [{"type": "identify", "userId": f"u{i}", "traits": {"department": d},
               "timestamp": "2026-01-01T00:00:00Z"}
              for i, d in enumerate(["Ops", "Ops", "Sales", "Finance", "Legal"])]
    events += [track(f"u{i}", "2026-10-20") for i in range(5) for _ in range(2)]
    events += [track("u0", "2026-10-21") for _ in range(40)]
    events += [track("u4", "2026-08-01")]  # Legal is active in an older cycle only
    out = records(list(read_events(str(write_events(tmp_path / "e.jsonl", events)),
                                   defaults(EVENTS_SOURCE))))
    # mean = (42 + 2 * 4) / 5 = 10; 3x the mean is 30: only u0.
    assert out["A1"]["power_users"] == 1
    assert out["A1"]["departments_active"] == 4


def test_account_from_context_or_a_group_call(tmp_path: Path) -> None:
    events = [
        {"type": "group", "userId": "u9", "groupId": "B2", "timestamp": "2026-01-01T00:00:00Z"},
        track("u1", "2026-10-20", group=None, context={"groupId": "C3"}),
        track("u9", "2026-10-20", group=None),
        track("nobody", "2026-10-20", group=None),  # no account: ignored
    ]
    out = records(list(read_events(str(write_events(tmp_path / "e.jsonl", events)),
                                   defaults(EVENTS_SOURCE))))
    assert set(out) == {"B2", "C3"}


def test_bad_lines_are_located_and_only_their_account_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    lines = [
        json.dumps(track("u1", "2026-10-20", group="GOOD")),
        "{not json",
        json.dumps(track("u1", "2026-10-20", group="BAD")),
        json.dumps({**track("u2", "2026-10-21", group="BAD"), "timestamp": "yesterday"}),
        "[1, 2]",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(read_events(str(path), defaults(EVENTS_SOURCE)))
    errors = [str(e) for e in items if isinstance(e, RecordError)]
    assert errors[0].startswith(f"{path}:2: not valid JSON")
    assert errors[1] == f"{path}:4: timestamp: timestamp 'yesterday' is not an ISO 8601 date or time"
    assert errors[2] == f"{path}:5: expected a JSON object (one event)"
    assert set(records(items)) == {"GOOD"}
    good = next(r for r in items if isinstance(r, RawRecord))
    assert str(good.location) == f"{path}:1"


def test_missing_export_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the events export"):
        list(read_events(str(tmp_path / "none.jsonl"), defaults(EVENTS_SOURCE)))


# --- tickets ---------------------------------------------------------------------------


HEADER = "id,account,priority,status,created,tags,subject\n"


def write_tickets(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_open_priorities_are_normalised(tmp_path: Path) -> None:
    path = write_tickets(tmp_path / "t.csv", [
        "1,A1,urgent,open,2026-10-30,,Down",
        "2,A1,P2,pending,2026-10-20,,Slow",
        "3,A1,high,solved,2026-10-20,,Fixed",
        "4,A1,normal,open,2026-11-20,,In the future",
        "5,A2,low,closed,2026-10-20,,Done",
    ])
    out = records(list(read_tickets(str(path), defaults(TICKETS_SOURCE))))
    assert out["A1"]["open_ticket_priorities"] == ["P1", "P2"]
    assert out["A2"] == {"account_id": "A2"}


def test_gaps_from_tags_and_subject_keywords(tmp_path: Path) -> None:
    path = write_tickets(tmp_path / "t.csv", [
        "1,A1,normal,solved,2026-10-27 09:30:00,sso|feature-request,Google login?",
        '2,A1,low,open,2026-10-23,"how-to, misc",Need an Audit Log export',
        "3,A1,low,open,2026-05-01,sandbox,Old request",          # outside 90 days
        "4,A1,low,open,2026-10-01,,auditlogging is not a match",  # whole words only
    ])
    context = defaults(
        TICKETS_SOURCE,
        gap_tags={"sso": "SSO", "sandbox": "Sandbox"},
        gap_keywords={"audit log": "Audit log"},
    )
    out = records(list(read_tickets(str(path), context)))
    assert out["A1"]["named_gaps"] == ["Audit log", "SSO"]
    assert out["A1"]["named_gaps_on"] == "2026-10-27"


def test_custom_priority_map_and_account_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,org,priority,status,created\n1,A1,Sev-1,open,2026-10-30\n",
                    encoding="utf-8")
    context = defaults(TICKETS_SOURCE, account_column="org", priority_map={"sev-1": "P1"})
    assert records(list(read_tickets(str(path), context)))["A1"]["open_ticket_priorities"] == ["P1"]


def test_ticket_errors_are_located(tmp_path: Path) -> None:
    path = write_tickets(tmp_path / "t.csv", [
        "1,A1,urgent,open,2026-10-30,,ok",
        "2,,urgent,open,2026-10-30,,no account",
        "3,A2,urgent,open,someday,,bad date",
        "4,A3,whenever,open,2026-10-30,,bad priority",
    ])
    items = list(read_tickets(str(path), defaults(TICKETS_SOURCE)))
    assert [str(e) for e in items if isinstance(e, RecordError)] == [
        f"{path}:3: account: missing account",
        f"{path}:4: created: 'someday' is not a date (expected YYYY-MM-DD)",
        f"{path}:5: priority: unknown priority 'whenever' (map it with "
        "sources.tickets.priority_map)",
    ]
    assert set(records(items)) == {"A1"}


def test_a_ticket_export_without_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,customer,priority\n1,A1,P1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r":1: the ticket export has no 'status', 'created', "
                                         r"'account' column"):
        list(read_tickets(str(path), defaults(TICKETS_SOURCE)))


# --- through the reader: options come from the ruleset ------------------------------------


def test_reader_passes_ruleset_options_and_date(tmp_path: Path) -> None:
    path = write_events(tmp_path / "e.jsonl", [track("u1", "2026-10-30", "Trial Limit Hit")])
    registry = build_registry()
    reader = AccountReader(registry, {}, as_of=AS_OF,
                           source_options={"events": {"gated_feature_events": ["Trial Limit Hit"]}})
    accounts = [a for a in reader.read(f"events:{path}") if not isinstance(a, RecordError)]
    assert accounts[0].values["gated_feature_attempts"] == [date(2026, 10, 30)]


def test_a_source_must_be_named_for_an_events_file(tmp_path: Path) -> None:
    registry = build_registry()
    assert registry.source_for("export.jsonl") is registry.sources["jsonl"]
    assert not EVENTS_SOURCE.matches("events.jsonl")
    assert not TICKETS_SOURCE.matches("tickets.csv")


# --- a byte that is not UTF-8 costs its line, not the export -----------------------------


def test_a_bad_byte_in_an_events_export_fails_its_line_only(tmp_path: Path) -> None:
    path = write_events(tmp_path / "e.jsonl", [
        track("u1", "2026-10-20"), track("u2", "2026-10-21", group="B2"),
        track("u3", "2026-10-22"),
    ])
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"Page", b"P\xe9ge")
    path.write_bytes(b"\n".join(lines))
    items = list(read_events(str(path), defaults(EVENTS_SOURCE)))
    errors = [str(e) for e in items if isinstance(e, RecordError)]
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}:2: not UTF-8 text (byte 0xe9); export the file as "
                                "UTF-8, or declare its encoding (--encoding")
    assert records(items)["A1"]["seats_active_history"] == [2]


def test_a_utf16_events_export_is_named_once_and_read_when_declared(tmp_path: Path) -> None:
    """Windows PowerShell writes UTF-16 with a byte-order mark: undeclared, the export stops
    at line 1 with one message (not one refusal per line); declared, it reads as UTF-8 does."""
    events = [track("u1", "2026-10-20"), track("u2", "2026-10-21", event="Zoë's Page"),
              track("u3", "2026-10-22", group="B2")]
    utf8 = write_events(tmp_path / "e8.jsonl", events)
    path = tmp_path / "e16.jsonl"
    path.write_bytes(utf8.read_text(encoding="utf-8").encode("utf-16"))
    with pytest.raises(InputError) as found:
        list(read_events(str(path), defaults(EVENTS_SOURCE)))
    assert str(found.value).startswith(
        f"{path}:1: this is UTF-16 text (Excel's \"Unicode Text\" writes it), not UTF-8: "
        "declare it with --encoding utf-16 (or encoding: utf-16 under sources: events: in "
        "the ruleset)")
    declared = list(read_events(str(path), defaults(EVENTS_SOURCE, encoding="utf-16")))
    assert not [e for e in declared if isinstance(e, RecordError)]
    assert records(declared) == records(list(read_events(str(utf8), defaults(EVENTS_SOURCE))))
    # UTF-8's mark on an export declared cp1252 contradicts the declaration.
    marked = tmp_path / "e8bom.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + utf8.read_bytes())
    with pytest.raises(InputError, match="UTF-8's byte-order mark"):
        list(read_events(str(marked), defaults(EVENTS_SOURCE, encoding="cp1252")))
    assert records(list(read_events(str(marked), defaults(EVENTS_SOURCE)))) == records(declared)


def test_encoding_reaches_the_events_export_from_the_command_line(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_bytes("".join(json.dumps(track(f"u{n}", "2026-10-2" + str(n),
                                                group="ACC-1001")) + "\n"
                               for n in range(1, 4)).encode("utf-16"))
    # --encoding declares every input's: a shop whose exports are all UTF-16.
    accounts = tmp_path / "accounts.csv"
    accounts.write_bytes((ROOT / "samples" / "accounts.csv").read_text(encoding="utf-8")
                         .encode("utf-16"))
    args = ["dry-run", "upsell_timing", "--data", str(accounts), "--data", f"events:{events}",
            "--as-of", "2026-11-02", "--format", "jsonl", "--no-state"]
    plain = run_cli(*args)
    assert plain.returncode == 2
    assert f"{events}:1: this is UTF-16 text" in plain.stderr
    declared = run_cli(*args, "--encoding", "utf-16")
    assert declared.returncode in (0, 1), declared.stderr
    assert "UTF-16" not in declared.stderr
    assert len(declared.stdout.splitlines()) == 50


def test_a_bad_byte_in_a_ticket_row_fails_that_row_and_its_account(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(HEADER.encode() + b"1,A1,urgent,open,2026-10-30,,ok\n"
                     b"2,A2,urgent,open,2026-10-30,,Caf\xe9 menu\n"
                     b"3,A\xe93,urgent,open,2026-10-30,,bad account\n"
                     b"4,A4,high,open,2026-10-30,,ok\n")
    items = list(read_tickets(str(path), defaults(TICKETS_SOURCE)))
    declare = ("not UTF-8 text (byte 0xe9); export the file as UTF-8, or declare its "
               "encoding (--encoding cp1252")
    errors = [str(e) for e in items if isinstance(e, RecordError)]
    assert [e.split(declare)[0] for e in errors] == [f"{path}:3: ", f"{path}:4: account: "]
    assert set(records(items)) == {"A1", "A4"}


def test_a_ticket_export_in_a_code_page_is_read_as_declared(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(HEADER.encode() + "1,Zoë Café,urgent,open,2026-10-30,sso,Zoë\n"
                     "2,A2,high,open,2026-10-30,,ok\n".encode("cp1252"))
    context = defaults(TICKETS_SOURCE, encoding="cp1252")
    items = list(read_tickets(str(path), context))
    assert not [e for e in items if isinstance(e, RecordError)]
    assert set(records(items)) == {"Zoë Café", "A2"}
    # The same export in UTF-8, declared cp1252 (--encoding meant for another file): each
    # row with an accent fails, never read as mojibake.
    path.write_bytes(path.read_bytes().decode("cp1252").encode("utf-8"))
    items = list(read_tickets(str(path), context))
    errors = [str(e) for e in items if isinstance(e, RecordError)]
    assert len(errors) == 1 and "UTF-8 text, but the file is declared cp1252" in errors[0]
    assert set(records(items)) == {"A2"}


def test_encoding_reaches_the_tickets_export_from_the_command_line(tmp_path: Path) -> None:
    tickets = tmp_path / "t.csv"
    tickets.write_bytes(HEADER.encode() + "1,ACC-1001,urgent,open,2026-10-30,,Café\n"
                        .encode("cp1252"))
    args = ["dry-run", "upsell_timing", "--data", str(ROOT / "samples" / "accounts.csv"),
            "--data", f"tickets:{tickets}", "--as-of", "2026-11-02", "--format", "jsonl",
            "--no-state"]
    plain = run_cli(*args)
    assert f"{tickets}:2: not UTF-8 text (byte 0xe9)" in plain.stderr
    declared = run_cli(*args, "--encoding", "cp1252")
    assert "byte 0xe9" not in declared.stderr, declared.stderr
    decided = next(d for d in map(json.loads, declared.stdout.splitlines())
                   if d["account_id"] == "ACC-1001")
    assert "open_p1_p2_ticket" in [f["id"] for f in decided["red_flags"]]
