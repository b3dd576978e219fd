"""Coercion of raw account values, and reading records with located errors."""

from __future__ import annotations

import csv
import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.stream import decide_all
from upsell_rules.errors import Location, RecordError
from upsell_rules.io.records import IDENTITY_FIELDS, Account, AccountReader, CoercionError, coerce
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.types import RawRecord, Summary
from upsell_rules.ruleset.loader import load_ruleset
from upsell_rules.ruleset.model import SignalDef

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
AS_OF = date(2026, 11, 2)


# --- coerce: values that convert ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        # numbers from text
        ("42", "number", 42),
        (" 42 ", "number", 42),
        ("-3.25", "number", -3.25),
        ("+5", "number", 5),
        (".5", "number", 0.5),
        ("1e3", "number", 1000.0),
        ("0.12", "number", 0.12),
        # numbers from JSON values
        (42, "number", 42),
        (0.25, "number", 0.25),
        (-0.0, "number", 0.0),
        # integers
        ("7", "integer", 7),
        ("3.0", "integer", 3),
        ("1e3", "integer", 1000),
        (3.0, "integer", 3),
        (25, "integer", 25),
        # booleans from text (any case, surrounding blanks ignored)
        ("true", "boolean", True),
        ("TRUE", "boolean", True),
        ("yes", "boolean", True),
        ("Yes", "boolean", True),
        ("1", "boolean", True),
        ("false", "boolean", False),
        ("no", "boolean", False),
        ("NO ", "boolean", False),
        ("0", "boolean", False),
        # booleans from JSON
        (True, "boolean", True),
        (False, "boolean", False),
        (1, "boolean", True),
        (0, "boolean", False),
        # strings
        ("Acme", "string", "Acme"),
        (12, "string", "12"),
        # dates
        ("2026-11-02", "date", date(2026, 11, 2)),
        (" 2024-02-29 ", "date", date(2024, 2, 29)),
        # lists from text: split on '|', blanks dropped
        ("a|b|c", "string_list", ["a", "b", "c"]),
        ("P1| |P3|", "string_list", ["P1", "P3"]),
        (" a | b ", "string_list", ["a", "b"]),
        ("14|16|19", "integer_list", [14, 16, 19]),
        ("1.5|2", "number_list", [1.5, 2]),
        ("2026-10-22|2026-10-27", "date_list", [date(2026, 10, 22), date(2026, 10, 27)]),
        # lists from JSON arrays: null and "" items dropped
        (["a", "b"], "string_list", ["a", "b"]),
        ([14, "16", 19.0], "integer_list", [14, 16, 19]),
        (["2026-01-01", None, ""], "date_list", [date(2026, 1, 1)]),
    ],
)
def test_coerce_converts(value: Any, kind: str, expected: Any) -> None:
    result = coerce(value, kind)
    assert result == expected
    assert type(result) is type(expected)
    if isinstance(expected, list):
        assert [type(v) for v in result] == [type(v) for v in expected]


SCALAR_KINDS = ["number", "integer", "string", "date", "boolean"]
LIST_KINDS = ["string_list", "integer_list", "number_list", "date_list"]


@pytest.mark.parametrize("value", [None, "", "   ", "\t"], ids=repr)
@pytest.mark.parametrize("kind", SCALAR_KINDS + LIST_KINDS)
def test_blank_values_are_missing(value: Any, kind: str) -> None:
    assert coerce(value, kind) is None


@pytest.mark.parametrize("value", ["|", " | | ", [], [None, ""]], ids=repr)
@pytest.mark.parametrize("kind", LIST_KINDS)
def test_empty_lists_are_missing(value: Any, kind: str) -> None:
    assert coerce(value, kind) is None


