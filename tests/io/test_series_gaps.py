"""A per-cycle series with a gap is left out with a located warning, never shortened:
dropping the blank item would move every later cycle one place and change the
evidence (seats three cycles ago, days to the ceiling) without a word."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.io.coercion import CoercionError, coerce, coerce_fast

SAMPLE = ROOT / "samples" / "accounts.jsonl"
ENGINES = ["python", "interpreter", "duckdb"]


def _first_account() -> dict[str, Any]:
    line = SAMPLE.read_text(encoding="utf-8").splitlines()[0]
    account: dict[str, Any] = json.loads(line)
    return account


@pytest.mark.parametrize("engine", ENGINES)
def test_a_gap_in_a_history_costs_the_field_not_the_account(tmp_path: Path, engine: str) -> None:
    account = _first_account()
    whole = tmp_path / "whole.jsonl"
    whole.write_text(json.dumps(account) + "\n", encoding="utf-8")
    history = account["seats_active_history"]
    account["seats_active_history"] = [*history[:2], None, *history[3:]]
    gap = tmp_path / "gap.jsonl"
    gap.write_text(json.dumps(account) + "\n", encoding="utf-8")
    args = ["upsell_timing", "--as-of", AS_OF, "--format", "jsonl", "--no-state",
            "--engine", engine]
    with_gap = run_cli("dry-run", "--data", str(gap), *args)
    assert with_gap.returncode == 0, with_gap.stderr
    assert (f"{gap}:1: seats_active_history: [{history[0]}, {history[1]}, null, "
            in with_gap.stderr)
    assert (f"has no value for item 3 of {len(history)}" in with_gap.stderr)
    decided = json.loads(with_gap.stdout)
    assert "seats_active_history" in decided["missing_signals"]
    evidence = " ".join(t["evidence"] for t in decided["triggers"])
    # Nothing is computed from a shortened history: the seat trend is not shown at all.
    assert "active seats over the last" not in evidence
    full = json.loads(run_cli("dry-run", "--data", str(whole), *args).stdout)
    assert "active seats over the last" in " ".join(t["evidence"] for t in full["triggers"])


def test_a_csv_cell_with_an_empty_item_is_the_same_warning(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,seats_licensed,seats_active_history\n"
                    "A-1,25,14|16|19\nA-2,25,14||19\n", encoding="utf-8")
    result = run_cli("dry-run", "upsell_timing", "--data", str(path), "--as-of", AS_OF,
                     "--format", "jsonl", "--no-state")
    assert result.returncode == 0, result.stderr
    assert f"{path}:3: seats_active_history: '14||19' has no value for item 2 of 3" in (
        result.stderr)
    assert f"{path}:2: seats_active_history" not in result.stderr
    assert len(result.stdout.splitlines()) == 2


def test_date_and_text_lists_still_drop_blank_items() -> None:
    assert coerce("P1||P3", "string_list") == ["P1", "P3"]
    assert coerce(["2026-01-01", None], "date_list") == [date(2026, 1, 1)]
    assert coerce([None, None], "integer_list") is None  # nothing there: missing
    assert coerce("|", "integer_list") is None


numbers = st.integers(min_value=0, max_value=10**6)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(numbers, st.none()), min_size=1, max_size=8),
       st.sampled_from(["list", "cell"]))
def test_a_series_is_taken_whole_or_not_at_all(items: list[int | None], form: str) -> None:
    value: Any = items if form == "list" else "|".join("" if i is None else str(i)
                                                       for i in items)
    present = [i for i in items if i is not None]
    for convert in (coerce, coerce_fast):
        if not present:
            assert convert(value, "integer_list") is None
        elif len(present) < len(items):
            with pytest.raises(CoercionError, match="has no value for item"):
                convert(value, "integer_list")
        else:
            assert convert(value, "integer_list") == items
