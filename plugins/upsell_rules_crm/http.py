"""A small JSON-over-HTTP client with the retry rules both CRM sinks share.

- 2xx is success; the JSON body (if any) is returned.
- 401 fails at once: the token named by the ruleset is wrong or expired, and no retry
  will fix that; the caller stops the batch.
- 429 waits for ``Retry-After`` (seconds, capped at ``max_wait``) and retries.
- 5xx, a refused connection and a timeout retry with exponential backoff and full
  jitter (a random wait between 0 and ``backoff * 2**attempt``), so that many runs
  hitting a recovering API do not retry in step.
- Anything else (400, 403, 404...) fails at once with the API's message.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Waits go through this, so tests can record them instead of sleeping.
SLEEP: Callable[[float], None] = time.sleep
#: The jitter's randomness (seeded in tests).
RANDOM = random.Random()


class Unauthorized(Exception):
    """The API answered 401."""


@dataclass
class Answer:
    """The outcome of one call after its retries."""

    status: int | None
    body: Any
    attempts: int
    detail: str

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


def _once(method: str, url: str, body: Any, headers: Mapping[str, str],
          timeout: float) -> tuple[int | None, Any, Mapping[str, str], str]:
    # Imported on the first request: urllib.request brings in http.client and ssl, a
    # hundredth of a second on every start of the command line, which rarely calls a CRM.
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Accept": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, {}, ""
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")[:200]
        answer_headers = {k: v for k, v in exc.headers.items()} if exc.headers else {}
        return exc.code, parsed, answer_headers, f"HTTP {exc.code}: {_message(parsed)}"
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, None, {}, f"no answer: {reason}"


def _message(body: Any) -> str:
    """The error text of a HubSpot (``message``) or Salesforce (``[{message}]``) answer."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, dict):
        code = body.get("errorCode") or body.get("category") or ""
        text = str(body.get("message") or "")
        return f"{text} ({code})" if code else text
    return str(body or "")


def call(method: str, url: str, body: Any, headers: Mapping[str, str], *, retries: int = 4,
         backoff: float = 0.5, max_wait: float = 60.0, timeout: float = 20.0) -> Answer:
    """One API call with the retry rules of the module docstring.

    Raises :class:`Unauthorized` on a 401.
    """
    attempts = 0
    while True:
        attempts += 1
        status, parsed, answer_headers, detail = _once(method, url, body, headers, timeout)
        if status is not None and 200 <= status < 300:
            return Answer(status, parsed, attempts, f"HTTP {status}")
        if status == 401:
            raise Unauthorized(detail)
        retryable = status is None or status == 429 or status >= 500
        if not retryable or attempts > retries:
            return Answer(status, parsed, attempts, detail)
        if status == 429:
            wait = _retry_after(answer_headers.get("Retry-After"), backoff * 2 ** attempts)
        else:
            wait = RANDOM.uniform(0, backoff * 2 ** (attempts - 1))
        SLEEP(min(wait, max_wait))


def _retry_after(value: str | None, fallback: float) -> float:
    try:
        return max(0.0, float(value)) if value is not None else fallback
    except ValueError:
        return fallback
