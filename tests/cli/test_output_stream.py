"""Output to stdout arrives whole, even unbuffered (``python -u``) while signals arrive."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from tests.support import AS_OF, ROOT
from upsell_rules.cli.output_file import output_stream
from upsell_rules.io.synthetic import generate_accounts, write_jsonl


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


def test_unbuffered_json_lines_on_a_slow_pipe_are_complete(tmp_path: Path) -> None:
    data = tmp_path / "accounts.jsonl"
    write_jsonl(data, generate_accounts(600, 7, date.fromisoformat(AS_OF)))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "UPSELL_RULES_PLUGIN_TIMEOUT": "0.02"}
    command = [sys.executable, "-m", "upsell_rules", "dry-run", "upsell_timing", "--data",
               str(data), "--as-of", AS_OF, "--format", "jsonl", "--no-state"]
    expected = subprocess.run([*command, "-o", str(tmp_path / "out.jsonl")], env=env,
                              cwd=ROOT, capture_output=True, check=True)
    assert expected.returncode == 0
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    chunks = []
    while chunk := process.stdout.read(4096):
        chunks.append(chunk)
        time.sleep(0.001)  # a slow reader: the writer waits on a full pipe, ticks arrive
    process.wait(timeout=120)
    assert b"".join(chunks) == (tmp_path / "out.jsonl").read_bytes()
