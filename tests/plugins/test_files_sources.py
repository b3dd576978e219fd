"""The CSV, JSON and JSON Lines sources read real files and locate every record."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pluggy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import upsell_rules_files
from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io.encoding import HOW_TO_DECLARE
from upsell_rules.plugin import hookspecs
from upsell_rules.plugin.types import SIGNAL_TYPES, FieldSpec, RawRecord, Source
from upsell_rules_files.csv_source import cell_starts, read_csv
from upsell_rules_files.json_source import read_json, read_jsonl


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return str(path)


def records(items: list[RawRecord | RecordError]) -> list[RawRecord]:
    return [item for item in items if isinstance(item, RawRecord)]


def errors(items: list[RawRecord | RecordError]) -> list[RecordError]:
    return [item for item in items if isinstance(item, RecordError)]


# --- registration --------------------------------------------------------------------


def _manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(upsell_rules_files)
    return manager


def test_registers_four_sources_by_extension() -> None:
    found: list[Source] = []
    _manager().hook.upsell_rules_sources(register=found.append)
    by_name = {source.name: source for source in found}
    assert sorted(by_name) == ["csv", "json", "jsonl", "parquet"]
    assert by_name["csv"].matches("data/Accounts.CSV")
    assert not by_name["csv"].matches("accounts.json")
    assert by_name["json"].matches("x.JSON")
    assert not by_name["json"].matches("x.jsonl")
    assert by_name["jsonl"].matches("x.jsonl")
    assert by_name["jsonl"].matches("x.NDJSON")
    assert not by_name["jsonl"].matches("x.json")
    assert by_name["parquet"].matches("x.Parquet") and by_name["parquet"].matches("x.pq")
    assert not by_name["parquet"].matches("x.jsonl")
    for source in found:
        assert source.description


def test_registers_every_contract_field_with_a_known_type() -> None:
    found: list[FieldSpec] = []
    _manager().hook.upsell_rules_fields(register=found.append)
    types = {spec.name: spec.type for spec in found}
    assert len(types) == len(found) == 30
    assert all(spec.type in SIGNAL_TYPES and spec.description for spec in found)
    assert types["account_id"] == "string"
    assert types["seats_active_history"] == "integer_list"
    assert types["usage_history"] == "number_list"
    assert types["gated_feature_attempts"] == "date_list"
    assert types["open_ticket_priorities"] == "string_list"
    assert types["named_gaps"] == "string_list"
    assert types["competitor_evaluation"] == "boolean"
    assert types["nps_score"] == "integer"
    assert types["headcount_growth_90d"] == "number"
    assert types["renewal_date"] == "date"
    assert types["engagement_trend"] == "string"


# --- CSV ------------------------------------------------------------------------------


def test_csv_rows_become_text_records_with_empty_cells_missing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "accounts.csv",
        "account_id,account_name,seats_active_history,health_score\n"
        " a1 ,  Acme  ,14|18|23,\n"
        "a2,,,71.5\n",
    )
    items = list(read_csv(path))
    assert items == [
        RawRecord(
            {"account_id": "a1", "account_name": "Acme", "seats_active_history": "14|18|23"},
            Location(path, 2),
        ),
        RawRecord({"account_id": "a2", "health_score": "71.5"}, Location(path, 3)),
    ]


def test_csv_quoted_multiline_cells_keep_line_numbers_right(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "accounts.csv",
        'account_id,account_name\na1,"Acme\nHoldings\nLtd"\n\na2, "Beta, Inc"\na3,"say ""hi"""\n',
    )
    items = list(read_csv(path))
    assert [(r.values["account_id"], r.location.line) for r in records(items)] == [
        ("a1", 2),
        ("a2", 6),
        ("a3", 7),
    ]
    assert records(items)[0].values["account_name"] == "Acme\nHoldings\nLtd"
    assert records(items)[1].values["account_name"] == "Beta, Inc"
    assert records(items)[2].values["account_name"] == 'say "hi"'


