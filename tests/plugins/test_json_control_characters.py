"""A raw control character inside a JSON string is a located error that says what it is.

The decoder's own message trailed off ("Invalid control character at"); the error now
names the character and the escape that JSON would need, at its line and column.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from upsell_rules.errors import RecordError
from upsell_rules_files.json_source import read_json, read_jsonl


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07", "\x1f"])
def test_json_lines_name_the_character_and_the_record_alone_fails(
    tmp_path: Path, char: str
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"account_id": "A1"}\n{"account_id": "A' + char + '2"}\n'
                    '{"account_id": "A3"}\n', encoding="utf-8")
    items = list(read_jsonl(str(path)))
    failed = [item for item in items if isinstance(item, RecordError)]
    assert len(items) == 3 and len(failed) == 1
    code = ord(char)
    assert str(failed[0]) == (
        f"{path}:2:18: not valid JSON: a control character (U+{code:04X}) inside a string; "
        f"JSON writes it as the escape \\u{code:04x}"
    )


def test_a_json_array_names_the_character_too(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('[\n  {"account_id": "A\x001"}\n]\n', encoding="utf-8")
    failed = [item for item in read_json(str(path)) if isinstance(item, RecordError)]
    assert len(failed) == 1
    assert str(failed[0]).startswith(
        f"{path}:2:20: not valid JSON: a control character (U+0000) inside a string; "
        "JSON writes it as the escape \\u0000"
    )
