"""Ready-made UTF-8 lines written straight to a text stream's file descriptor."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import TextIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upsell_rules.io import direct_write
from upsell_rules.io.direct_write import descriptor, write_buffers
from upsell_rules.io.formatters import EncodedBatch, EncodedDecision, write_jsonl

_WRITE = os.write
posix_only = pytest.mark.skipif(os.name != "posix", reason="descriptor() is POSIX only")


@posix_only
def test_a_utf8_file_stream_has_a_descriptor(tmp_path: Path) -> None:
    with open(tmp_path / "out.jsonl", "w", encoding="utf-8", newline="") as out:
        assert descriptor(out) == out.fileno()


@pytest.mark.parametrize(("kind", "direct"), [
    ("text in memory", False), ("a capture of bytes", False),
    ("latin-1 file", False),  # other bytes for the same text
    ("line-buffered utf-8 file", True),
])
def test_only_a_utf8_stream_over_a_file_gets_a_descriptor(tmp_path: Path, kind: str,
                                                          direct: bool) -> None:
    with contextlib.ExitStack() as stack:
        if kind == "text in memory":
            out: TextIO = io.StringIO()
        elif kind == "a capture of bytes":
            out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        else:
            encoding = "latin-1" if kind.startswith("latin") else "utf-8"
            out = stack.enter_context(open(tmp_path / "out.txt", "w", encoding=encoding,
                                           buffering=1))
        assert descriptor(out) == (out.fileno() if direct and os.name == "posix" else None)


class _ShortWrites:
    """``os.writev``/``os.write`` that write at most ``sizes[i]`` bytes on call ``i``
    (then everything), as a pipe or a signal can make them do."""

    def __init__(self, fd: int, sizes: list[int]) -> None:
        self.fd, self.sizes, self.calls = fd, sizes, 0

    def _limit(self) -> int | None:
        limit = self.sizes[self.calls] if self.calls < len(self.sizes) else None
        self.calls += 1
        return limit

    def writev(self, fd: int, buffers: list[bytes]) -> int:
        data = b"".join(bytes(b) for b in buffers)
        limit = self._limit()
        return _WRITE(fd, data if limit is None else data[:max(limit, 1)])

    def write(self, fd: int, data: bytes | memoryview) -> int:
        limit = self._limit()
        data = bytes(data)
        return _WRITE(fd, data if limit is None else data[:max(limit, 1)])


@settings(max_examples=60, deadline=None)
@given(buffers=st.lists(st.binary(max_size=40), max_size=30),
       sizes=st.lists(st.integers(0, 50), max_size=12),
       iov_max=st.sampled_from([1, 2, 3, 1024]))
def test_every_byte_is_written_once_in_order_whatever_the_writes_take(
        tmp_path_factory: pytest.TempPathFactory, buffers: list[bytes], sizes: list[int],
        iov_max: int) -> None:
    path = tmp_path_factory.mktemp("w") / "out"
    with open(path, "wb") as handle:
        short = _ShortWrites(handle.fileno(), sizes)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(direct_write, "IOV_MAX", iov_max)
            patch.setattr(direct_write.os, "writev", short.writev)
            patch.setattr(direct_write.os, "write", short.write)
            write_buffers(handle.fileno(), buffers)
    assert path.read_bytes() == b"".join(buffers)


def test_a_write_error_is_raised(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        with pytest.raises(BrokenPipeError):
            write_buffers(write_end, [b"a\n"])
    finally:
        os.close(write_end)


def _mixed() -> list[EncodedBatch | EncodedDecision]:
    return [EncodedBatch([b'{"a":1}\n', b'{"a":"\xc3\xa9"}\n'], ["wait", "wait"]),
            EncodedDecision('{"a":3}', "wait", "A3"),
            EncodedBatch([b'{"a":4}\n'], ["wait"])]


def test_batches_and_single_decisions_keep_their_order_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("")  # nothing held back from before is lost or reordered
        write_jsonl(_mixed(), out)
    assert path.read_bytes() == b'{"a":1}\n{"a":"\xc3\xa9"}\n{"a":3}\n{"a":4}\n'


def test_a_stream_without_a_file_gets_the_same_text() -> None:
    out = io.StringIO()
    write_jsonl(_mixed(), out)
    assert out.getvalue() == '{"a":1}\n{"a":"é"}\n{"a":3}\n{"a":4}\n'


@posix_only
def test_an_output_file_gets_the_bytes_directly(tmp_path: Path) -> None:
    from upsell_rules.cli.output_file import output_stream

    with output_stream(str(tmp_path / "out.jsonl"), data=True) as out:
        assert descriptor(out) is not None