def test_csv_crlf_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'account_id,note\r\na1,"x\r\ny"\r\na2,z\r\n')
    items = records(list(read_csv(path)))
    assert [(r.values["account_id"], r.location.line) for r in items] == [("a1", 2), ("a2", 4)]


def test_csv_row_with_extra_cells_is_an_error_and_reading_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "account_id,plan,owner\na1,pro,ann,oops\na2,team\na3\n")
    items = list(read_csv(path))
    assert items[0] == RecordError(
        Location(path, 2), "row has 4 cells, the header has 3", account_id="a1"
    )
    assert str(items[0]) == f"{path}:2: row has 4 cells, the header has 3"
    # Fewer cells than the header is fine: the rest is missing.
    assert records(items) == [
        RawRecord({"account_id": "a2", "plan": "team"}, Location(path, 3)),
    ]
    # But one cell alone is text under the data (a report footer), not an account.
    assert str(items[-1]).startswith(f"{path}:4: row has 1 cell, the header has 3: not an")


def test_csv_trailing_empty_cells_and_empty_rows_are_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "account_id,plan,\na1,pro,,\n,,\n  \na2,team,\n")
    items = list(read_csv(path))
    assert items == [
        RawRecord({"account_id": "a1", "plan": "pro"}, Location(path, 2)),
        RawRecord({"account_id": "a2", "plan": "team"}, Location(path, 5)),
    ]


def test_csv_byte_order_mark_does_not_break_the_first_column(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"\xef\xbb\xbfaccount_id,plan\r\na1,pro\r\n")
    assert list(read_csv(path)) == [
        RawRecord({"account_id": "a1", "plan": "pro"}, Location(path, 2))
    ]


def test_a_short_row_the_file_ends_in_is_an_error(tmp_path: Path) -> None:
    """An export caught while it is being written ends inside its last row: that row is
    an error (its missing cells are not read as missing values); the others are read."""
    path = write(tmp_path, "a.csv", "account_id,plan,arr\na1,pro,10\na2,te")
    items = list(read_csv(path))
    assert [r.values["account_id"] for r in records(items)] == ["a1"]
    assert items[1] == RecordError(
        Location(path, 3), "row has 2 cells, the header has 3, and the file ends inside "
        "it: is the file still being written?", account_id="a2")
    # A short row on a finished line, or a full last row without a newline, is read.
    for text in ("account_id,plan,arr\na1,pro\n", "account_id,plan,arr\na1,pro,10"):
        done = write(tmp_path, "b.csv", text)
        assert [r.values["account_id"] for r in records(list(read_csv(done)))] == ["a1"]


def test_csv_empty_file_has_no_header(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "")
    with pytest.raises(InputError) as caught:
        list(read_csv(path))
    assert str(caught.value) == f"{path}:1: no header row"
    blank = write(tmp_path, "b.csv", "\n\n  \n")
    with pytest.raises(InputError, match="no header row"):
        list(read_csv(blank))


def test_csv_without_account_id_column(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "id,plan\na1,pro\n")
    with pytest.raises(InputError) as caught:
        list(read_csv(path))
    assert str(caught.value) == f"{path}:1: the header has no 'account_id' column"


def test_csv_missing_account_id_hints_at_case_and_separator(tmp_path: Path) -> None:
    cased = write(tmp_path, "a.csv", "Account_ID,plan\na1,pro\n")
    with pytest.raises(InputError, match="found 'Account_ID'; column names are case-sensitive"):
        list(read_csv(cased))
    semicolons = write(tmp_path, "b.csv", "account_id;plan\na1;pro\n")
    with pytest.raises(InputError, match="separated by ';'"):
        list(read_csv(semicolons))


def test_csv_duplicate_column_is_located_at_its_header_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'account_id,plan, "plan"\na1,pro,team\n')
    with pytest.raises(InputError) as caught:
        list(read_csv(path))
    assert str(caught.value) == (
        f"{path}:1:17: duplicate column 'plan' in the header (first at 1:12)"
    )


