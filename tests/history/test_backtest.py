"""Backtests: exact figures on a hand-built history, planted win rates recovered from the
generated histories, and point-in-time evaluation that no future fact can move.

Tolerance for recovered win rates: each band's (and upsell type's) win rate must lie
within 3 binomial standard errors of the planted rate, the standard error computed from
the planted rate and the number of deals in that group. Across 30 generator seeds of 300
accounts the largest deviation seen was 3.0 SE and the mean deviation of the top band was
+0.2 SE, i.e. no bias; the tests below use fixed seeds, so they are deterministic.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.errors import Location
from upsell_rules.history.backtest import (
    Point,
    Shape,
    evaluate_snapshots,
    parse_horizon,
    run_backtest,
    shape_of,
    wilson,
)
from upsell_rules.history.backtest_format import render
from upsell_rules.history.outcomes import Deal, Outcomes, read_outcomes
from upsell_rules.history.sample_history import BAND_WIN_RATES, generate_history, write_history
from upsell_rules.history.snapshots import Snapshot, SnapshotReader
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import load_ruleset

ROOT = Path(__file__).resolve().parents[2]
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")
SAMPLE = ROOT / "samples" / "history"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "upsell_rules", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def backtest_files(snapshots: Path, outcomes: Path, **kwargs: Any) -> dict[str, Any]:
    registry = default_registry()
    ruleset = load_ruleset(RULESET, registry)
    evaluator = Evaluator(ruleset, registry)
    reader = SnapshotReader(AccountReader(
        registry, ruleset.input_types()))
    replay = evaluate_snapshots(evaluator, reader.read(str(snapshots)))
    assert replay.errors == []
    history = read_outcomes(str(outcomes), registry)
    assert history.errors == []
    result = run_backtest(replay.points, history, shape_of(ruleset), **kwargs)
    result["_points"] = replay.points
    result["_hidden"] = replay.snapshots_with_future_facts
    return result


def standard_errors(rate: float, planted: float, deals: int) -> float:
    return abs(rate - planted) / math.sqrt(planted * (1 - planted) / deals)


# --- small pieces ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "days"), [("90d", 90), ("90", 90), ("13w", 91), (" 30D ", 30)])
def test_parse_horizon(text: str, days: int) -> None:
    assert parse_horizon(text) == days


@pytest.mark.parametrize("text", ["", "3m", "0d", "-5d", "ninety"])
def test_parse_horizon_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_horizon(text)


def test_wilson_interval() -> None:
    assert wilson(0, 0) is None
    low, high = wilson(50, 100) or (0, 0)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)
    low, high = wilson(0, 10) or (1, 1)
    assert low == 0.0 and 0.25 < high < 0.35


# --- a history small enough to work out by hand ----------------------------------------

SHAPE = Shape(
    bands=(("act_now", "Act now", 70.0), ("warming", "Warming", 50.0),
           ("monitor", "Monitor", 30.0), ("wait", "Wait", 0.0)),
    triggers=(("t1", "seat"), ("t2", "plan")),
    categories=("product", "relationship", "commercial"),
    weights=(0.4, 0.35, 0.25),
    scale=10.0,
    identity={"name": "hand", "version": "1", "sha256": "0" * 64},
)


def point(account: str, day: str, band: str, *, blocked: bool = False,
          triggers: tuple[str, ...] = ()) -> Point:
    return Point(account, date.fromisoformat(day), 0.0, band, blocked, None, (0.0, 0.0, 0.0),
                 triggers, ())


def deal(account: str, opened: str, closed: str, outcome: str, kind: str) -> Deal:
    return Deal(account, date.fromisoformat(opened), date.fromisoformat(closed), outcome, kind,
                None, Location("out.csv", 1))


HAND_POINTS = [
    point("A", "2026-01-01", "wait"),
    point("A", "2026-02-01", "act_now", triggers=("t1",)),
    point("A", "2026-03-01", "act_now", triggers=("t1",)),
    point("B", "2026-01-01", "warming", triggers=("t2",)),
    point("B", "2026-02-01", "warming", blocked=True, triggers=("t2",)),
    point("C", "2026-01-01", "monitor"),
]
HAND_OUTCOMES = Outcomes(
    deals=[
        deal("A", "2026-03-10", "2026-04-01", "won", "seat"),   # joins A 03-01, act_now
        deal("B", "2026-02-15", "2026-03-01", "lost", "plan"),  # joins B 02-01, warming
        deal("B", "2026-03-20", "2026-04-10", "won", "plan"),   # joins B 02-01 (47 d back)
        deal("C", "2026-06-15", "2026-07-01", "lost", "seat"),  # C's snapshot is 165 d old
        deal("D", "2026-01-10", "2026-02-01", "won", "addon"),  # D has no snapshots
    ],
    churned={"A": date(2026, 5, 15)},
)


def test_hand_built_history_gives_the_figures_worked_out_by_hand() -> None:
    r = run_backtest(HAND_POINTS, HAND_OUTCOMES, SHAPE, 90, date(2026, 12, 31))
    assert r["volume"] == {"snapshots": 6, "accounts": 3, "deals": 5, "deals_matched": 3,
                           "deals_without_snapshot": 2, "deals_unknown_account": 1,
                           "deals_before_first_snapshot": 0, "deals_snapshot_too_old": 1,
                           "unknown_accounts": ["D"]}
    assert (r["overall"]["won"], r["overall"]["deals"], r["overall"]["lost"]) == (2, 3, 1)
    bands = {b["band"]: (b["snapshots"], b["deals"], b["won"]) for b in r["by_band"]}
    assert bands == {"act_now": (2, 1, 1), "warming": (2, 2, 1), "monitor": (1, 0, 0),
                     "wait": (1, 0, 0)}
    assert r["lift"]["top_win_rate"] == 1.0 and r["lift"]["rest_win_rate"] == 0.5
    # Three deals support no verdict: every judged figure says so instead of "ok".
    assert r["lift"]["ratio"] == 2.0 and r["lift"]["status"] == "too_few"
    assert r["surfaced"]["surfaced"]["deals"] == 1
    assert r["surfaced"]["not_surfaced"] == {"deals": 2, "won": 1, "win_rate": 0.5,
                                              "ci95": r["surfaced"]["not_surfaced"]["ci95"]}
    triggers = {t["trigger"]: (t["snapshots"], t["deals"], t["won"]) for t in r["by_trigger"]}
    assert triggers == {"t1": (2, 1, 1), "t2": (2, 2, 1), "(no trigger)": (2, 0, 0)}
    types = [(t["upsell_type"], t["deals"], t["won"], t["status"]) for t in r["by_upsell_type"]]
    assert types == [("seat", 1, 1, "too_few"), ("plan", 2, 1, "too_few")]
    # A was first surfaced on 02-01 and its deal opened on 03-10: 37 days ahead. B's
    # second win has no snapshot between its previous deal's close and its opening, and D
    # has no snapshots at all: neither can be judged.
    assert r["lead_time"]["median_days"] == 37 and r["lead_time"]["wins_surfaced"] == 1
    assert r["never_surfaced"] == {"wins_with_history": 1, "never_surfaced": 0, "share": 0.0,
                                   "wins_without_history": 2}
    # A churned 44 days after its won upsell; B and D did not. Of the six snapshots only
    # A's 03-01 one saw churn within 90 days.
    assert r["churn"]["after_won_upsell"] == {"observed": 3, "churned": 1, "rate": 1 / 3}
    assert r["churn"]["base"] == {"observed": 6, "churned": 1, "rate": 1 / 6}
    assert r["churn"]["status"] == "too_few"


def test_churn_windows_that_end_after_the_data_are_left_out_whatever_happened() -> None:
    r = run_backtest(HAND_POINTS, HAND_OUTCOMES, SHAPE, 90, date(2026, 6, 1))
    # A's win closed 04-01 and B's 04-10: their windows run past 06-01, so both are left
    # out, A's too although A churned on 05-15 inside it (keeping the churns seen early
    # in cut-off windows while dropping the stays would count only churners near the end
    # of the data). D's closed 02-01: its window ended 05-02, no churn.
    assert r["churn"]["after_won_upsell"] == {"observed": 1, "churned": 0, "rate": 0.0}
    # Every snapshot's window ends by 06-01 (C 01-01 + 90 = 04-01, A 03-01 + 90 = 05-30);
    # A's 03-01 window holds the churn.
    assert r["churn"]["base"] == {"observed": 6, "churned": 1, "rate": 1 / 6}


def test_deals_without_a_decision_say_why() -> None:
    outcomes = Outcomes(deals=[
        *HAND_OUTCOMES.deals,
        deal("A", "2026-01-01", "2026-01-20", "won", "seat"),  # on A's first snapshot day
        deal("Z", "2026-03-01", "2026-03-20", "lost", "seat"),  # Z has no snapshots
    ])
    r = run_backtest(HAND_POINTS, outcomes, SHAPE, 90, date(2026, 12, 31))
    volume = r["volume"]
    assert volume["deals_without_snapshot"] == 4
    assert (volume["deals_unknown_account"], volume["deals_before_first_snapshot"],
            volume["deals_snapshot_too_old"]) == (2, 1, 1)
    assert volume["unknown_accounts"] == ["D", "Z"]
    assert ("3 of 7 (4 had no snapshot within 90 d before opening: 2 for an account with no "
            "snapshot, 1 opened before the first snapshot, 1 latest snapshot too old)"
            in render(r, "markdown"))


def test_a_longer_horizon_joins_older_snapshots() -> None:
    r = run_backtest(HAND_POINTS, HAND_OUTCOMES, SHAPE, 200, date(2026, 12, 31))
    assert r["volume"]["deals_matched"] == 4


def test_every_format_renders_the_same_figures() -> None:
    r = run_backtest(HAND_POINTS, HAND_OUTCOMES, SHAPE, 90, date(2026, 12, 31))
    as_json = json.loads(render(r, "json"))
    assert as_json["overall"]["won"] == 2
    markdown = render(r, "markdown")
    assert "## By band (the decision in force when the deal opened)" in markdown
    assert "| act_now | 2 | 33.3% | 1 | 1 | 100.0% |" in markdown
    table = render(r, "table")
    assert "By upsell type" in table and "66.7% (2 of 3" in table


# --- planted ground truth ----------------------------------------------------------------


def test_the_shipped_sample_history_recovers_the_planted_band_win_rates() -> None:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    assert truth["truth"] == "band"
    r = backtest_files(SAMPLE / "snapshots.csv", SAMPLE / "outcomes.csv")
    assert r["volume"]["deals_without_snapshot"] == 0
    for row in r["by_band"]:
        planted = truth["band_win_rates"][row["band"]]
        assert row["deals"] == truth["by_band"][row["band"]]["deals"]
        assert standard_errors(row["win_rate"], planted, row["deals"]) <= 3, row
    for row in r["by_upsell_type"]:
        expected = truth["by_upsell_type"][row["upsell_type"]]
        assert row["deals"] == expected["deals"]
        assert standard_errors(row["win_rate"], expected["expected_win_rate"],
                               row["deals"]) <= 3, row
    # Churn was planted lower after a won upsell (x0.4 for 90 days) than in the base.
    assert r["churn"]["status"] == "healthy"


def test_a_larger_generated_history_recovers_the_planted_rates_closely(
    tmp_path: Path,
) -> None:
    history = generate_history(600, 3)
    write_history(history, tmp_path, "jsonl")
    r = backtest_files(tmp_path / "snapshots.jsonl", tmp_path / "outcomes.jsonl")
    for row in r["by_band"]:
        planted = BAND_WIN_RATES[row["band"]]
        assert row["deals"] >= 60
        assert standard_errors(row["win_rate"], planted, row["deals"]) <= 3, row
        # With this many deals, 3 SE is at most about 0.11; the top band's is about 0.07.
        assert abs(row["win_rate"] - planted) <= 0.11, row
    assert r["lift"]["ratio"] > 1.5


# --- nothing from the future ---------------------------------------------------------------


def _plus(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def inject_future_facts(source: Path, target: Path) -> int:
    """Copy a snapshots CSV, adding facts dated after each snapshot; return how many."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
        fields = list(rows[0])
    added = 0
    for row in rows:
        day = row["snapshot_date"]
        attempts = [a for a in row["gated_feature_attempts"].split("|") if a]
        row["gated_feature_attempts"] = "|".join(
            [*attempts, _plus(day, 1), _plus(day, 3), _plus(day, 9)])
        added += 1
        # Empty fields get a value that only became true after the snapshot; a filled
        # field is left alone (overwriting it would also remove what was known then).
        future = {
            "success_milestone_on": _plus(day, 2),
            "champion_last_engaged_on": _plus(day, 1),
            "champion_changed_on": _plus(day, 4),
            "downgrade_requested_on": _plus(day, 6),
            "funding_announced_on": _plus(day, 1),
            "last_renewal_date": _plus(day, 20),
        }
        for name, value in future.items():
            if not row[name]:
                row[name] = value
                added += 1
        if not row["nps_responded_on"]:
            row["nps_score"], row["nps_responded_on"] = "1", _plus(day, 5)
            added += 1
        if not row["named_gaps"]:
            row["named_gaps"], row["named_gaps_on"] = "sso|audit_log", _plus(day, 2)
            added += 1
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return added


