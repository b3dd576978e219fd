"""The sample-history generator: deterministic, honest about time, readable by the readers."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upsell_rules.history.outcomes import read_outcomes
from upsell_rules.history.sample_history import History, add_months, generate_history, write_history
from upsell_rules.history.snapshots import Snapshot, SnapshotReader
from upsell_rules.io.records import AccountReader
from upsell_rules.io.synthetic import CONTRACT_FIELDS
from upsell_rules.plugin.build import default_registry

ROOT = Path(__file__).resolve().parents[2]

DATE_FIELDS = ("customer_since", "success_milestone_on", "champion_last_engaged_on",
               "champion_changed_on", "last_renewal_date", "funding_announced_on",
               "nps_responded_on", "downgrade_requested_on", "named_gaps_on")


@pytest.fixture(scope="module")
def small() -> History:
    return generate_history(40, 5)


def test_the_same_seed_gives_the_same_history(small: History) -> None:
    again = generate_history(40, 5)
    assert again == small
    assert generate_history(40, 6).snapshots != again.snapshots


def test_snapshots_hold_nothing_dated_after_their_own_date(small: History) -> None:
    for record in small.snapshots:
        day = record["snapshot_date"]
        for name in DATE_FIELDS:
            assert record.get(name, day) <= day, (name, record)
        assert all(a <= day for a in record.get("gated_feature_attempts", []))
        assert record["renewal_date"] >= day  # the one date that is planned ahead


def test_snapshots_are_monthly_and_stop_when_an_account_churns(small: History) -> None:
    churned = {row["account_id"]: row["churned_on"] for row in small.outcomes
               if "churned_on" in row}
    assert churned, "some accounts churn"
    for record in small.snapshots:
        day = date.fromisoformat(record["snapshot_date"])
        assert day.day == 1 and date(2025, 11, 1) <= day <= date(2026, 10, 1)
        gone = churned.get(record["account_id"])
        assert gone is None or record["snapshot_date"] < gone
        assert set(record) <= {"snapshot_date", *CONTRACT_FIELDS}


def test_deals_close_after_they_open_one_at_a_time(small: History) -> None:
    deals = [r for r in small.outcomes if "outcome" in r]
    assert deals
    by_account: dict[str, list[dict[str, object]]] = {}
    for row in deals:
        assert row["opened_on"] < row["closed_on"]
        assert row["outcome"] in ("won", "lost", "no_decision")
        by_account.setdefault(str(row["account_id"]), []).append(row)
    for rows in by_account.values():
        for earlier, later in itertools.pairwise(rows):
            assert str(earlier["closed_on"]) < str(later["opened_on"])


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_written_files_read_back_without_errors(tmp_path: Path, small: History, fmt: str) -> None:
    paths = write_history(small, tmp_path, fmt)
    registry = default_registry()
    reader = SnapshotReader(AccountReader(registry, {}))
    items = list(reader.read(str(paths[0])))
    assert all(isinstance(i, Snapshot) and not i.hidden for i in items)
    assert len(items) == len(small.snapshots)
    outcomes = read_outcomes(str(paths[1]), registry)
    assert outcomes.errors == []
    truth = json.loads(paths[2].read_text())
    assert truth["seed"] == 5 and truth["band_win_rates"]["act_now"] == 0.55


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="truth must be"):
        generate_history(5, 1, truth="vibes")
    with pytest.raises(ValueError, match="at least 1"):
        generate_history(0, 1)


def test_add_months_clips_to_the_end_of_the_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2025, 11, 1), 14) == date(2027, 1, 1)
    assert add_months(date(2026, 3, 15), -6) == date(2025, 9, 15)


@pytest.mark.parametrize("folder", ["history", "history-product"])
def test_the_shipped_samples_are_what_the_generator_makes(tmp_path: Path, folder: str) -> None:
    sample = ROOT / "samples" / folder
    truth = json.loads((sample / "truth.json").read_text())
    history = generate_history(truth["accounts"], truth["seed"],
                               date.fromisoformat(truth["start"]), truth["months"],
                               truth=truth["truth"])
    write_history(history, tmp_path)
    for name in ("snapshots.csv", "outcomes.csv", "truth.json"):
        assert (tmp_path / name).read_bytes() == (sample / name).read_bytes(), name


def test_sample_history_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "upsell_rules", "sample-history", "--accounts", "12",
         "--seed", "3", "--months", "4", "--format", "jsonl", "--output-dir",
         str(tmp_path / "h")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == [
        "outcomes.jsonl", "snapshots.jsonl", "truth.json"]
    assert "snapshots of 12 accounts" in done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "upsell_rules", "sample-history", "--truth", "vibes",
         "--output-dir", str(tmp_path / "x")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 2


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), accounts=st.integers(1, 40), months=st.integers(1, 14))
def test_no_generated_deal_closes_or_churns_before_it_opens(
    seed: int, accounts: int, months: int
) -> None:
    history = generate_history(accounts, seed, months=months)
    for row in history.outcomes:
        opened, closed = row.get("opened_on"), row.get("closed_on")
        if opened is not None:
            assert opened <= closed
        if opened is not None and "churned_on" in row:
            assert closed < row["churned_on"], row


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), accounts=st.integers(1, 60), months=st.integers(1, 14))
def test_every_account_in_the_outcomes_has_a_snapshot_before_its_churn(
    seed: int, accounts: int, months: int
) -> None:
    """An account that churned before the first snapshot is not in the generated data."""
    history = generate_history(accounts, seed, months=months)
    first_seen: dict[str, date] = {}
    for record in history.snapshots:
        day = record["snapshot_date"]
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        first_seen.setdefault(record["account_id"], day)
    for row in history.outcomes:
        assert row["account_id"] in first_seen, row
        churned = row.get("churned_on")
        if churned is not None:
            churned = churned if isinstance(churned, date) else date.fromisoformat(churned)
            assert first_seen[row["account_id"]] <= churned, row
