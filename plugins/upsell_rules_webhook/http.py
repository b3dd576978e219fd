"""One POST with a total deadline, no redirect followed, and a safe short answer.

``urllib`` follows a ``302`` to any host as a ``GET`` without the body and with the
caller's headers, and its timeout applies to each read, so an endpoint that trickles one
byte at a time keeps a run waiting for ever. :func:`post` uses ``http.client`` itself:
the deadline covers connecting, sending and the answer together, a redirect is an
answer like any other (the caller reports it as not delivered), and nothing is sent
anywhere but the URL given.
"""

from __future__ import annotations

import io
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from upsell_rules.safetext import printable, redact_url

#: Characters of an error answer's body kept for the report.
DETAIL_CHARS = 200


@dataclass(frozen=True)
class Answer:
    """What came back: ``status`` ``None`` when no answer came (refused, deadline...)."""

    status: int | None
    detail: str = ""
    location: str = ""


class _DeadlineSocket:
    """A socket whose every send and receive must finish before one deadline."""

    def __init__(self, sock: Any, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._refs = 0
        self._closing = False

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        self._sock.settimeout(left)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return int(self._sock.recv_into(buffer, nbytes, flags))

    def sendall(self, data: bytes) -> None:
        self._arm()
        self._sock.sendall(data)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        import socket

        self._refs += 1
        return io.BufferedReader(socket.SocketIO(self, "rb"))  # type: ignore[arg-type]

    # Like socket.socket: the connection may close while a response is still being
    # read; the socket itself closes when both are done.
    def _decref_socketios(self) -> None:
        self._refs -= 1
        if self._refs <= 0 and self._closing:
            self._sock.close()

    def close(self) -> None:
        self._closing = True
        if self._refs <= 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _connection(parts: urllib.parse.SplitResult, timeout: float, deadline: float) -> Any:
    import http.client

    base = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection

    class Connection(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            super().connect()
            self.sock = _DeadlineSocket(self.sock, deadline)  # type: ignore[has-type]

    return Connection(parts.hostname or "", parts.port, timeout=timeout)


def answer_detail(status: int, body: bytes) -> str:
    """``HTTP 503: try later``: the status and the start of the body, printable."""
    text = body[:DETAIL_CHARS].decode("utf-8", "replace").strip()
    return f"HTTP {status}" + (f": {printable(' '.join(text.split()))}" if text else "")


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Answer:
    """POST ``body`` to ``url``; the whole exchange must end within ``timeout`` seconds."""
    # Imported on the first post: http.client brings in ssl, a hundredth of a second on
    # every start of the command line, which mostly sends nothing.
    import http.client

    deadline = time.monotonic() + timeout
    parts = urllib.parse.urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    connection = _connection(parts, timeout, deadline)
    try:
        connection.request("POST", target, body=body, headers=dict(headers))
        response = connection.getresponse()
        try:
            status = int(response.status)
            location = response.getheader("Location") or ""
            if 200 <= status < 300:
                return Answer(status)
            return Answer(status, answer_detail(status, response.read(DETAIL_CHARS)), location)
        finally:
            response.close()
    except ConnectionRefusedError:
        return Answer(None, "connection refused")
    except TimeoutError:
        return Answer(None, f"no complete answer within {timeout:g} s")
    except http.client.HTTPException as exc:
        return Answer(None, f"not a valid HTTP answer ({type(exc).__name__})")
    except OSError as exc:
        return Answer(None, printable(str(exc.strerror or type(exc).__name__)))
    finally:
        connection.close()


def redirect_detail(answer: Answer, url: str) -> str:
    """Why a redirect is not a delivery, naming where it pointed (redacted)."""
    where = urllib.parse.urljoin(url, answer.location) if answer.location else ""
    shown = f" to {redact_url(where)}" if where else ""
    return (
        f"HTTP {answer.status}: redirected{shown}; a redirect is not followed, so the "
        "decision was not delivered (give the final URL)"
    )