# --- coerce: values that are refused --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "words"),
    [
        ("abc", "number", "is not a number"),
        ("1,5", "number", "is not a number"),
        ("1.000,50", "number", "is not a number"),
        ("$100", "number", "is not a number"),
        ("12%", "number", "is not a number"),
        ("0x10", "number", "is not a number"),
        ("nan", "number", "is not a finite number"),
        ("NaN", "number", "is not a finite number"),
        ("inf", "number", "is not a finite number"),
        ("-Infinity", "number", "is not a finite number"),
        ("1e400", "number", "is not a finite number"),
        (float("nan"), "number", "is not a finite number"),
        (float("inf"), "number", "is not a finite number"),
        (True, "number", "is not a number"),
        (False, "number", "is not a number"),
        ([1], "number", "is not a number"),
        ({"v": 1}, "number", "is not a number"),
        ("3.5", "integer", "is not a whole number"),
        (3.5, "integer", "is not a whole number"),
        (True, "integer", "is not a number"),
        ("nan", "integer", "is not a finite number"),
        ("maybe", "boolean", "is not true or false"),
        ("2", "boolean", "is not true or false"),
        (2, "boolean", "is not true or false"),
        (1.0, "boolean", "is not true or false"),
        ("2026-1-02", "date", "is not a date (expected YYYY-MM-DD)"),
        ("2026-02-30", "date", "is not a date (expected YYYY-MM-DD)"),
        ("2026-13-01", "date", "is not a date (expected YYYY-MM-DD)"),
        ("20261102", "date", "is not a date (expected YYYY-MM-DD)"),
        ("2026/11/02", "date", "is not a date (expected YYYY-MM-DD)"),
        ("02-11-2026", "date", "is not a date (expected YYYY-MM-DD)"),
        ("2026-11-02T10:00:00", "date", "is not a date (expected YYYY-MM-DD)"),
        ("2026-11-02 10:00", "date", "is not a date (expected YYYY-MM-DD)"),
        ("2026-W45-1", "date", "is not a date (expected YYYY-MM-DD)"),
        ("\uff12\uff10\uff12\uff16-11-02", "date", "is not a date (expected YYYY-MM-DD)"),
        (20261102, "date", "is not a date (expected YYYY-MM-DD)"),
        (True, "string", "is not text"),
        (["a"], "string", "is not text"),
        (5, "string_list", "is not a list"),
        ("14|x|19", "integer_list", "has an item 'x' that is not a number"),
        ([14, True], "integer_list", "has an item true that is not a number"),
        ("2026-01-01|soon", "date_list", "has an item 'soon' that is not a date"),
        # A series (one value per cycle) with a gap: dropping it would shift the cycles.
        ("14||19", "integer_list", "has no value for item 2 of 3"),
        ("14|16|", "integer_list", "has no value for item 3 of 3"),
        ([14, None, 19], "integer_list", "has no value for item 2 of 3"),
        ([88000.5, ""], "number_list", "has no value for item 2 of 2"),
    ],
)
def test_coerce_refuses(value: Any, kind: str, words: str) -> None:
    with pytest.raises(CoercionError) as info:
        coerce(value, kind)
    assert words in str(info.value)


@pytest.mark.parametrize("value", ["1_000", "1_5", "2_0.5"])
def test_underscore_grouped_digits_are_not_numbers(value: str) -> None:
    with pytest.raises(CoercionError):
        coerce(value, "number")


def test_coercion_error_is_a_value_error() -> None:
    assert issubclass(CoercionError, ValueError)


# --- hypothesis ---------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_number_field_gives_a_finite_number_or_a_coercion_error(text: str) -> None:
    try:
        result = coerce(text, "number")
    except CoercionError:
        return
    if not text.strip():
        assert result is None
        return
    assert isinstance(result, int | float) and not isinstance(result, bool)
    assert math.isfinite(result)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789.-+eE_ nafiINF,"), max_size=12))
def test_number_like_text_gives_a_finite_number_or_a_coercion_error(text: str) -> None:
    try:
        result = coerce(text, "number")
    except CoercionError:
        return
    assert result is None or (
        isinstance(result, int | float) and not isinstance(result, bool) and math.isfinite(result)
    )


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_integer_field_gives_an_int_or_a_coercion_error(text: str) -> None:
    try:
        result = coerce(text, "integer")
    except CoercionError:
        return
    assert result is None or type(result) is int


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_round_trip_through_text(value: float) -> None:
    assert coerce(repr(value), "number") == value


@given(st.dates())
def test_iso_dates_round_trip(value: date) -> None:
    text = value.isoformat()
    if len(text) == 10:  # years before 1000 are not YYYY
        assert coerce(text, "date") == value


@given(st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=1))
def test_integer_lists_round_trip_through_pipes(values: list[int]) -> None:
    assert coerce("|".join(map(str, values)), "integer_list") == values


