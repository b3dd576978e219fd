"""Tests for the synthetic account generator (upsell_rules.io.synthetic)."""

from __future__ import annotations

import csv
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from upsell_rules.io.synthetic import CONTRACT_FIELDS, generate_accounts, write_csv, write_jsonl

AS_OF = date(2026, 11, 2)

# The JSON type of every contract field, as data contract v1 defines it.
FIELD_TYPES: dict[str, str] = {
    "account_id": "string",
    "account_name": "string",
    "plan": "string",
    "owner": "string",
    "arr": "number",
    "customer_since": "date",
    "seats_licensed": "integer",
    "seats_active_history": "integer_list",
    "usage_limit": "number",
    "usage_history": "number_list",
    "gated_feature_attempts": "date_list",
    "departments_active": "integer",
    "departments_at_purchase": "integer",
    "power_users": "integer",
    "health_score": "number",
    "success_milestone_on": "date",
    "champion_last_engaged_on": "date",
    "champion_changed_on": "date",
    "renewal_date": "date",
    "last_renewal_date": "date",
    "funding_announced_on": "date",
    "headcount_growth_90d": "number",
    "open_ticket_priorities": "string_list",
    "nps_score": "integer",
    "nps_responded_on": "date",
    "competitor_evaluation": "boolean",
    "downgrade_requested_on": "date",
    "named_gaps": "string_list",
    "named_gaps_on": "date",
    "engagement_trend": "string",
}

# Fields most exports carry; each should be missing now and then, but not often.
USUALLY_PRESENT = (
    "plan",
    "owner",
    "arr",
    "customer_since",
    "seats_licensed",
    "seats_active_history",
    "usage_limit",
    "departments_active",
    "power_users",
    "health_score",
    "champion_last_engaged_on",
    "renewal_date",
    "competitor_evaluation",
    "engagement_trend",
)


def accounts(n: int = 500, seed: int = 7) -> list[dict[str, Any]]:
    """Generate ``n`` accounts as of the fixed test date."""
    return list(generate_accounts(n, seed, AS_OF))


def is_int(value: Any) -> bool:
    """True for a JSON integer (``bool`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """True for a JSON number (``bool`` is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_iso_date(value: Any) -> bool:
    """True for a ``YYYY-MM-DD`` string naming a real date."""
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str) and v != "",
    "number": is_number,
    "integer": is_int,
    "boolean": lambda v: isinstance(v, bool),
    "date": is_iso_date,
    "integer_list": lambda v: isinstance(v, list) and bool(v) and all(map(is_int, v)),
    "number_list": lambda v: isinstance(v, list) and bool(v) and all(map(is_number, v)),
    "date_list": lambda v: isinstance(v, list) and bool(v) and all(map(is_iso_date, v)),
    "string_list": lambda v: (
        isinstance(v, list) and bool(v) and all(isinstance(i, str) and i for i in v)
    ),
}


def from_cell(field: str, text: str) -> Any:
    """Parse one CSV cell back into its JSON value, by the field's contract type."""
    kind = FIELD_TYPES[field]
    if kind.endswith("_list"):
        items = text.split("|")
        if kind in ("integer_list", "number_list"):
            return [json.loads(item) for item in items]
        return items
    if kind in ("integer", "number"):
        return json.loads(text)
    if kind == "boolean":
        assert text in ("true", "false")
        return text == "true"
    return text


# --- determinism -----------------------------------------------------------------------


def test_same_seed_gives_the_same_accounts() -> None:
    assert accounts(300, seed=11) == accounts(300, seed=11)


def test_different_seeds_give_different_accounts() -> None:
    first, second = accounts(300, seed=11), accounts(300, seed=12)
    assert first != second
    # Not just one field: most records differ.
    assert sum(a != b for a, b in zip(first, second, strict=True)) > 250


def test_a_prefix_does_not_depend_on_n() -> None:
    assert accounts(50, seed=3) == accounts(200, seed=3)[:50]


def test_dates_follow_the_as_of_date() -> None:
    later = AS_OF + timedelta(days=10)
    shifted = list(generate_accounts(100, 5, later))
    for base, moved in zip(accounts(100, seed=5), shifted, strict=True):
        for field in ("customer_since", "renewal_date"):
            if field in base:
                gap = date.fromisoformat(moved[field]) - date.fromisoformat(base[field])
                assert gap == timedelta(days=10)


def test_global_random_state_is_neither_used_nor_touched() -> None:
    random.seed(1)
    first = accounts(100)
    random.seed(2)
    state = random.getstate()
    second = accounts(100)
    assert random.getstate() == state
    assert first == second


# --- shape ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 17, 1000])
def test_n_is_respected(n: int) -> None:
    assert len(accounts(n)) == n


def test_negative_n_is_rejected_at_call_time() -> None:
    with pytest.raises(ValueError, match="n must be zero or more"):
        generate_accounts(-1, 1, AS_OF)


def test_account_ids_are_unique() -> None:
    records = accounts(5000)
    ids = [record["account_id"] for record in records]
    assert len(set(ids)) == len(ids)


