"""Writing ready-made UTF-8 lines straight to the file descriptor under a text stream.

The records DuckDB writes arrive as UTF-8 bytes, each line with its newline. Through the
text layer they would be decoded, joined and encoded again (two copies of every byte:
about 0.07 CPU-s for the 150 MB of 100,000 records, on the thread that also takes the
next lines from DuckDB). :func:`descriptor` says when the bytes can go to the stream's
file descriptor as they are, and :func:`write_buffers` writes them there with one
``writev`` per thousand lines.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Sequence
from typing import TextIO

#: Buffers one ``writev`` takes at most (POSIX guarantees 16; Linux takes 1,024).
IOV_MAX = min(os.sysconf("SC_IOV_MAX"), 1024) if hasattr(os, "sysconf") else 16


def descriptor(out: TextIO) -> int | None:
    """The file descriptor ``out`` writes to, when UTF-8 bytes written there are what
    ``out.write`` would write for their text: a plain text stream encoding UTF-8 over a
    buffered file, on a system whose line end is ``\\n`` (no newline translation).
    ``None`` for anything else (a terminal's escaping stream, a test's capture).

    The caller flushes ``out`` before writing to the descriptor, so that nothing it
    holds comes after the new bytes.
    """
    if os.name != "posix" or type(out) is not io.TextIOWrapper:
        return None
    try:
        if codecs.lookup(out.encoding).name != "utf-8":
            return None
        buffer = out.buffer
        if type(buffer) is not io.BufferedWriter or type(buffer.raw) is not io.FileIO:
            return None
        return out.fileno()
    except (AttributeError, LookupError, OSError, ValueError):
        return None


def write_buffers(fd: int, buffers: Sequence[bytes]) -> None:
    """Write every buffer to ``fd``, in order, whole.

    A write may stop early (a pipe, a signal): the rest of the buffer it stopped in is
    written before the next ``writev``. An error (a full disk, a closed pipe) is raised
    as ``OSError``, as a text stream's write raises it.
    """
    start = 0
    while start < len(buffers):
        group = buffers[start:start + IOV_MAX]
        written = os.writev(fd, group)
        for buffer in group:
            start += 1
            if written >= len(buffer):
                written -= len(buffer)
                continue
            rest = memoryview(buffer)[written:]
            while rest:
                rest = rest[os.write(fd, rest):]
            break


__all__ = ["IOV_MAX", "descriptor", "write_buffers"]
