"""A key written twice in a JSON record fails that record, never last-wins silently."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsell_rules.errors import RecordError
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.build import default_registry

KEYS = ["account_id", "health_score", "plan", "note", "arr"]


def _text(pairs: list[tuple[str, object]]) -> str:
    return "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    keys=st.lists(st.sampled_from(KEYS[1:]), max_size=6),
    values=st.lists(st.one_of(st.integers(0, 100), st.sampled_from(["a:b", "x", "12:30"])),
                    min_size=6, max_size=6),
    array=st.booleans(),
)
def test_a_record_fails_exactly_when_a_key_repeats(
    tmp_path: Path, keys: list[str], values: list[object], array: bool
) -> None:
    pairs: list[tuple[str, object]] = [("account_id", "A1")]
    pairs += [(k, values[i]) for i, k in enumerate(keys)]
    text = _text(pairs)
    path = tmp_path / ("a.json" if array else "a.jsonl")
    path.write_text(f"[{text}, {_text([('account_id', 'A2')])}]" if array
                    else text + "\n" + _text([("account_id", "A2")]) + "\n", encoding="utf-8")
    items = list(AccountReader(default_registry(), {}).read(str(path)))
    assert len(items) == 2
    repeated = len(set(keys)) < len(keys)
    assert isinstance(items[0], RecordError) == repeated
    assert isinstance(items[1], Account)
    if repeated:
        assert "appears twice in the record" in items[0].message  # type: ignore[union-attr]