# --- AccountReader --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader() -> AccountReader:
    """A reader on which every contract field is ``required: true``: a bad value fails
    the record (the default, one bad cell costing one signal, is tested below)."""
    registry = default_registry()
    every = {n: SignalDef(n, f.type, required=True) for n, f in registry.fields.items()}
    return AccountReader(registry, {}, signals=every)


def read(reader: AccountReader, path: Path) -> list[Account | RecordError]:
    return list(reader.read(str(path)))


def write_csv(path: Path, header: list[str], *rows: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])
    return path


def write_jsonl(path: Path, *records: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("health_score", "abc", "health_score: 'abc' is not a number"),
        ("arr", "1,5", "arr: '1,5' is not a number"),
        ("health_score", "nan", "health_score: 'nan' is not a finite number"),
        ("seats_licensed", "3.5", "seats_licensed: '3.5' is not a whole number"),
        (
            "renewal_date",
            "2026-13-45",
            "renewal_date: '2026-13-45' is not a date (expected YYYY-MM-DD)",
        ),
        (
            "renewal_date",
            "11/02/2026",
            "renewal_date: '11/02/2026' is not a date (expected YYYY-MM-DD)",
        ),
        ("competitor_evaluation", "maybe", "competitor_evaluation: 'maybe' is not true or false"),
        (
            "seats_active_history",
            "14|x",
            "seats_active_history: '14|x' has an item 'x' that is not a number",
        ),
    ],
)
def test_csv_errors_name_file_line_field_value_and_expectation(
    tmp_path: Path, reader: AccountReader, field: str, value: str, message: str
) -> None:
    path = write_csv(
        tmp_path / "accounts.csv",
        ["account_id", "account_name", field],
        ["A-1", "Good Co", ""],
        ["A-2", "Bad Co", value],
    )
    items = read(reader, path)
    assert isinstance(items[0], Account) and items[0].account_id == "A-1"
    error = items[1]
    assert isinstance(error, RecordError)
    assert str(error) == f"{path}:3: {message}"
    assert error.field == field
    assert error.value == value
    assert error.account_id == "A-2"
    assert len(items) == 2


@pytest.mark.parametrize(
    ("field", "value", "shown", "words"),
    [
        ("health_score", True, "true", "is not a number"),
        ("health_score", "80", None, None),
        ("health_score", 80.5, None, None),
        ("nps_score", 3.5, "3.5", "is not a whole number"),
        ("competitor_evaluation", "yes", None, None),
        ("competitor_evaluation", 1, None, None),
        ("competitor_evaluation", 2, "2", "is not true or false"),
        ("renewal_date", 20270101, "20270101", "is not a date (expected YYYY-MM-DD)"),
        ("seats_active_history", [1, "x"], "x", "has an item 'x' that is not a number"),
        ("seats_active_history", "1|2", None, None),
        ("named_gaps", {"a": 1}, "a", "is not a list"),
        ("account_name", ["x"], "x", "is not text"),
    ],
)
def test_json_values(
    tmp_path: Path,
    reader: AccountReader,
    field: str,
    value: Any,
    shown: str | None,
    words: str | None,
) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", {"account_id": "J-1", field: value})
    [item] = read(reader, path)
    if words is None:
        assert isinstance(item, Account)
        assert field in item.values
        return
    assert isinstance(item, RecordError)
    text = str(item)
    assert text.startswith(f"{path}:1: {field}: ")
    assert words in text
    assert shown is not None and shown in text.lower().split(f"{field}: ", 1)[1]
    assert item.field == field
    assert item.account_id == "J-1"


def test_record_with_two_bad_fields_reports_both_and_is_not_decided(
    tmp_path: Path, reader: AccountReader
) -> None:
    path = write_csv(
        tmp_path / "two.csv",
        ["account_id", "health_score", "renewal_date", "seats_licensed"],
        ["A-1", "80", "2027-01-01", "10"],
        ["A-2", "abc", "tomorrow", "10"],
        ["A-3", "70", "2027-02-01", "12"],
    )
    items = read(reader, path)
    errors = [i for i in items if isinstance(i, RecordError)]
    accounts = [i for i in items if isinstance(i, Account)]
    assert [a.account_id for a in accounts] == ["A-1", "A-3"]
    assert sorted(e.field for e in errors) == ["health_score", "renewal_date"]
    assert {e.location.line for e in errors} == {3}
    assert {e.account_id for e in errors} == {"A-2"}

    # end to end: the record counts once as failed, the others are decided
    ruleset = load_ruleset(str(RULESET))
    summary = Summary()
    out = list(
        decide_all(Evaluator(ruleset),
            reader.read(str(path)), AS_OF, summary
        )
    )
    decided = [d["account_id"] for d in out if isinstance(d, dict)]
    assert decided == ["A-1", "A-3"]
    assert (summary.read, summary.decided, summary.failed) == (3, 2, 1)