def test_moving_future_dated_facts_into_the_snapshots_changes_nothing(tmp_path: Path) -> None:
    leaky = tmp_path / "snapshots.csv"
    added = inject_future_facts(SAMPLE / "snapshots.csv", leaky)
    assert added > 5000
    clean = backtest_files(SAMPLE / "snapshots.csv", SAMPLE / "outcomes.csv")
    dirty = backtest_files(leaky, SAMPLE / "outcomes.csv")
    assert clean["_hidden"] == 0
    assert dirty["_hidden"] == len(dirty["_points"])  # every snapshot had some
    assert dirty["_points"] == clean["_points"]
    for key in clean:
        if not key.startswith("_"):
            assert dirty[key] == clean[key], key


def test_without_the_point_in_time_filter_those_facts_would_change_decisions(
    tmp_path: Path,
) -> None:
    """The control for the test above: the injected facts reach the rules. Every
    account's signals differ without the filter. The default ruleset itself ignores the
    facts dated after the as-of date (a milestone, a gap, a downgrade request, a renewal
    not yet made), so the decisions are those of a ruleset that reads one naively, as a
    team's own might: its mid-contract tier without the guard against a renewal not yet
    made."""
    leaky = tmp_path / "snapshots.csv"
    inject_future_facts(SAMPLE / "snapshots.csv", leaky)
    registry = default_registry()
    guarded = ("(days_since_renewal is missing or days_since_renewal < 0\n"
               "                 or days_since_renewal > 30)")
    text = Path(RULESET).read_text(encoding="utf-8")
    assert text.count(guarded) == 1
    naive = tmp_path / Path(RULESET).name
    naive.write_text(text.replace(guarded, "(days_since_renewal is missing "
                                           "or days_since_renewal > 30)"), encoding="utf-8")
    ruleset = load_ruleset(str(naive), registry)
    evaluator = Evaluator(ruleset, registry)
    accounts = AccountReader(registry,
                             ruleset.input_types())
    filtered = SnapshotReader(accounts)
    changed = signals_changed = 0
    items = [i for i in filtered.read(str(leaky)) if isinstance(i, Snapshot)][:400]
    for item in items:
        with_filter = evaluator.decide(item.account, item.on)
        unfiltered = _unfiltered(accounts, leaky, item)
        without_filter = evaluator.decide(unfiltered, item.on)
        changed += _gist(with_filter) != _gist(without_filter)
        signals_changed += (evaluator.signals(item.account, item.on)
                            != evaluator.signals(unfiltered, item.on))
    assert signals_changed == len(items) == 400
    assert changed >= 5, changed