def test_csv_not_utf8_fails_its_row_and_reading_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv",
                 b"account_id,account_name\na1,ok\na2,Caf\xe9\na3,\"two\nlines\xe9\"\na4,ok\n")
    read = list(read_csv(path))
    assert [getattr(r, "values", None) for r in read] == [
        {"account_id": "a1", "account_name": "ok"}, None, None, {"account_id": "a4", "account_name": "ok"}]
    assert str(read[1]) == (
        f"{path}:3: the row is not UTF-8 text (byte 0xe9); export the file as UTF-8, or "
        f"{HOW_TO_DECLARE}")
    assert str(read[2]).startswith(f"{path}:4: line 5 of the row is not UTF-8 text (byte 0xe9)")


def test_csv_header_not_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"account_id,caf\xe9\na1,ok\n")
    with pytest.raises(InputError) as caught:
        list(read_csv(path))
    assert str(caught.value) == (
        f"{path}:1: not UTF-8 text (byte 0xe9); export the file as UTF-8, or "
        f"{HOW_TO_DECLARE}")


def test_missing_file_and_directory_are_input_errors(tmp_path: Path) -> None:
    for read in (read_csv, read_json, read_jsonl):
        with pytest.raises(InputError, match="no such file"):
            list(read(str(tmp_path / "nope.csv")))
        with pytest.raises(InputError, match="is a directory"):
            list(read(str(tmp_path)))


def test_csv_cell_over_the_size_limit_is_one_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", f'account_id,note\na1,"{"x" * 200_000}"\na2,ok\n')
    items = list(read_csv(path))
    assert len(errors(items)) == 1
    assert errors(items)[0].location == Location(path, 2)
    assert "cannot parse the row" in errors(items)[0].message
    assert records(items) == [RawRecord({"account_id": "a2", "note": "ok"}, Location(path, 3))]


def test_cell_starts_follows_quotes_and_line_breaks() -> None:
    assert cell_starts('a,"b,""c",d') == [(0, 1), (0, 3), (0, 11)]
    assert cell_starts('a,"b\nxx",cc\r\nzz') == [(0, 1), (0, 3), (1, 5)]
    assert cell_starts("a,  b") == [(0, 1), (0, 3)]


_cell = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r"),
    max_size=12,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=2, max_size=2), max_size=8))
def test_csv_round_trip_and_row_start_lines(tmp_path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["account_id", "note"])
    expected: list[tuple[dict[str, str], int]] = []
    for row in rows:
        line = buffer.getvalue().count("\n") + 1
        writer.writerow(row)
        values = {
            name: cell.strip()
            for name, cell in zip(["account_id", "note"], row, strict=True)
            if cell.strip()
        }
        if values:
            expected.append((values, line))
    path = write(tmp_path, "round.csv", buffer.getvalue())
    items = list(read_csv(path))
    assert errors(items) == []
    assert [(dict(r.values), r.location.line) for r in records(items)] == expected


# --- JSON Lines -------------------------------------------------------------------


def test_jsonl_bad_lines_are_errors_and_the_others_are_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.jsonl",
        '{"account_id": "a1", "seats_licensed": 25}\n'
        "\n"
        '{"account_id": "a2" "plan": "pro"}\n'
        "[1, 2]\n"
        '  {"account_id": "a3"}\r\n'
        '{"account_id": NaN}\n'
        '"text"\n',
    )
    items = list(read_jsonl(path))
    assert records(items) == [
        RawRecord({"account_id": "a1", "seats_licensed": 25}, Location(path, 1)),
        RawRecord({"account_id": "a3"}, Location(path, 5)),
    ]
    bad = errors(items)
    assert bad[0] == RecordError(Location(path, 3, 21), "not valid JSON: Expecting ',' delimiter")
    assert bad[1] == RecordError(Location(path, 4), "expected a JSON object, got array")
    assert bad[2].location == Location(path, 6)
    assert "NaN is not a JSON value" in bad[2].message
    assert bad[3].message == "expected a JSON object, got string"


