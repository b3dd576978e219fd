"""The columnar path's test of each field (sql/input_checks.py): its short tests on a
value's JSON text only take values the exact test takes, so the verdict is always the
exact test's, whatever the value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsell_rules.sql import input_checks

#: (field type, its min:/max:) as the checks are generated for them.
KINDS = [("number", (0.0, 100.0)), ("number", None), ("integer", (0.0, None)),
         ("integer", None), ("boolean", None), ("string", None), ("date", None),
         ("integer_list", (0.0, None)), ("number_list", (-1.0, 1.0)), ("number_list", None),
         ("string_list", None), ("date_list", None)]

#: Values near every edge the short tests draw.
EDGES: list[Any] = [
    0, -0.0, 1, -1, 12.5, 1e3, 1.5e-7, 1e300, 2**53 - 1, 2**53, -(2**53), 2**63, 2**64, 10**30,
    9007199254740993.0, 100, 100.5, 101, True, False, "", " ", "x", " x", "x ", "\u00a0x",
    "\u3000x", "\u2028x", "\bx", "\tx", "\\x", '"x', "é", "Team: gold", "12", "2027-01-09",
    "2027-1-9", "2027-02-30", "0000-01-01", "0001-01-01", "9999-12-31", "2027-01-09T00:00:00",
    " 2027-01-09", "\uff12\uff10\uff12\uff17-01-09", [], [1, 2], [1, -1], [0.5, -0.5], [1, 2.5], [1e20],
    [1, None], [1, "2"], ["a", "b"], ["a", ""], [" a"], ["a\\b"], ["2027-01-09", "2027-02-30"],
    ["2027-01-09"], [True], [[1]], {"k": 1}, [2**63], [10**16], [-(10**15)],
    20270109, -2027, "2027-01-09 ", "null", {"d": "2027-01-09"}, "2027-01-09\u00e9",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.dates().map(lambda d: d.isoformat()),
    lambda inner: st.lists(inner, max_size=4), max_leaves=8)


def _tests(t: str) -> list[str]:
    """Per type: the short test, the exact test, the check of a field (text ``t``)."""
    tests = []
    for kind, bounds in KINDS:
        tests.append(f"coalesce({input_checks._short(t, kind, bounds)}, FALSE)")
        tests.append(f"coalesce({input_checks._exact(f'CAST({t} AS JSON)', kind, bounds)}, "
                     "FALSE)")
        tests.append(input_checks.field_check(t, kind, bounds))
    return tests


def _run(path: Path, test: str, read_as: str = "JSON") -> list[tuple[Any, ...]]:
    with duckdb.connect() as con:
        return con.execute(f"SELECT {test} FROM read_json('{path}', format = "
                           f"'newline_delimited', columns = {{'v': '{read_as}'}})").fetchall()


def verdicts(tmp_path: Path, values: list[Any]) -> list[tuple[Any, str, bool, bool]]:
    """(value, type, short test, exact test) for every value and type, through DuckDB's
    own reading of the value as in the checking pass."""
    path = tmp_path / "values.jsonl"
    path.write_text("".join(json.dumps({"v": v}) + "\n" for v in values), encoding="utf-8")
    tests = _tests("CAST(v AS VARCHAR)")
    rows = _run(path, ", ".join(tests))  # never an error: the checking query cannot fail
    # A date is checked on DuckDB's plain-text reading (check_sql): the exact test's verdict.
    as_text = _run(path, input_checks.date_text_check("v"), "VARCHAR")
    date_index = KINDS.index(("date", None))
    found = []
    for value, row, (text_check,) in zip(values, rows, as_text, strict=True):
        for index, (kind, _bounds) in enumerate(KINDS):
            short, exact, check = row[3 * index: 3 + 3 * index]
            assert check == (exact or value is None), (value, kind)
            found.append((value, kind, short, exact))
        assert text_check == row[3 * date_index + 2], value
    return found


def test_short_tests_take_only_what_the_exact_tests_take_at_the_edges(tmp_path: Path) -> None:
    found = verdicts(tmp_path, EDGES)
    assert not [(v, k) for v, k, short, exact in found if short and not exact]
    # The short tests do take the usual values (otherwise they would save nothing).
    taken = {(json.dumps(v), k) for v, k, short, _ in found if short}
    assert {("12.5", "number"), ("1", "integer"), ('"x"', "string"), ("true", "boolean"),
            ('"2027-01-09"', "date"), ("[1, 2]", "integer_list"), ("[0.5, -0.5]", "number_list"),
            ('["a", "b"]', "string_list")} <= taken


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(json_values, min_size=1, max_size=40))
def test_short_tests_take_only_what_the_exact_tests_take(tmp_path: Path,
                                                        values: list[Any]) -> None:
    found = verdicts(tmp_path, values)
    assert not [(v, k) for v, k, short, exact in found if short and not exact]
