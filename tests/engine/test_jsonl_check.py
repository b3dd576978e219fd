"""Counting a JSON Lines file's lines for the columnar path (``engine/jsonl_check.py``).

``count_lines`` reads the file in blocks and scans each in C; its verdict must be the
one a plain loop over the file's lines gives (the loop below, which it replaced).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upsell_rules.engine import jsonl_check
from upsell_rules.engine.jsonl_check import count_lines


def reference(path: Path, max_line: int, max_records: int) -> tuple[int, int, int] | None:
    """The verdict of a loop over the lines, as Python's binary file iteration cuts them."""
    count = colons = commas = 0
    with open(path, "rb") as handle:
        if handle.read(3) == b"\xef\xbb\xbf":
            return None
        handle.seek(0)
        for line in handle:
            count += 1
            if (max_line and len(line) > max_line) or b"\x0b" in line or b"\x0c" in line:
                return None
            if b"\\u002c" in line.lower():
                return None
            colons += line.count(b":")
            commas += line.count(b",")
    return None if max_records and count > max_records else (count, colons, commas)


PIECES = [b'{"a": 1}', b"x", b":", b"\n", b"\r\n", b" ", b"\t", b"\x0b", b"\x0c", b"\r",
          b"NaN", b"Infinity", b"Na", b"N", b"\xef\xbb\xbf", b"\xc3\xa9", b'{"k":"v:w"}',
          b",", b"\\u002", b"c", b"C", b"\\u002c"]


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=40),
       max_line=st.sampled_from([0, 1, 2, 5, 9, 30, 1000]),
       max_records=st.sampled_from([0, 1, 3, 100]),
       block=st.sampled_from([1, 2, 3, 7, 64, 1 << 19]))
def test_the_same_verdict_as_a_loop_over_the_lines(
        tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes], max_line: int,
        max_records: int, block: int) -> None:
    path = tmp_path_factory.mktemp("lines") / "a.jsonl"
    path.write_bytes(b"".join(pieces))
    jsonl_check._BLOCK, kept = block, jsonl_check._BLOCK
    try:
        assert count_lines(str(path), max_line, max_records) == reference(
            path, max_line, max_records)
    finally:
        jsonl_check._BLOCK = kept


@pytest.mark.parametrize("text,expected", [
    (b"", (0, 0, 0)),
    (b'{"a":1}\n{"b":2}\n', (2, 2, 0)),
    (b'{"a":1}\n{"b":2}', (2, 2, 0)),         # no newline at the end
    (b'{"a":1, "b":[1,2]}\n', (1, 2, 2)),
    # Blank lines are counted: DuckDB skips them, and then has fewer rows than lines.
    (b'{"a":1}\n\n{"b":2}\n', (3, 2, 0)),
    (b'{"a":1}\n  \r\n{"b":2}\n', (3, 2, 0)),  # a line of spaces
    (b'{"a":1}\n   ', (2, 1, 0)),               # spaces after the last newline
    (b"\n", (1, 0, 0)),
    (b'\xef\xbb\xbf{"a":1}\n', None),         # byte order mark
    # NaN and Infinity are left to DuckDB's side (see test_columnar.py).
    (b'{"a":NaN}\n', (1, 1, 0)),
    (b'{"a":1}\x0c\n', None),                # a form feed (DuckDB: a space)
    (b'\x0b{"a":1}\n', None),                # a vertical tab
    (b'{"a":"\\u002C"}\n', None),           # a comma written as an escape
])
def test_verdicts(tmp_path: Path, text: bytes, expected: tuple[int, int, int] | None) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(text)
    assert count_lines(str(path), 0, 0) == expected


def test_a_line_longer_than_the_limit_fails(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a":1}\n' + b'{"b":"' + b"x" * 5_000_000 + b'"}\n')
    assert count_lines(str(path), 1000, 0) is None
    assert count_lines(str(path), 0, 0) == (2, 2, 0)


def test_a_byte_order_mark_counts_only_at_the_start_of_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a":1}\n\xef\xbb\xbf{"b":2}\n')
    monkeypatch.setattr(jsonl_check, "_BLOCK", 1)  # each line a block of its own
    assert count_lines(str(path), 0, 0) == (2, 2, 0) == reference(path, 0, 0)


def test_a_cancelled_count_stops(tmp_path: Path) -> None:
    """The count runs in the check's thread; a cancelled check stops it at the next block."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a":1}\n' * 10)
    stop = threading.Event()
    assert count_lines(str(path), 0, 0, stop) == (10, 10, 0)
    stop.set()
    assert count_lines(str(path), 0, 0, stop) is None
