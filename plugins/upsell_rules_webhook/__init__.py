"""Webhook sink: POST one JSON body per decision to a URL, exactly once.

Registered through the ``upsell_rules`` entry point as ``webhook``. Use it with
``upsell-rules run ... --sink webhook:https://example.com/hook`` or a ruleset entry::

    sinks:
      csm_slack:
        type: webhook
        url: ${SLACK_WEBHOOK_URL}     # read from the environment at run time
        body: slack                   # {"text": "..."}: Slack, Teams and Mattermost take it
        bands: [act_now]

How a delivery goes:

- Each request carries ``Idempotency-Key``: a hash of the account id, the ruleset name and
  version and the as-of date, so the receiver can drop a repeat, and so do we: a key
  delivered successfully to a URL is written to the **ledger** (``ledger:``, by default
  ``.upsell-rules/webhook-ledger.jsonl`` in the working folder) and never sent to that URL
  again, even by a later run. Delete the ledger's line to send it once more.
- A 2xx answer is a delivery. 429, 5xx, a refused connection or a timeout (``timeout:``
  seconds) are retried ``retries:`` times with exponential backoff (``backoff:`` seconds,
  doubled each time). Any other answer (400, 401, 404...) fails at once.
- When the endpoint cannot be reached at all, the remaining decisions are reported as
  not attempted instead of each waiting through its retries.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from upsell_rules import __version__
from upsell_rules.io.delivery import redact_url
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import (
    DeliveryReport,
    DeliveryResult,
    ParamSpec,
    Sink,
    SinkContext,
)

__all__ = [
    "WEBHOOK_SINK",
    "Ledger",
    "deliver_webhook",
    "idempotency_key",
    "slack_text",
    "upsell_rules_sinks",
]

DEFAULT_LEDGER = os.path.join(".upsell-rules", "webhook-ledger.jsonl")
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def idempotency_key(account_id: str, ruleset: Mapping[str, Any], as_of: str) -> str:
    """The key for one decision: account + ruleset name and version + as-of date."""
    text = "\x1f".join(
        [account_id, str(ruleset.get("name", "")), str(ruleset.get("version", "")), as_of]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def shown_url(url: str) -> str:
    """A URL safe to print: no credentials, no query, only the first path segment."""
    return redact_url(url)


class Ledger:
    """The keys already delivered, per destination, in a JSON Lines file.

    Each successful delivery appends one line and flushes it to disk before the next
    request, so a run that stops half-way never resends what it delivered.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.delivered: set[tuple[str, str]] = set()
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue  # a line cut short by a crash: its delivery is unknown
                    if isinstance(entry, dict):
                        self.delivered.add((str(entry.get("target")), str(entry.get("key"))))

    def seen(self, target: str, key: str) -> bool:
        """True when ``key`` was delivered to ``target`` before."""
        return (target, key) in self.delivered

    def record(self, target: str, key: str, entry: Mapping[str, Any]) -> None:
        """Remember a successful delivery, durably."""
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        line = json.dumps({"target": target, "key": key, **entry}, ensure_ascii=False)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.delivered.add((target, key))


def slack_text(decision: Mapping[str, Any]) -> str:
    """A one-message summary a CSM can act on (Slack mrkdwn)."""
    action = decision.get("action") or {}
    band = str(decision.get("band", "")).replace("_", " ")
    name = decision.get("account_name") or decision.get("account_id")
    head = f"*{name}* ({decision.get('account_id')}): {band}, score {decision.get('score')}/100"
    if decision.get("blocked"):
        head += " - blocked"
    play = f"{action.get('title') or action.get('play')}, {action.get('window', '')}".strip(", ")
    lines = [head, f"Play: {play} (owner: {action.get('owner', 'unassigned')})"]
    if decision.get("narrative"):
        lines.append(str(decision["narrative"]))
    return "\n".join(lines)


