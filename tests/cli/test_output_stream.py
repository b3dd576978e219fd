"""Output to stdout arrives whole, even unbuffered (``python -u``, ``PYTHONUNBUFFERED``).

Unbuffered, stdout's bytes go to a raw stream; a write to a pipe that a signal (the
plugin watchdog's timer) interrupts takes only part of the text. Reproduced end to end
with a 20 ms watchdog and a slow reader, the JSON Lines output stopped at 64 KB; the
test below does the same deterministically with a raw stream that takes 1,000 bytes at
a time.
"""

from __future__ import annotations

import io
import sys

import pytest

from upsell_rules.cli.output_file import output_stream


class _Stingy(io.RawIOBase):
    """A raw stream that takes at most 1,000 bytes a write, as a pipe may when a signal
    interrupts a write."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        taken = bytes(b[:1000])
        self.data += taken
        return len(taken)


def test_a_raw_stdout_gets_every_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _Stingy()
    stdout = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)  # type: ignore[arg-type]
    monkeypatch.setattr(sys, "stdout", stdout)
    text = "".join(f"line {i} " + "x" * 500 + "\n" for i in range(300))
    with output_stream(None) as out:
        out.write(text)
    monkeypatch.undo()
    assert raw.data.decode() == text