def test_identity_fields(tmp_path: Path, reader: AccountReader) -> None:
    path = write_jsonl(
        tmp_path / "ids.jsonl",
        {"account_id": 123, "account_name": "Numbered", "owner": 7},
        {"account_id": "  B-1  ", "account_name": "Padded"},
        {"account_id": "C-1"},
    )
    first, second, third = read(reader, path)
    assert isinstance(first, Account) and isinstance(second, Account) and isinstance(third, Account)
    assert (first.account_id, first.account_name, first.owner) == ("123", "Numbered", "7")
    assert second.account_id == "B-1"
    assert (third.account_name, third.owner) == ("", "")
    assert [a.location.line for a in (first, second, third)] == [1, 2, 3]
    assert set(IDENTITY_FIELDS) == {"account_id", "account_name", "owner"}


@pytest.mark.parametrize(
    "record",
    [{"account_name": "No id"}, {"account_id": ""}, {"account_id": "   "}, {"account_id": None}],
    ids=["absent", "empty", "blank", "null"],
)
def test_missing_account_id_is_an_error(
    tmp_path: Path, reader: AccountReader, record: dict[str, Any]
) -> None:
    path = write_jsonl(tmp_path / "noid.jsonl", {"account_id": "OK-1"}, record)
    first, second = read(reader, path)
    assert isinstance(first, Account)
    assert isinstance(second, RecordError)
    assert second.field == "account_id"
    assert str(second) == f"{path}:2: account_id: missing required value"


def test_duplicate_account_id_reported_at_the_second(tmp_path: Path, reader: AccountReader) -> None:
    path = write_csv(
        tmp_path / "dup.csv",
        ["account_id", "account_name"],
        ["D-1", "First"],
        ["D-2", "Other"],
        ["D-1", "Second"],
    )
    items = read(reader, path)
    assert [type(i).__name__ for i in items] == ["Account", "Account", "RecordError"]
    first = items[0]
    assert isinstance(first, Account) and first.account_name == "First"
    error = items[2]
    assert isinstance(error, RecordError)
    assert str(error) == f"{path}:4: account_id: duplicate account_id 'D-1' (first at line 2)"



def test_a_duplicate_whose_first_is_elsewhere_names_where(reader: AccountReader) -> None:
    seen: dict[str, Location] = {}
    raws = [RawRecord({"account_id": "D-1"}, Location("a.csv", 2)),
            RawRecord({"account_id": "D-1"}, Location("b.csv", 3))]
    items = [item for raw in raws for item in reader.coerce_record(raw, seen)]
    error = items[-1]
    assert isinstance(error, RecordError)
    assert str(error) == "b.csv:3: account_id: duplicate account_id 'D-1' (first at a.csv:2)"


def test_unknown_columns_are_ignored_and_ruleset_types_override(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "extra.csv",
        ["account_id", "whatever", "custom_score", "health_score"],
        ["E-1", "free text", "7", "88"],
    )
    [account] = AccountReader(default_registry(), {"custom_score": "integer"}).read(str(path))
    assert isinstance(account, Account)
    assert "whatever" not in account.values
    assert account.values["custom_score"] == 7
    assert account.values["health_score"] == 88

    required = {"whatever": SignalDef("whatever", "number", required=True)}
    [error] = AccountReader(
        default_registry(), {"whatever": "number"}, signals=required
    ).read(str(path))
    assert isinstance(error, RecordError)
    assert error.field == "whatever"


def test_empty_cells_and_empty_lists_are_missing(tmp_path: Path, reader: AccountReader) -> None:
    path = write_jsonl(
        tmp_path / "empty.jsonl",
        {"account_id": "M-1", "named_gaps": [], "open_ticket_priorities": "|", "health_score": ""},
    )
    [account] = read(reader, path)
    assert isinstance(account, Account)
    assert set(account.values) == {"account_id"}