def _post(
    url: str, body: bytes, headers: Mapping[str, str], timeout: float
) -> tuple[int | None, str]:
    """(status, detail); status ``None`` when no answer came (refused, timeout...)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as exc:
        text = exc.read(200).decode("utf-8", "replace").strip()
        return exc.code, f"HTTP {exc.code}" + (f": {text}" if text else "")
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            return None, "connection refused"
        return None, str(getattr(reason, "strerror", None) or reason)
    except TimeoutError:
        return None, f"no answer within {timeout:g} s"
    except OSError as exc:
        return None, str(exc.strerror or exc)


def deliver_webhook(
    decisions: Sequence[Mapping[str, Any]], context: SinkContext
) -> DeliveryReport:
    """POST each decision to ``url`` with retries, never twice for the same key."""
    options = context.options
    url = str(options.get("url") or "")
    report = DeliveryReport("webhook", shown_url(url) if url else "")
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        report.errors.append(f"url {url!r} is not an http(s) URL")
        report.results = [
            DeliveryResult(str(d.get("account_id", "")), "failed", report.errors[-1])
            for d in decisions
        ]
        return report
    body_kind = str(options.get("body") or "decision")
    timeout = float(options.get("timeout", 10))
    retries = max(0, int(options.get("retries", 3)))
    backoff = max(0.0, float(options.get("backoff", 0.5)))
    extra = options.get("headers") or {}
    ledger = Ledger(str(options.get("ledger") or DEFAULT_LEDGER))
    target = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    as_of = context.as_of.isoformat()
    unreachable = ""
    for decision in decisions:
        account_id = str(decision.get("account_id", ""))
        key = idempotency_key(account_id, context.ruleset, as_of)
        if ledger.seen(target, key):
            report.results.append(
                DeliveryResult(account_id, "skipped", f"already delivered (key {key})")
            )
            continue
        if unreachable:
            report.results.append(
                DeliveryResult(account_id, "failed",
                               f"not attempted: the endpoint was unreachable ({unreachable})")
            )
            continue
        payload: Any = {"text": slack_text(decision)} if body_kind == "slack" else decision
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "User-Agent": f"upsell-rules/{__version__}",
            **{str(k): str(v) for k, v in dict(extra).items()},
        }
        attempts = 0
        status: int | None = None
        detail = ""
        while True:
            attempts += 1
            status, detail = _post(url, body, headers, timeout)
            if status is not None and 200 <= status < 300:
                break
            retryable = status is None or status in RETRY_STATUSES
            if not retryable or attempts > retries:
                break
            time.sleep(backoff * (2 ** (attempts - 1)))
        if status is not None and 200 <= status < 300:
            ledger.record(target, key, {
                "account_id": account_id,
                "ruleset": context.ruleset.get("name"),
                "version": context.ruleset.get("version"),
                "as_of": as_of,
                "delivered_at": datetime.now(UTC).isoformat(timespec="seconds"),
            })
            report.results.append(
                DeliveryResult(account_id, "delivered", f"HTTP {status}", attempts)
            )
            continue
        tries = "attempt" if attempts == 1 else "attempts"
        report.results.append(
            DeliveryResult(account_id, "failed",
                           f"not delivered after {attempts} {tries}: {detail}", attempts)
        )
        if status is None:
            unreachable = detail
    return report


WEBHOOK_SINK = Sink(
    name="webhook",
    description=(
        "POST one JSON body per decision to a URL (the decision record, or a "
        "Slack-compatible {'text': ...}), with retries and an Idempotency-Key; never "
        "delivers the same key to the same URL twice (see the ledger option)."
    ),
    deliver=deliver_webhook,
    options={
        "url": ParamSpec("string", required=True, description="where to POST (http or https)"),
        "body": ParamSpec("string", "decision", description="decision (default) or slack"),
        "timeout": ParamSpec("number", 10, description="seconds to wait for an answer"),
        "retries": ParamSpec("integer", 3, description="retries after a 429/5xx or no answer"),
        "backoff": ParamSpec(
            "number", 0.5, description="seconds before the first retry, doubled each time"
        ),
        "ledger": ParamSpec(
            "string", DEFAULT_LEDGER, description="file of keys already delivered"
        ),
        "headers": ParamSpec("mapping", None, description="extra request headers"),
    },
    target_option="url",
)


@hookimpl(trylast=True)
def upsell_rules_sinks(register: Callable[[Sink], None]) -> None:
    """Register the webhook sink."""
    register(WEBHOOK_SINK)
