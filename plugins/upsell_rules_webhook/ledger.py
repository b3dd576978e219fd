"""The ledger of keys already delivered: one run at a time, lines a shell cannot run.

A run takes an exclusive lock (``LEDGER.lock``, ``flock``) for as long as it delivers,
then reads the ledger, so two runs sharing it never both send a decision: the second
waits up to ``wait`` seconds, then stops with a message naming the ledger.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import IO, Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, documented
    fcntl = None  # type: ignore[assignment]


class LedgerBusy(Exception):
    """Another run holds the ledger's lock."""


def inert_line(entry: Mapping[str, Any]) -> str:
    """``entry`` as one JSON line in which a shell would expand nothing.

    ASCII only, and ``$``, backquote and ``!`` written as ``\\uXXXX`` escapes (they can
    only occur inside JSON strings, which a shell reads as double-quoted text): even a
    ledger pointed at a shell start-up file holds no command substitution.
    """
    text = json.dumps(entry, ensure_ascii=True)
    return text.replace("$", "\\u0024").replace("`", "\\u0060").replace("!", "\\u0021")


class Ledger:
    """The keys already delivered, per destination, in a JSON Lines file.

    Each successful delivery appends one line and flushes it to disk before the next
    request, so a run that stops half-way never resends what it delivered.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.delivered: set[tuple[str, str]] = set()
        self._lock: IO[str] | None = None
        self.load()

    def load(self) -> None:
        """Read the keys delivered so far (again, once the lock is held)."""
        self.delivered.clear()
        if not os.path.exists(self.path):
            return
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash: its delivery is unknown
                if isinstance(entry, dict):
                    self.delivered.add((str(entry.get("target")), str(entry.get("key"))))

    def lock(self, wait: float) -> None:
        """Hold the ledger for this run; :class:`LedgerBusy` after ``wait`` seconds."""
        if fcntl is None:
            return
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        handle = open(self.path + ".lock", "a", encoding="utf-8")  # noqa: SIM115 - held
        give_up = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    handle.close()
                    raise LedgerBusy(
                        f"the ledger {self.path} is in use by another run (waited {wait:g} s); "
                        "run again when it ends, or give this sink its own ledger:"
                    ) from None
                time.sleep(0.05)
        self._lock = handle
        self.load()

    def unlock(self) -> None:
        """Let another run use the ledger."""
        if self._lock is not None:
            self._lock.close()  # closing the file releases the flock
            self._lock = None

    def seen(self, target: str, key: str) -> bool:
        """True when ``key`` was delivered to ``target`` before."""
        return (target, key) in self.delivered

    def record(self, target: str, key: str, entry: Mapping[str, Any]) -> None:
        """Remember a successful delivery, durably."""
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        line = inert_line({"target": target, "key": key, **entry})
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.delivered.add((target, key))
