"""Writing ``--output`` files atomically, and refusing to write over an input."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from upsell_rules.cli.exits import usage_error
from upsell_rules.cli.plugin_stdout import tool_stdout
from upsell_rules.io.sinks import replaced_file_mode
from upsell_rules.safetext import for_terminal


@contextmanager
def output_stream(path: str | None, *, data: bool = False) -> Iterator[TextIO]:
    """Write to ``path`` atomically, or to stdout.

    ``data`` marks text that carries values from the data as they are (CSV, JSON): on a
    terminal its control characters are written as escapes
    (:func:`~upsell_rules.safetext.for_terminal`). Text the tool styles itself (a table
    with bold headers) is written as it is.

    The output goes to a temporary file in the same folder (a rename never crosses file
    systems), is flushed to disk, and is then renamed over ``path`` in one step: anyone
    reading ``path`` sees the previous file or the new one, never a part of one. When the
    run stops early (an error, Ctrl-C, SIGTERM) the temporary file is removed and
    ``path`` is left as it was. Only SIGKILL or a crash of the machine can leave a
    ``.upsell-rules-*.tmp`` file behind, and still never a partial ``path``. The new
    file gets the permissions of the one it replaces (or the usual ones for a new file).
    """
    if path is None:
        with _whole_writes(tool_stdout()) as out:
            yield for_terminal(out) if data else out
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        usage_error(f"--output {path}: folder {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".upsell-rules-", suffix=".tmp", dir=directory)
    except OSError as exc:
        usage_error(f"--output {path}: cannot write in {directory}: "
                    f"{exc.strerror or exc}")
    try:
        with _sigterm_as_exit(), os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            with _syncing(fd):
                yield handle
                handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, replaced_file_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in _FULL:
            usage_error(f"--output {path}: cannot write: "
                        f"{exc.strerror or exc}; the previous file (if any) was kept")
        raise


#: Seconds between two flushes to disk of what a large output has written so far.
SYNC_EVERY = 0.25


@contextmanager
def _syncing(fd: int) -> Iterator[None]:
    """Flush what is written to ``fd`` to disk every :data:`SYNC_EVERY` seconds, in a
    thread of its own, until the block ends.

    The output is flushed to disk before it is renamed into place; left to the end, that
    flush waited for the whole file (0.07 s for the 150 MB of 100,000 decision records,
    0.7 s for a million), with nothing else to do. Flushed as it grows, only the last
    part is left to wait for. The thread is stopped before ``fd`` is closed.
    """
    stop = threading.Event()
    flush = getattr(os, "fdatasync", os.fsync)  # no fdatasync on macOS

    def sync() -> None:
        while not stop.wait(SYNC_EVERY):
            try:
                flush(fd)
            except OSError:
                return  # the final fsync says what is wrong

    thread = threading.Thread(target=sync, name="upsell-rules-output-sync", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def _whole_writes(out: TextIO) -> Iterator[TextIO]:
    """``out``, or, when its bytes go straight to the file descriptor (``python -u``,
    ``PYTHONUNBUFFERED``), a buffered text stream over the same descriptor.

    Unbuffered, a write to a pipe that a signal interrupts (the plugin watchdog's timer
    ticks) writes part of the text and returns its length, and the text layer drops the
    rest without a word: a large JSON Lines write lost its tail. A buffered writer writes
    until everything is out.
    """
    binary = getattr(out, "buffer", None)
    if not isinstance(binary, io.RawIOBase):
        yield out
        return
    out.flush()
    buffered = io.BufferedWriter(binary)
    text = io.TextIOWrapper(buffered, encoding=out.encoding, errors=out.errors)
    try:
        yield text
    finally:
        text.flush()
        text.detach()
        buffered.detach()  # the descriptor stays sys.stdout's, open


#: Errors of a full disk, a quota or a file-size limit (ulimit -f): exit 2, not a traceback.
_FULL = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def refuse_output_over_input(output: str | None, inputs: Sequence[str]) -> None:
    """Exit 2 when ``--output`` names one of the input files: it would be overwritten."""
    if output is None or not os.path.exists(output):
        return
    for spec in inputs:
        for candidate in (spec, spec.partition(":")[2]):
            try:
                same = bool(candidate) and os.path.samefile(candidate, output)
            except OSError:
                same = False
            if same:
                usage_error(f"--output {output} is the input {spec}: "
                            "writing it would destroy the input; choose another file")



@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit(143)`` inside the block, so cleanup code runs.

    The default action of SIGTERM ends the process on the spot; a temporary output file
    would then stay behind. Only the main thread can set signal handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
