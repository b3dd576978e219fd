"""Checks for the two issue-12 fuzz targets: message templates and webhook answers.

Like :mod:`harness`, each ``check_*`` raises only when the project misbehaves:

- a template either parses or fails with a :class:`TemplateError` at an offset inside
  it; a parsed one renders (compiled and reference forms alike) to at most
  ``MAX_RENDERED`` characters or fails with :class:`RenderLimitError`, quickly, and a
  value is inserted as text, never read as a template;
- whatever bytes an HTTP endpoint on 127.0.0.1 answers with, the webhook sink reports
  the decision as delivered only for a complete 2xx status line, records the ledger
  only then, never follows anything, and its detail holds no control character and
  none of the URL's secrets.
"""

from __future__ import annotations

import re
import socket
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _extra in (ROOT, ROOT / "plugins"):
    if str(_extra) not in sys.path:
        sys.path.append(str(_extra))

from upsell_rules.plugin.types import SinkContext  # noqa: E402
from upsell_rules.ruleset.templates import (  # noqa: E402
    MAX_PLACEHOLDERS,
    MAX_RENDERED,
    RenderLimitError,
    TemplateError,
    parse_template,
)
from upsell_rules_webhook import deliver_webhook  # noqa: E402

#: One input taking longer than this is a hang (templates: the ~1 s budget, with room).
TIME_LIMIT = 5.0

# --- templates -----------------------------------------------------------------------


def _values(blob: str) -> dict[str, Any]:
    """Sample values, some taken from the input so that long and odd ones occur."""
    long_text = (blob * (1 + MAX_RENDERED // max(len(blob), 1)))[: MAX_RENDERED + 7]
    return {
        "a": blob, "b": 0.123456, "c": [blob, 3, None], "d": None, "e": [], "f": True,
        "g": date(2026, 11, 2), "h": 10**30, "i": float("inf"), "j": "{a}", "k": long_text,
        "n": -7, "x": blob[: len(blob) // 2],
    }


def check_template(data: bytes) -> None:
    """Parse and render one template (the text before the first NUL; values after it)."""
    text, _, rest = data.decode("utf-8", "replace").partition("\x00")
    start = time.perf_counter()
    try:
        template = parse_template(text)
    except TemplateError as exc:
        assert 0 <= exc.offset <= max(len(text), MAX_RENDERED), (exc.offset, len(text))
        assert exc.message
        return
    assert len(template.names) <= MAX_PLACEHOLDERS
    values = _values(rest)
    outcomes = []
    for render in (template.render, template.render_reference):
        try:
            out: str | None = render(values)
        except RenderLimitError:
            out = None
        assert out is None or len(out) <= MAX_RENDERED, len(out or "")
        outcomes.append(out)
    assert outcomes[0] == outcomes[1], (text[:80], [o and o[:80] for o in outcomes])
    if outcomes[0] is not None and template.names == ["j"]:
        assert "{a}" in outcomes[0]  # a value that looks like a template stays text
    assert time.perf_counter() - start < TIME_LIMIT


# --- webhook answers ---------------------------------------------------------------------

_SECRET = "S3CRETpathTOKEN"


class _Server:
    """One loopback TCP server answering every request with :attr:`answer`, verbatim."""

    def __init__(self) -> None:
        self.answer = b""
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/{_SECRET}/hook?t={_SECRET}"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(2)
                received = b""
                try:
                    while b"\r\n\r\n" not in received:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        received += chunk
                    head, _, body = received.partition(b"\r\n\r\n")
                    match = re.search(rb"(?i)content-length:\s*(\d+)", head)
                    need = int(match.group(1)) if match else 0
                    while len(body) < need:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        body += chunk
                    conn.sendall(self.answer)
                except OSError:
                    pass


_SERVER: _Server | None = None
_WORK = Path(tempfile.mkdtemp(prefix="upsell-rules-fuzz-hook-"))
_STATUS = re.compile(rb"^HTTP/1\.[01] (2\d\d)[ \r]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def check_webhook_answer(data: bytes) -> None:
    """Send one decision to a server that answers with ``data``; check the report."""
    global _SERVER
    if _SERVER is None:
        _SERVER = _Server()
    _SERVER.answer = data
    ledger = _WORK / "ledger.jsonl"
    ledger.unlink(missing_ok=True)
    options = {"url": _SERVER.url, "ledger": str(ledger), "timeout": 1, "retries": 0,
               "deadline": 2, "lock_wait": 0, "headers": {"Authorization": f"Bearer {_SECRET}"}}
    context = SinkContext(options, {"name": "fuzz", "version": "1"}, date(2026, 11, 2),
                          "fuzz", "--sink")
    start = time.perf_counter()
    report = deliver_webhook([{"account_id": "A-1", "band": "act_now"}], context)
    assert time.perf_counter() - start < TIME_LIMIT
    (result,) = report.results
    assert result.status in ("delivered", "failed"), result
    if result.status == "delivered":
        assert _STATUS.match(data), data[:40]
        assert ledger.exists()
    else:
        assert not ledger.exists()
    shown = " ".join([result.detail, report.target, *report.errors])
    assert _SECRET not in shown, shown
    assert not _CONTROL.search(shown), shown
