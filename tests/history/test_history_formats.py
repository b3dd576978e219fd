"""History formats: snapshots read point-in-time, outcomes validated with located errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from upsell_rules.errors import RecordError
from upsell_rules.history.outcomes import read_outcomes
from upsell_rules.history.snapshots import Snapshot, SnapshotReader, point_in_time
from upsell_rules.io.records import AccountReader
from upsell_rules.plugin.build import default_registry

HEADER = "snapshot_date,account_id,account_name,health_score,gated_feature_attempts\n"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def read_snapshots(path: str) -> list[Snapshot | RecordError]:
    return list(SnapshotReader(AccountReader(default_registry(), {})).read(path))


# --- point_in_time ----------------------------------------------------------------


TYPES = {
    "champion_changed_on": "date",
    "renewal_date": "date",
    "nps_responded_on": "date",
    "nps_score": "integer",
    "gated_feature_attempts": "date_list",
    "health_score": "number",
}


def test_point_in_time_hides_future_dates_and_keeps_the_rest() -> None:
    cutoff = date(2026, 3, 1)
    values = {
        "champion_changed_on": date(2026, 3, 2),  # the day after: hidden
        "renewal_date": date(2026, 9, 1),  # scheduled: kept
        "nps_responded_on": date(2026, 4, 1),  # hidden, with its score
        "nps_score": 3,
        "gated_feature_attempts": [date(2026, 2, 20), date(2026, 3, 1), date(2026, 3, 5)],
        "health_score": 80,
    }
    known, hidden = point_in_time(values, TYPES, cutoff)
    assert known == {
        "renewal_date": date(2026, 9, 1),
        "gated_feature_attempts": [date(2026, 2, 20), date(2026, 3, 1)],
        "health_score": 80,
    }
    assert set(hidden) == {"champion_changed_on", "nps_responded_on", "nps_score",
                           "gated_feature_attempts"}
    assert values["nps_score"] == 3, "the input is not modified"


def test_point_in_time_keeps_a_fact_dated_on_the_snapshot_day() -> None:
    values = {"champion_changed_on": date(2026, 3, 1)}
    assert point_in_time(values, TYPES, date(2026, 3, 1)) == (values, ())


def test_a_list_of_only_future_dates_becomes_missing() -> None:
    values = {"gated_feature_attempts": [date(2026, 5, 1)]}
    assert point_in_time(values, TYPES, date(2026, 3, 1)) == ({}, ("gated_feature_attempts",))


def test_more_scheduled_fields_can_be_named() -> None:
    values = {"champion_changed_on": date(2027, 1, 1)}
    known, hidden = point_in_time(values, TYPES, date(2026, 3, 1),
                                  scheduled=("champion_changed_on",))
    assert known == values and hidden == ()


# --- snapshots file ---------------------------------------------------------------


def test_snapshots_csv_reads_one_account_per_date(tmp_path: Path) -> None:
    path = write(tmp_path, "snaps.csv", HEADER
                 + "2026-01-01,A1,Acme,80,2025-12-20|2026-01-05\n"
                 + "2026-02-01,A1,Acme,82,2025-12-20|2026-01-05\n")
    items = read_snapshots(path)
    assert all(isinstance(i, Snapshot) for i in items)
    first, second = items
    assert isinstance(first, Snapshot) and isinstance(second, Snapshot)
    assert (first.on, second.on) == (date(2026, 1, 1), date(2026, 2, 1))
    # The January attempt was in the export but happened after the first snapshot.
    assert first.account.values["gated_feature_attempts"] == [date(2025, 12, 20)]
    assert first.hidden == ("gated_feature_attempts",)
    assert second.hidden == ()


def test_snapshot_errors_are_located_and_other_rows_survive(tmp_path: Path) -> None:
    path = write(tmp_path, "snaps.csv", HEADER
                 + "2026-01-01,A1,Acme,80,\n"          # line 2: fine
                 + ",A2,Beta,70,\n"                    # line 3: no snapshot_date
                 + "2026-13-01,A3,Gamma,70,\n"         # line 4: not a date
                 + "2026-01-01,A1,Acme again,81,\n"    # line 5: duplicate (A1, date)
                 + "2026-01-01,A4,Delta,abc,\n"        # line 6: bad number
                 + "2026-02-01,A1,Acme,83,\n")         # line 7: fine
    items = read_snapshots(path)
    errors = [i for i in items if isinstance(i, RecordError)]
    good = [i for i in items if isinstance(i, Snapshot)]
    # The bad health_score costs that one signal, not the snapshot (docs/data.md).
    assert [(s.account.account_id, s.on.isoformat()) for s in good] == [
        ("A1", "2026-01-01"), ("A4", "2026-01-01"), ("A1", "2026-02-01")]
    assert "health_score" not in good[1].account.values
    assert [w.reason for w in good[1].account.warnings] == ["is not a number"]
    messages = [str(e) for e in errors]
    assert messages[0] == (f"{path}:3: snapshot_date: missing required value (the day this "
                           "snapshot was taken)")
    assert messages[1] == (f"{path}:4: snapshot_date: '2026-13-01' is not a date "
                           "(expected YYYY-MM-DD)")
    assert messages[2] == (f"{path}:5: snapshot_date: account 'A1' already has a snapshot on "
                           "2026-01-01 (first at line 2)")
    assert len(messages) == 3
    assert errors[1].value == "2026-13-01" and errors[1].account_id == "A3"


def test_snapshots_jsonl_is_read_too(tmp_path: Path) -> None:
    rows = [{"snapshot_date": "2026-01-01", "account_id": "A1", "health_score": 80},
            {"snapshot_date": "2026-01-01", "account_id": "A2", "health_score": "x"}]
    path = write(tmp_path, "snaps.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    items = read_snapshots(path)
    assert isinstance(items[0], Snapshot)
    second = items[1]
    assert isinstance(second, Snapshot)
    assert [(w.field, w.value) for w in second.account.warnings] == [("health_score", "x")]


# --- outcomes file ----------------------------------------------------------------

OUT_HEADER = "deal_id,account_id,opened_on,closed_on,outcome,upsell_type,amount,churned_on\n"


def test_outcomes_read_deals_and_churn_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "out.csv", OUT_HEADER
                 + "D1,A1,2026-01-05,2026-02-01,won,seat,5000,\n"
                 + "D2,A2,2026-01-05,2026-02-01,No Decision,Add-on,,2026-06-01\n"
                 + ",A3,,,,,,2026-04-01\n")
    outcomes = read_outcomes(path, default_registry())
    assert outcomes.errors == []
    assert [(d.account_id, d.outcome, d.upsell_type, d.amount) for d in outcomes.deals] == [
        ("A1", "won", "seat", 5000.0), ("A2", "no_decision", "addon", None)]
    assert outcomes.churned == {"A2": date(2026, 6, 1), "A3": date(2026, 4, 1)}
    assert outcomes.last_date == date(2026, 6, 1)


def test_outcome_errors_name_file_line_field_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, "out.csv", OUT_HEADER
                 + "D1,A1,2026-01-05,2026-02-01,won,seat,5000,\n"             # 2 fine
                 + "D2,A2,2026-01-05,2026-02-01,maybe,seat,,\n"               # 3 outcome
                 + "D3,A3,2026-03-05,2026-02-01,lost,plan,,\n"                # 4 closed<opened
                 + "D4,A4,,2026-02-01,lost,plan,,\n"                          # 5 no opened_on
                 + "D5,A5,2026-01-05,2026-02-01,won,seat,lots,\n"             # 6 amount text
                 + "D6,A6,2026-01-05,2026-02-01,won,seat,-5,\n"               # 7 negative
                 + "D7,A7,2026-01-05,2026-02-01,won,seat,,2025-12-01\n"       # 8 churn<opened
                 + "D8,,2026-01-05,2026-02-01,won,seat,,\n"                   # 9 no account
                 + "D9,A1,2026-03-05,2026-04-01,lost,seat,,2026-09-01\n"      # 10 fine
                 + "D10,A1,2026-05-05,2026-06-01,lost,seat,,2026-10-01\n"     # 11 churn clash
                 + ",A9,,,,,,\n")                                             # 12 empty row
    outcomes = read_outcomes(path, default_registry())
    got = [str(e) for e in outcomes.errors]
    assert got == [
        f"{path}:3: outcome: 'maybe' is not one of won, lost, no_decision",
        f"{path}:4: closed_on: 2026-02-01 is before opened_on 2026-03-05",
        f"{path}:5: opened_on: missing required value (a deal needs opened_on and closed_on)",
        f"{path}:6: amount: 'lots' is not a number",
        f"{path}:7: amount: -5 is negative",
        f"{path}:8: churned_on: 2025-12-01 is before the deal opened (2026-01-05)",
        f"{path}:9: account_id: missing required value",
        f"{path}:11: churned_on: 2026-10-01 contradicts churned_on 2026-09-01 at line 10 "
        "for the same account",
        f"{path}:12: outcome: the row has neither a deal (opened_on, closed_on, outcome) nor "
        "a churned_on date",
    ]
    assert [d.deal_id for d in outcomes.deals] == ["D1", "D9"]
    assert outcomes.errors[3].field == "amount" and outcomes.errors[3].value == "lots"
    assert outcomes.rows == 11


def test_outcomes_jsonl_locates_rows_by_line(tmp_path: Path) -> None:
    rows = [{"account_id": "A1", "opened_on": "2026-01-05", "closed_on": "2026-02-01",
             "outcome": "won"},
            {"account_id": "A2", "opened_on": "2026-01-05", "closed_on": "2026-02-31",
             "outcome": "won"}]
    path = write(tmp_path, "out.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    outcomes = read_outcomes(path, default_registry())
    assert [str(e) for e in outcomes.errors] == [
        f"{path}:2: closed_on: '2026-02-31' is not a date (expected YYYY-MM-DD)"]
    assert len(outcomes.deals) == 1


def test_an_unreadable_outcomes_file_is_one_clear_error(tmp_path: Path) -> None:
    from upsell_rules.errors import InputError

    path = write(tmp_path, "out.txt", "hello")
    with pytest.raises(InputError, match="no source reads this file"):
        read_outcomes(path, default_registry())


# --- repeated deals -------------------------------------------------------------------


def test_a_repeated_deal_id_is_a_located_error_and_the_first_row_counts(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "out.csv", OUT_HEADER
                 + "D1,A1,2026-01-05,2026-02-01,won,seat,5000,\n"    # 2
                 + "D2,A2,2026-01-05,2026-02-01,lost,plan,,\n"       # 3
                 + "D1,A1,2026-01-05,2026-02-01,won,seat,5000,\n"    # 4 the same export row
                 + "D2,A2,2026-01-06,2026-02-03,won,plan,,\n")       # 5 same id, other values
    outcomes = read_outcomes(path, default_registry())
    assert [str(e) for e in outcomes.errors] == [
        f"{path}:4: deal_id: deal 'D1' appears again (first at line 2); each deal counts "
        "once, so this row is left out",
        f"{path}:5: deal_id: deal 'D2' appears again (first at line 3); each deal counts "
        "once, so this row is left out",
    ]
    assert [(d.deal_id, d.outcome) for d in outcomes.deals] == [("D1", "won"), ("D2", "lost")]
    assert (outcomes.rows, outcomes.failed_rows) == (4, 2)


def test_an_identical_row_without_deal_id_is_a_repeat_but_a_different_one_is_not(
    tmp_path: Path,
) -> None:
    rows = [{"account_id": "A1", "opened_on": "2026-01-05", "closed_on": "2026-02-01",
             "outcome": "won", "upsell_type": "seat", "amount": 900},
            {"account_id": "A1", "opened_on": "2026-01-05", "closed_on": "2026-02-01",
             "outcome": "won", "upsell_type": "seat", "amount": 900},
            {"account_id": "A1", "opened_on": "2026-01-05", "closed_on": "2026-02-01",
             "outcome": "won", "upsell_type": "addon", "amount": 900}]
    path = write(tmp_path, "out.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    outcomes = read_outcomes(path, default_registry())
    assert [str(e) for e in outcomes.errors] == [
        f"{path}:2: deal_id: the same deal as line 1 (same account, dates, outcome, type and "
        "amount); left out, as a repeated row would count the deal twice (give each deal a "
        "deal_id if these are two deals)"]
    assert [d.upsell_type for d in outcomes.deals] == ["seat", "addon"]


def test_a_row_with_several_problems_fails_once(tmp_path: Path) -> None:
    path = write(tmp_path, "out.csv", OUT_HEADER
                 + "D1,A1,2026-13-05,2026-02-01,won,seat,lots,\n"
                 + "D2,A1,2026-01-05,2026-02-01,won,seat,10,\n")
    outcomes = read_outcomes(path, default_registry())
    assert len(outcomes.errors) == 2
    assert (outcomes.rows, outcomes.failed_rows, len(outcomes.deals)) == (2, 1, 1)