def test_jsonl_keeps_unicode_line_separators_inside_strings(tmp_path: Path) -> None:
    path = write(tmp_path, "a.ndjson", '{"account_id": "a\u2028b"}\n{"account_id": "c"}\n')
    assert [r.location.line for r in records(list(read_jsonl(path)))] == [1, 2]


def test_jsonl_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", "[" * 100_000 + "\n" + '{"account_id": "a"}\n')
    items = list(read_jsonl(path))
    assert len(errors(items)) == 1
    assert len(records(items)) == 1


# --- JSON -----------------------------------------------------------------------------


def _brace_locations(text: str) -> list[tuple[int, int]]:
    """(line, col) of every object that starts an account (`{"account_id"`)."""
    found = []
    for match in re.finditer(r'\{\s*"account_id"', text):
        before = text[: match.start()]
        found.append((before.count("\n") + 1, match.start() - (before.rfind("\n") + 1) + 1))
    return found


def test_json_array_locates_each_record_at_its_brace(tmp_path: Path) -> None:
    text = (
        "[\n"
        '  {"account_id": "a1", "named_gaps": ["sso"]},\n'
        '  {\n    "account_id": "a2"\n  }, {"account_id": "a3"}\n'
        "]\n"
    )
    path = write(tmp_path, "a.json", text)
    items = list(read_json(path))
    assert errors(items) == []
    assert [(r.location.line, r.location.col) for r in records(items)] == [(2, 3), (3, 3), (5, 6)]
    assert records(items)[0].values == {"account_id": "a1", "named_gaps": ["sso"]}


def test_json_accounts_object_with_other_keys(tmp_path: Path) -> None:
    text = (
        '{"exported": "2026-01-01", "meta": {"rows": [1, 2]},\n'
        ' "accounts": [{"account_id": "a1"},\n {"account_id": "a2"}],\n'
        ' "total": 2}\n'
    )
    path = write(tmp_path, "a.json", text)
    items = list(read_json(path))
    assert [(r.values["account_id"], r.location.line, r.location.col) for r in records(items)] == [
        ("a1", 2, 15),
        ("a2", 3, 2),
    ]
    assert errors(items) == []


def test_json_non_object_elements_are_errors_and_reading_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", '[{"account_id": "a1"}, 42,\n null, {"account_id": "a2"}]')
    items = list(read_json(path))
    assert errors(items) == [
        RecordError(Location(path, 1, 24), "expected a JSON object for each account, got number"),
        RecordError(Location(path, 2, 2), "expected a JSON object for each account, got null"),
    ]
    assert [r.values["account_id"] for r in records(items)] == ["a1", "a2"]


def test_json_nan_element_is_an_error_and_reading_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", '[{"account_id": "a1", "arr": NaN},\n{"account_id": "a2"}]')
    items = list(read_json(path))
    assert errors(items)[0].location == Location(path, 1, 2)
    assert "NaN is not a JSON value" in errors(items)[0].message
    assert [r.values["account_id"] for r in records(items)] == ["a2"]


def test_json_syntax_error_is_reported_once_at_its_position_and_stops(tmp_path: Path) -> None:
    text = '[\n {"account_id": "a1"},\n {"account_id": "a2",, "x": 1},\n {"account_id": "a3"}\n]'
    path = write(tmp_path, "a.json", text)
    items = list(read_json(path))
    assert [r.values["account_id"] for r in records(items)] == ["a1"]
    assert len(errors(items)) == 1
    with pytest.raises(json.JSONDecodeError) as reference:
        json.loads(text)
    error = errors(items)[0]
    assert error.location == Location(path, reference.value.lineno, reference.value.colno)
    assert error.message.startswith("not valid JSON: Expecting property name")
    assert error.message.endswith("the rest of the file was not read")


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('[{"account_id": "a1"}\n {"account_id": "a2"}]', (2, 2), "Expecting ',' delimiter"),
        ('[{"account_id": "a1"},\n]', (2, 1), "trailing comma before ']'"),
        ('[{"account_id": "a1"}', (1, 22), "Expecting ',' delimiter"),
        ('[{"account_id": "a1"}] x', (1, 24), "Extra data"),
        ('{"accounts": [{"account_id": "a1"}] "x": 1}', (1, 37), "Expecting ',' delimiter"),
        ('{"accounts": [{"account_id": "a1"}], 3: 1}', (1, 38), "Expecting property name"),
        ('{"accounts": [{"account_id": "a1"}], "x" 1}', (1, 42), "Expecting ':' delimiter"),
    ],
)
def test_json_syntax_errors_after_records(
    tmp_path: Path, text: str, where: tuple[int, int], message: str
) -> None:
    path = write(tmp_path, "a.json", text)
    items = list(read_json(path))
    assert [r.values["account_id"] for r in records(items)] == ["a1"]
    assert len(errors(items)) == 1
    assert (errors(items)[0].location.line, errors(items)[0].location.col) == where
    assert errors(items)[0].message.startswith(f"not valid JSON: {message}")