def test_only_contract_fields_in_contract_order_with_the_right_types() -> None:
    assert tuple(FIELD_TYPES) == CONTRACT_FIELDS
    for record in accounts(2000):
        assert "account_id" in record
        keys = list(record)
        assert keys == [field for field in CONTRACT_FIELDS if field in record]
        for field, value in record.items():
            assert value is not None, (record["account_id"], field)
            assert CHECKS[FIELD_TYPES[field]](value), (record["account_id"], field, value)


def test_records_are_json_ready() -> None:
    for record in accounts(300):
        assert json.loads(json.dumps(record)) == record


def test_optional_fields_are_missing_at_realistic_rates() -> None:
    records = accounts(4000)
    present = Counter(field for record in records for field in record)
    for field in USUALLY_PRESENT:
        rate = present[field] / len(records)
        assert 0.70 <= rate <= 0.98, (field, rate)


def test_values_are_plausible() -> None:
    earliest, latest = AS_OF - timedelta(days=2400), AS_OF + timedelta(days=400)
    plans: Counter[str | None] = Counter()
    for record in accounts(3000):
        plans[record.get("plan")] += 1
        for field, value in record.items():
            kind = FIELD_TYPES[field]
            values = value if kind == "date_list" else [value] if kind == "date" else []
            for text in values:
                assert earliest <= date.fromisoformat(text) <= latest, (field, text)
        if "renewal_date" in record:
            assert date.fromisoformat(record["renewal_date"]) > AS_OF
        if "last_renewal_date" in record:
            assert date.fromisoformat(record["last_renewal_date"]) <= AS_OF
        if "arr" in record:
            assert 3_000 <= record["arr"] <= 250_000
        if "seats_licensed" in record:
            assert 5 <= record["seats_licensed"] <= 500
            for active in record.get("seats_active_history", []):
                assert 1 <= active <= record["seats_licensed"]
        if "seats_active_history" in record:
            assert 1 <= len(record["seats_active_history"]) <= 8
        if "health_score" in record:
            assert 0 <= record["health_score"] <= 100
        if "nps_score" in record:
            assert 0 <= record["nps_score"] <= 10
        if "departments_active" in record:
            assert record["departments_active"] >= record["departments_at_purchase"] >= 1
    assert set(plans) >= {"Starter", "Team", "Business", "Enterprise"}


def test_red_flags_are_present_but_rare() -> None:
    records = accounts(5000)
    n = len(records)
    declining = sum(r.get("engagement_trend") == "declining" for r in records) / n
    competitor = sum(r.get("competitor_evaluation") is True for r in records) / n
    urgent = sum(bool({"P1", "P2"} & set(r.get("open_ticket_priorities", []))) for r in records)
    for rate in (declining, competitor, urgent / n):
        assert 0.005 < rate < 0.15


def test_generation_is_fast() -> None:
    start = time.perf_counter()
    for _ in generate_accounts(20_000, 1, AS_OF):
        pass
    # About 0.4 s on a laptop; the bound leaves room for slow CI machines.
    assert time.perf_counter() - start < 5.0


# --- writers -------------------------------------------------------------------------


def test_jsonl_round_trip(tmp_path: Path) -> None:
    records = accounts(400)
    path = tmp_path / "accounts.jsonl"
    assert write_jsonl(path, records) == len(records)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text
    lines = text.splitlines()
    assert [json.loads(line) for line in lines] == records
    assert list(json.loads(lines[0])) == list(records[0])


def test_csv_round_trip(tmp_path: Path) -> None:
    records = accounts(400)
    path = tmp_path / "accounts.csv"
    assert write_csv(str(path), iter(records)) == len(records)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == CONTRACT_FIELDS
        rows = list(reader)
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        parsed = {field: from_cell(field, text) for field, text in row.items() if text != ""}
        assert parsed == record


def test_csv_cells_use_the_contract_conventions(tmp_path: Path) -> None:
    record = {
        "account_id": "X-1",
        "seats_active_history": [3, 4, 5],
        "competitor_evaluation": False,
        "headcount_growth_90d": 0.25,
        "open_ticket_priorities": ["P1", "P3"],
        "not_in_contract": "ignored",
    }
    path = tmp_path / "one.csv"
    write_csv(path, [record])
    with path.open(encoding="utf-8", newline="") as handle:
        header, row = list(csv.reader(handle))
    cells = dict(zip(header, row, strict=True))
    assert cells["seats_active_history"] == "3|4|5"
    assert cells["competitor_evaluation"] == "false"
    assert cells["headcount_growth_90d"] == "0.25"
    assert cells["open_ticket_priorities"] == "P1|P3"
    assert cells["health_score"] == ""
    assert "not_in_contract" not in cells


def test_writers_accept_a_generator_and_an_empty_input(tmp_path: Path) -> None:
    assert write_jsonl(tmp_path / "a.jsonl", generate_accounts(25, 2, AS_OF)) == 25
    assert write_csv(tmp_path / "a.csv", generate_accounts(25, 2, AS_OF)) == 25
    assert write_jsonl(tmp_path / "empty.jsonl", []) == 0
    assert (tmp_path / "empty.jsonl").read_text(encoding="utf-8") == ""
    assert write_csv(tmp_path / "empty.csv", []) == 0
    header = (tmp_path / "empty.csv").read_text(encoding="utf-8")
    assert header == ",".join(CONTRACT_FIELDS) + "\n"