def _gist(decision: dict[str, Any]) -> tuple[Any, ...]:
    return (decision["score"], decision["band"], decision["blocked"],
            [t["id"] for t in decision["triggers"]], [f["id"] for f in decision["red_flags"]])


_CACHE: dict[tuple[str, str], Account] = {}


def _unfiltered(reader: AccountReader, path: Path, item: Snapshot) -> Account:
    """The same record coerced but not filtered (what a naive backtest would use)."""
    if not _CACHE:
        from upsell_rules.plugin.types import RawRecord

        with path.open(encoding="utf-8", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                values = {k: v for k, v in row.items() if v}
                raw = RawRecord(values=values, location=Location(str(path), line))
                account = next(iter(reader.coerce_record(raw, {})))
                assert isinstance(account, Account)
                _CACHE[(row["account_id"], row["snapshot_date"])] = account
    return _CACHE[(item.account.account_id, item.on.isoformat())]


# --- the command -------------------------------------------------------------------------


def test_backtest_command_json_on_the_sample() -> None:
    done = run_cli("backtest", RULESET, "--snapshots", str(SAMPLE / "snapshots.csv"),
                   "--outcomes", str(SAMPLE / "outcomes.csv"), "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [b["band"] for b in result["by_band"]] == ["act_now", "warming", "monitor", "wait"]
    assert result["horizon_days"] == 90
    rows = len((SAMPLE / "snapshots.csv").read_text().splitlines()) - 1
    assert f"snapshots {rows} decided, 0 failed" in done.stderr


def test_backtest_command_markdown_and_table(tmp_path: Path) -> None:
    out = tmp_path / "bt.md"
    done = run_cli("backtest", RULESET, "--snapshots", str(SAMPLE / "snapshots.csv"),
                   "--outcomes", str(SAMPLE / "outcomes.csv"), "--format", "markdown",
                   "--horizon", "13w", "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("# Backtest: upsell_timing") and "Horizon 91 days" in text
    done = run_cli("backtest", RULESET, "--snapshots", str(SAMPLE / "snapshots.csv"),
                   "--outcomes", str(SAMPLE / "outcomes.csv"))
    assert done.returncode == 0
    assert "By band" in done.stdout and "healthy range" in done.stdout


def test_backtest_command_reports_bad_rows_and_exits_1(tmp_path: Path) -> None:
    snaps = tmp_path / "s.csv"
    snaps.write_text("snapshot_date,account_id,health_score\n2026-01-01,A1,80\n"
                     "2026-01-01,A2,high\n", encoding="utf-8")
    outs = tmp_path / "o.csv"
    outs.write_text("account_id,opened_on,closed_on,outcome\nA1,2026-01-10,2026-02-01,won\n"
                    "A2,2026-01-10,2026-02-01,tie\n", encoding="utf-8")
    done = run_cli("backtest", RULESET, "--snapshots", str(snaps), "--outcomes", str(outs),
                   "--format", "json")
    assert done.returncode == 1
    assert f"{snaps}:3: health_score: 'high' is not a number" in done.stderr
    assert f"{outs}:3: outcome: 'tie' is not one of won, lost, no_decision" in done.stderr
    assert json.loads(done.stdout)["overall"]["deals"] == 1


def test_backtest_command_usage_errors() -> None:
    done = run_cli("backtest", RULESET, "--snapshots", str(SAMPLE / "snapshots.csv"),
                   "--outcomes", str(SAMPLE / "outcomes.csv"), "--horizon", "3 months")
    assert done.returncode == 2 and "is not a horizon" in done.stderr


def test_cli_names_repeated_deals_and_unknown_accounts_and_counts_failed_rows(
    tmp_path: Path,
) -> None:
    snapshots = tmp_path / "snapshots.csv"
    snapshots.write_text("snapshot_date,account_id,health_score\n"
                         "2026-01-01,ACC-1,82\n2026-02-01,ACC-1,84\n", encoding="utf-8")
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text(
        "deal_id,account_id,opened_on,closed_on,outcome,amount\n"
        "D-1,ACC-1,2026-01-10,2026-02-01,won,1000\n"
        "D-1,ACC-1,2026-01-10,2026-02-01,won,1000\n"       # 3: the export repeated a row
        "D-2,ACC-1,2026-13-10,2026-02-01,won,lots\n"       # 4: two problems, one row
        "D-3,acc-1,2026-02-10,2026-03-01,lost,\n",         # 5: an id no snapshot has
        encoding="utf-8")
    done = run_cli("backtest", RULESET, "--snapshots", str(snapshots), "--outcomes",
                   str(outcomes), "--format", "json")
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if "no record carries" not in line]
    assert lines == [
        f"upsell-rules: error: {outcomes}:3: deal_id: deal 'D-1' appears again (first at "
        "line 2); each deal counts once, so this row is left out",
        f"upsell-rules: error: {outcomes}:4: opened_on: '2026-13-10' is not a date "
        "(expected YYYY-MM-DD)",
        f"upsell-rules: error: {outcomes}:4: amount: 'lots' is not a number",
        f"upsell-rules: warning: {outcomes}: 1 deal(s) name 1 account(s) that no snapshot "
        "has (acc-1); they are left out of every rate (check that both files use the same "
        "account ids)",
        "snapshots 2 decided, 0 failed; deals 2, outcome rows failed 2",
    ]
    result = json.loads(done.stdout)
    assert result["overall"]["deals"] == 1 and result["overall"]["won"] == 1
    assert result["volume"]["unknown_accounts"] == ["acc-1"]