def test_json_garbage_is_one_located_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", "\n  nope")
    assert list(read_json(path)) == [
        RecordError(
            Location(path, 2, 3),
            "not valid JSON: Expecting value; the rest of the file was not read",
        )
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        (" \n ", "the file is empty"),
        ('\n "accounts"', ":2:2: expected a JSON array of accounts"),
        ("{}", ":1:1: expected a JSON array"),
        ('{"rows": []}', ':1:1: expected a JSON array of accounts, or an object holding that '
                         'array under "accounts"; this object has no "accounts" key (it has an '
                         'array under "rows": declare records_key: rows under sources: json: '
                         'in the ruleset, docs/data.md)'),
        (
            '{"accounts": {"a": 1}}',
            ':1:14: "accounts" must be an array of account objects, got object',
        ),
    ],
)
def test_json_wrong_top_level_shape_is_an_input_error(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, "a.json", text)
    with pytest.raises(InputError) as caught:
        list(read_json(path))
    assert str(caught.value).startswith(path)
    assert message in str(caught.value)


def test_an_api_envelope_is_read_under_the_records_key_declared(tmp_path: Path) -> None:
    """HubSpot's API wraps records in {"results": [...]}, Salesforce's in {"records":
    [...]}: undeclared, the file is refused with the key to declare; declared (the
    ruleset's sources: json: records_key:), the accounts are read as from a plain array."""
    rows = list(csv.DictReader((ROOT / "samples" / "accounts.csv").open(encoding="utf-8")))[:4]
    path = tmp_path / "hubspot.json"
    path.write_text(json.dumps({"results": rows, "paging": {"next": {"after": "4"}}}),
                    encoding="utf-8")
    plain = run_cli("dry-run", "upsell_timing", "--data", str(path), "--as-of", AS_OF,
                    "--no-state", "--format", "jsonl")
    assert plain.returncode == 2
    assert ('it has an array under "results": declare records_key: results under sources: '
            "json: in the ruleset") in plain.stderr
    ruleset = tmp_path / "upsell_timing.yaml"
    text = (ROOT / "rulesets" / "upsell_timing.yaml").read_text(encoding="utf-8")
    ruleset.write_text(text.replace("\nsources:\n", "\nsources:\n  json:\n    records_key: "
                                    "results\n", 1), encoding="utf-8")
    declared = run_cli("dry-run", str(ruleset), "--data", str(path), "--as-of", AS_OF,
                       "--no-state", "--format", "jsonl")
    assert declared.returncode == 0, declared.stderr
    assert [json.loads(line)["account_id"] for line in declared.stdout.splitlines()] == [
        row["account_id"] for row in rows]
    enveloped = [r.values for r in read_json(str(path), key="results")
                 if isinstance(r, RawRecord)]
    plain_array = [r.values for r in read_json(write(tmp_path, "plain.json", json.dumps(rows)))
                   if isinstance(r, RawRecord)]
    assert enveloped == plain_array and len(enveloped) == 4


def test_json_second_accounts_key_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", '{"accounts": [{"account_id": "a1"}],\n "accounts": []}')
    items = list(read_json(path))
    assert [r.values["account_id"] for r in records(items)] == ["a1"]
    assert errors(items) == [
        RecordError(
            Location(path, 2, 2), 'a second "accounts" key is ignored; only the first one is read'
        )
    ]


