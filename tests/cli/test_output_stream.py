"""Output to stdout arrives whole, even unbuffered (``python -u``, ``PYTHONUNBUFFERED``).

Unbuffered, stdout's bytes go to a raw stream; a write to a pipe that a signal (the
plugin watchdog's timer) interrupts takes only part of the text. Reproduced end to end
with a 20 ms watchdog and a slow reader, the JSON Lines output stopped at 64 KB; the
test below does the same deterministically with a raw stream that takes 1,000 bytes at
a time.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from pathlib import Path

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


def test_a_file_output_is_flushed_to_disk_as_it_grows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A thread flushes what was written so far while the output is written (the final
    flush then waits only for the last part); it stops before the file is closed, and
    the file is renamed into place whole."""
    from upsell_rules.cli import output_file

    synced: list[int] = []
    flush = getattr(os, "fdatasync", os.fsync)
    monkeypatch.setattr(output_file, "SYNC_EVERY", 0.005)
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(fd), flush(fd)),
                        raising=False)  # no fdatasync on macOS: the code uses fsync there
    target = tmp_path / "records.jsonl"
    with output_stream(str(target)) as out:
        for number in range(20):
            out.write(f"line {number}\n")
            out.flush()
            time.sleep(0.01)
    assert synced, "nothing was flushed while the output was written"
    assert not [t for t in threading.enumerate() if t.name == "upsell-rules-output-sync"]
    assert target.read_text() == "".join(f"line {n}\n" for n in range(20))


def test_a_failed_flush_on_the_way_leaves_the_output_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A flush that fails while the output is written stops the flushing thread without
    a word: the final flush (and its error, if the disk is really failing) decides."""
    from upsell_rules.cli import output_file

    monkeypatch.setattr(output_file, "SYNC_EVERY", 0.001)

    def failing(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fdatasync", failing, raising=False)
    target = tmp_path / "records.jsonl"
    with output_stream(str(target)) as out:
        out.write("one\n")
        time.sleep(0.02)
        out.write("two\n")
    assert target.read_text() == "one\ntwo\n"
