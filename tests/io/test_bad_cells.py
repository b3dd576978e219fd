"""One bad cell costs one signal, not the account; out-of-range values likewise.

The value is left out (the signal is missing for that account), the decision lists it
in ``missing_signals`` and in ``data_warnings`` (field, value, reason), stderr says
where it was; ``required: true`` on the signal fails the record as before. The account
id stays required.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from upsell_rules.cli.main import cli
from upsell_rules.errors import RecordError
from upsell_rules.io.records import Account, AccountReader, DataWarning
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.ruleset.model import SignalDef

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
SAMPLE = ROOT / "samples" / "accounts.csv"
AS_OF = "2026-11-02"


def _reader(**signals: SignalDef) -> AccountReader:
    return AccountReader(default_registry(), {}, signals=signals)


def _one(reader: AccountReader, path: Path) -> Account | RecordError:
    [item] = list(reader.read(str(path)))
    return item


def test_a_bad_number_makes_only_that_signal_missing(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("account_id,health_score,seats_licensed\nA1,abc,12\n", encoding="utf-8")
    account = _one(_reader(), path)
    assert isinstance(account, Account)
    assert account.values == {"account_id": "A1", "seats_licensed": 12}
    assert account.warnings == (DataWarning("health_score", "abc", "is not a number"),)


def test_required_keeps_the_record_failure(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("account_id,health_score\nA1,abc\n", encoding="utf-8")
    error = _one(_reader(health_score=SignalDef("health_score", "number", required=True)), path)
    assert isinstance(error, RecordError)
    assert str(error) == f"{path}:2: health_score: 'abc' is not a number"


def test_the_account_id_stays_required(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"account_id": [1], "health_score": 80}\n', encoding="utf-8")
    assert isinstance(_one(_reader(), path), RecordError)


def test_ranges_drop_out_of_range_values(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "account_id,seats_licensed,seats_active_history\nA1,-5,3|-1\nA2,10,3|4\n",
        encoding="utf-8",
    )
    reader = _reader(
        seats_licensed=SignalDef("seats_licensed", "integer", minimum=0),
        seats_active_history=SignalDef("seats_active_history", "integer_list", minimum=0),
    )
    first, second = list(reader.read(str(path)))
    assert isinstance(first, Account) and isinstance(second, Account)
    assert "seats_licensed" not in first.values
    assert "seats_active_history" not in first.values
    assert [w.reason for w in first.warnings] == [
        "is below the minimum 0", "has an item -1 that is below the minimum 0"]
    assert second.values["seats_licensed"] == 10 and not second.warnings


@settings(max_examples=40, deadline=None)
@given(seats=st.integers(-10**6, 10**6), low=st.integers(-100, 100))
def test_a_value_is_kept_exactly_when_it_is_in_range(seats: int, low: int) -> None:
    reader = _reader(seats_licensed=SignalDef("seats_licensed", "integer", minimum=low))
    from upsell_rules.errors import Location
    from upsell_rules.plugin.types import RawRecord

    raw = RawRecord({"account_id": "A", "seats_licensed": seats}, Location("x", 1))
    [account] = list(reader.coerce_record(raw))
    assert isinstance(account, Account)
    assert ("seats_licensed" in account.values) == (seats >= low)
    assert bool(account.warnings) == (seats < low)


def test_the_decision_lists_the_bad_value(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("health_score")] = "ninety"
    cells[header.index("arr")] = "lots"
    lines[1] = ",".join(cells)
    path = tmp_path / "accounts.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["dry-run", str(RULESET), "--data", str(path), "--as-of", AS_OF, "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    decisions = json.loads(result.stdout)
    assert len(decisions) == 50
    first = decisions[0]
    assert {"health_score", "arr"} <= set(first["missing_signals"])
    assert first["data_warnings"] == [
        {"field": "arr", "value": "lots", "reason": "is not a number",
         "location": f"{path}:2"},
        {"field": "health_score", "value": "ninety", "reason": "is not a number",
         "location": f"{path}:2"},
    ]
    assert all("data_warnings" not in d for d in decisions[1:])
    assert f"{path}:2: health_score: 'ninety' is not a number; health_score is missing " \
        "for ACC-1001" in result.stderr
    explained = CliRunner().invoke(
        cli, ["explain", str(RULESET), "--data", str(path), "--as-of", AS_OF,
              "--account", "ACC-1001"]
    )
    assert "health_score: 'ninety' is not a number" in explained.stdout


def test_min_max_are_validated(tmp_path: Path) -> None:
    text = RULESET.read_text(encoding="utf-8").replace(
        "plan: {type: string, description: Current plan name}",
        "plan: {type: string, min: 0, description: Current plan name}",
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    _, findings = check_ruleset(str(path), default_registry())
    assert any(f.code == "E160" and "min: applies to numbers" in f.message for f in findings)


def test_a_fraction_compared_with_a_percentage_number_is_w260(tmp_path: Path) -> None:
    text = RULESET.read_text(encoding="utf-8")
    assert "seat_utilization >= 85%" in text
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace("seat_utilization >= 85%", "seat_utilization >= 85"),
                    encoding="utf-8")
    _, findings = check_ruleset(str(path), default_registry())
    (w260,) = [f for f in findings if f.code == "W260"]
    line = text[: text.index("seat_utilization >= 85%")].count("\n") + 1
    assert w260.location.line == line
    assert "write 85% (or 0.85)" in w260.message
    _, clean = check_ruleset(str(RULESET), default_registry())
    assert not [f for f in clean if f.code == "W260"]