def test_json_bom_and_empty_array(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", b"\xef\xbb\xbf[ ]")
    assert list(read_json(path)) == []


_json_text = st.text(alphabet='ab ,{}[]"\\\n\u00e9\u2028', max_size=6)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _json_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_json_text, inner, max_size=3),
    max_leaves=5,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    accounts=st.lists(
        st.dictionaries(st.sampled_from(["plan", "x", "named_gaps"]), _json_values, max_size=3),
        max_size=6,
    ),
    indent=st.sampled_from([None, 0, 1, 4]),
    wrapped=st.booleans(),
)
def test_json_round_trip_locates_every_record(
    tmp_path: Path, accounts: list[dict[str, object]], indent: int | None, wrapped: bool
) -> None:
    data = [{"account_id": f"a{index}", **account} for index, account in enumerate(accounts)]
    text = json.dumps({"accounts": data} if wrapped else data, indent=indent, ensure_ascii=False)
    path = write(tmp_path, "round.json", text)
    items = list(read_json(path))
    assert errors(items) == []
    assert [dict(r.values) for r in records(items)] == data
    assert [(r.location.line, r.location.col) for r in records(items)] == _brace_locations(text)


_messy = st.text(alphabet='account_id,plan\n\r "{}[]:\x00\\\u00e9|0123', max_size=80)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(_messy, st.binary(max_size=60)))
def test_messy_content_gives_records_errors_or_input_error_only(
    tmp_path: Path, body: str | bytes
) -> None:
    for name, read in (("m.csv", read_csv), ("m.json", read_json), ("m.jsonl", read_jsonl)):
        path = write(tmp_path, name, body)
        try:
            items = list(read(path))
        except InputError as exc:
            assert str(exc).startswith(path)
            continue
        for item in items:
            assert isinstance(item, RawRecord | RecordError)
            assert item.location.path == path
            assert item.location.line >= 1


def test_a_short_quoted_row_the_file_ends_in_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", 'account_id,plan,arr\na1,pro,10\n"a2","te, am"')
    items = list(read_csv(path))
    assert [r.values["account_id"] for r in records(items)] == ["a1"]
    assert isinstance(items[1], RecordError) and "file ends inside it" in str(items[1])


def test_two_records_on_one_line_are_named_as_such(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", '{"account_id": "a1"} {"account_id": "a2"}\n'
                                      '{"account_id": "a3"}\n')
    items = list(read_jsonl(path))
    assert records(items) == [RawRecord({"account_id": "a3"}, Location(path, 2))]
    assert errors(items) == [RecordError(
        Location(path, 1, 22), "not valid JSON: more text after the record ends (two records "
        "on one line? each record goes on a line of its own)")]


def test_a_json_array_element_nested_too_deeply_fails_alone(tmp_path: Path) -> None:
    # Valid JSON, deeper than the decoder goes; a bracket inside a string does not count.
    deep = "[" * 3000 + '"]}{["' + "]" * 3000
    path = write(tmp_path, "a.json", '[{"account_id": "a1"},\n'
                                     f'{{"account_id": "a2", "named_gaps": {deep}}},\n'
                                     '{"account_id": "a3"}]\n')
    items = list(read_json(path))
    assert [r.values["account_id"] for r in records(items)] == ["a1", "a3"]
    assert errors(items) == [RecordError(Location(path, 2, 1), "not valid JSON: nested too deeply")]


def test_a_deep_element_that_does_not_close_still_stops_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", '[{"account_id": "a1"},\n'
                                     '{"account_id": "a2", "x": ' + "[" * 3000 + "]" * 2999
                                     + '},\n{"account_id": "a3"}]\n')
    items = list(read_json(path))
    assert [r.values["account_id"] for r in records(items)] == ["a1"]
    assert errors(items) == [RecordError(
        Location(path, 2, 1), "not valid JSON: nested too deeply; the rest of the file was "
        "not read")]
