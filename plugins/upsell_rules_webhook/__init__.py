"""Webhook sink: POST one JSON body per decision to a URL, with an idempotency key.

Registered through the ``upsell_rules`` entry point as ``webhook``. Use it with
``upsell-rules run ... --sink webhook:https://example.com/hook`` or a ruleset entry::

    sinks:
      csm_slack:
        type: webhook
        url: ${UPSELL_RULES_SLACK_URL}   # read from the environment at run time
        body: slack                      # {"text": "..."}: Slack, Teams and Mattermost take it
        bands: [act_now]

How a delivery goes (docs/security.md says exactly what is guaranteed):

- Each request carries ``Idempotency-Key``: a hash of the account id, the ruleset name and
  version and the as-of date (with a state store, the transition's key), so the
  receiver can drop a repeat, and so do we: a key
  delivered successfully to a URL is written to the **ledger** (``ledger:``, by default
  ``.upsell-rules/webhook-ledger.jsonl`` in the working folder; in a ruleset, a path
  inside the ruleset's folder) and never sent to that URL again, even by a later run.
  One run at a time uses a ledger: another waits ``lock_wait`` seconds, then stops.
- Only a 2xx answer is a delivery. A redirect is not followed: it is a failed delivery
  (the body and headers never go to another URL). 429, 5xx, a refused connection or no
  complete answer within ``timeout`` seconds (connecting, sending and the answer
  together) are retried ``retries`` times with exponential backoff (``backoff:``
  seconds, doubled each time, each wait at most 60 s), all within ``deadline`` seconds
  per decision. Any other answer (400, 401, 404...) fails at once.
- When the endpoint cannot be reached at all, the remaining decisions are reported as
  not attempted instead of each waiting through its retries.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from upsell_rules import __version__
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import (
    DeliveryReport,
    DeliveryResult,
    ParamSpec,
    Sink,
    SinkContext,
)
from upsell_rules.safetext import redact_text, redact_url
from upsell_rules_webhook.http import Answer, post, redirect_detail
from upsell_rules_webhook.ledger import Ledger, LedgerBusy, inert_line

__all__ = [
    "LIMITS",
    "WEBHOOK_SINK",
    "Ledger",
    "deliver_webhook",
    "delivery_key",
    "idempotency_key",
    "inert_line",
    "slack_escape",
    "slack_text",
    "upsell_rules_sinks",
]

DEFAULT_LEDGER = os.path.join(".upsell-rules", "webhook-ledger.jsonl")
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: The most a ruleset (or --sink) may ask for: option -> (lowest, highest).
LIMITS: dict[str, tuple[float, float]] = {
    "timeout": (0.05, 120.0),
    "retries": (0, 10),
    "backoff": (0.0, 30.0),
    "deadline": (0.1, 600.0),
    "lock_wait": (0.0, 600.0),
}
#: The longest wait between two attempts, however many retries.
MAX_WAIT = 60.0
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_HEADER_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def idempotency_key(account_id: str, ruleset: Mapping[str, Any], as_of: str) -> str:
    """The key for one decision: account + ruleset name and version + as-of date."""
    text = "\x1f".join(
        [account_id, str(ruleset.get("name", "")), str(ruleset.get("version", "")), as_of]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def delivery_key(decision: Mapping[str, Any], ruleset: Mapping[str, Any], as_of: str) -> str:
    """The ``Idempotency-Key`` of one delivery.

    A decision a state store delivers carries its transition's key: an account that
    changes twice in one day (a rerun on a corrected export, watch mode) sends two
    transitions, and one key per account and day would have the second one dropped as
    a repeat, by the ledger and by the receiver. Without a store, :func:`idempotency_key`.
    """
    transition = decision.get("transition")
    if isinstance(transition, Mapping) and transition.get("key"):
        return str(transition["key"])
    return idempotency_key(str(decision.get("account_id", "")), ruleset, as_of)


def shown_url(url: str) -> str:
    """A URL safe to print (see :func:`upsell_rules.safetext.redact_url`)."""
    return redact_url(url)


def slack_escape(value: Any) -> str:
    """A value from the data as Slack text: ``&``, ``<`` and ``>`` escaped.

    Slack reads ``<!channel>``, ``<@U123>`` and ``<https://x|label>`` as a mention or a
    link; escaped, an account name can neither ping a channel nor disguise a link.
    """
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(decision: Mapping[str, Any]) -> str:
    """A one-message summary a CSM can act on (Slack mrkdwn), every value escaped."""
    e = slack_escape
    action = decision.get("action") or {}
    band = str(decision.get("band", "")).replace("_", " ")
    name = decision.get("account_name") or decision.get("account_id")
    head = (
        f"*{e(name)}* ({e(decision.get('account_id'))}): {e(band)}, "
        f"score {e(decision.get('score'))}/100"
    )
    if decision.get("blocked"):
        head += " - blocked"
    play = f"{action.get('title') or action.get('play')}, {action.get('window', '')}".strip(", ")
    lines = [head, f"Play: {e(play)} (owner: {e(action.get('owner', 'unassigned'))})"]
    if decision.get("narrative"):
        lines.append(e(decision["narrative"]))
    return "\n".join(lines)


def _settings(options: Mapping[str, Any]) -> tuple[dict[str, float], list[str]]:
    """The numeric options, and a message for each one outside :data:`LIMITS`."""
    values: dict[str, float] = {}
    problems: list[str] = []
    defaults = {"timeout": 10, "retries": 3, "backoff": 0.5, "deadline": 120, "lock_wait": 30}
    for name, (low, high) in LIMITS.items():
        raw = options.get(name, defaults[name])
        try:
            value = float(raw)
        except (TypeError, ValueError):
            problems.append(f"{name}: {raw!r} is not a number")
            continue
        if not low <= value <= high:
            problems.append(f"{name}: {raw!r} is outside {low:g}..{high:g} (a limit)")
        values[name] = value
    return values, problems


def _headers(extra: Any) -> tuple[dict[str, str], list[str]]:
    """Extra headers, and a message (never the value) for each one a request cannot carry."""
    headers: dict[str, str] = {}
    problems: list[str] = []
    for name, value in dict(extra or {}).items():
        name, value = str(name), str(value)
        if not _HEADER_NAME.match(name):
            problems.append(f"headers: {redact_text(name)[:40]!r} is not a header name")
        elif _HEADER_VALUE.search(value):
            problems.append(
                f"headers: the value of {name} holds a line break or control character "
                "(not shown: it may be a secret)"
            )
        else:
            headers[name] = value
    return headers, problems


def _secrets(url: str, headers: Mapping[str, str]) -> list[str]:
    """Parts of the URL and header values an answer may echo back (longest first)."""
    parts = urllib.parse.urlsplit(url)
    found = [seg for seg in parts.path.split("/") if seg]
    found += [v for _, v in urllib.parse.parse_qsl(parts.query)] + [parts.query]
    found += [parts.password or "", parts.username or "", *headers.values()]
    found += [word for value in headers.values() for word in value.split()]
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def _scrub(detail: str, secrets: Sequence[str]) -> str:
    """``detail`` with every secret replaced by ``***`` (an endpoint may echo them)."""
    for secret in secrets:
        detail = detail.replace(secret, "***")
    return detail


def _fail_all(report: DeliveryReport, decisions: Sequence[Mapping[str, Any]]) -> DeliveryReport:
    reason = "; ".join(report.errors)
    report.results = [
        DeliveryResult(str(d.get("account_id", "")), "failed", reason) for d in decisions
    ]
    return report


def _attempts(
    url: str, body: bytes, headers: Mapping[str, str], settings: Mapping[str, float]
) -> tuple[Answer, int]:
    """Send until delivered, refused for good, out of retries or past the deadline."""
    give_up = time.monotonic() + settings["deadline"]
    attempts = 0
    while True:
        attempts += 1
        left = give_up - time.monotonic()
        answer = post(url, body, headers, min(settings["timeout"], max(left, 0.05)))
        status = answer.status
        if status is not None and 200 <= status < 300:
            return answer, attempts
        if status is not None and 300 <= status < 400:
            return Answer(status, redirect_detail(answer, url)), attempts
        retryable = status is None or status in RETRY_STATUSES
        if not retryable or attempts > settings["retries"]:
            return answer, attempts
        wait = min(settings["backoff"] * (2 ** (attempts - 1)), MAX_WAIT)
        if time.monotonic() + wait >= give_up:
            detail = f"{answer.detail}; gave up at the {settings['deadline']:g} s deadline"
            return Answer(status, detail), attempts
        time.sleep(wait)


def deliver_webhook(
    decisions: Sequence[Mapping[str, Any]], context: SinkContext
) -> DeliveryReport:
    """POST each decision to ``url`` with retries, never twice for the same key."""
    options = context.options
    url = str(options.get("url") or "")
    report = DeliveryReport("webhook", shown_url(url) if url else "")
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
        bad_url = parts.scheme not in ("http", "https") or not parts.hostname
    except ValueError:
        bad_url = True
    if bad_url or any(c.isspace() for c in url):
        report.errors.append(f"url {shown_url(url)} is not a valid http(s) URL")
    settings, problems = _settings(options)
    headers_extra, header_problems = _headers(options.get("headers"))
    report.errors.extend(problems + header_problems)
    if report.errors:
        return _fail_all(report, decisions)
    ledger = Ledger(str(options.get("ledger") or DEFAULT_LEDGER))
    try:
        ledger.lock(settings["lock_wait"])
    except LedgerBusy as exc:
        report.errors.append(str(exc))
        return _fail_all(report, decisions)
    try:
        _deliver_each(decisions, context, url, settings, headers_extra, ledger, report)
    finally:
        ledger.unlock()
    return report


def _deliver_each(
    decisions: Sequence[Mapping[str, Any]],
    context: SinkContext,
    url: str,
    settings: Mapping[str, float],
    extra: Mapping[str, str],
    ledger: Ledger,
    report: DeliveryReport,
) -> None:
    body_kind = str(context.options.get("body") or "decision")
    target = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    as_of = context.as_of.isoformat()
    unreachable = ""
    secrets = _secrets(url, extra)
    for decision in decisions:
        account_id = str(decision.get("account_id", ""))
        key = delivery_key(decision, context.ruleset, as_of)
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
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8", "backslashreplace")
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "User-Agent": f"upsell-rules/{__version__}",
            **extra,
        }
        answer, attempts = _attempts(url, body, headers, settings)
        answer = Answer(answer.status, _scrub(answer.detail, secrets))
        if answer.status is not None and 200 <= answer.status < 300:
            ledger.record(target, key, {
                "account_id": account_id,
                "ruleset": context.ruleset.get("name"),
                "version": context.ruleset.get("version"),
                "as_of": as_of,
                "delivered_at": datetime.now(UTC).isoformat(timespec="seconds"),
            })
            report.results.append(
                DeliveryResult(account_id, "delivered", f"HTTP {answer.status}", attempts)
            )
            continue
        tries = "attempt" if attempts == 1 else "attempts"
        report.results.append(
            DeliveryResult(account_id, "failed",
                           f"not delivered after {attempts} {tries}: {answer.detail}", attempts)
        )
        if answer.status is None:
            unreachable = answer.detail


WEBHOOK_SINK = Sink(
    name="webhook",
    description=(
        "POST one JSON body per decision to a URL (the decision record, or a "
        "Slack-compatible {'text': ...}), with bounded retries and an Idempotency-Key; "
        "a key delivered to a URL is not sent there again (see the ledger option)."
    ),
    deliver=deliver_webhook,
    options={
        "url": ParamSpec("string", required=True, description="where to POST (http or https)"),
        "body": ParamSpec("string", "decision", description="decision (default) or slack"),
        "timeout": ParamSpec(
            "number", 10,
            description="seconds for one request, answer included (at most 120)",
        ),
        "retries": ParamSpec(
            "integer", 3, description="retries after a 429/5xx or no answer (at most 10)"
        ),
        "backoff": ParamSpec(
            "number", 0.5,
            description="seconds before the first retry, doubled each time (at most 30)",
        ),
        "deadline": ParamSpec(
            "number", 120,
            description="seconds for one decision, retries included (at most 600)",
        ),
        "lock_wait": ParamSpec(
            "number", 30,
            description="seconds to wait for another run using the ledger (at most 600)",
        ),
        "ledger": ParamSpec(
            "string", DEFAULT_LEDGER, is_path=True,
            description="file of keys already delivered (in a ruleset: inside its folder)",
        ),
        "headers": ParamSpec("mapping", None, description="extra request headers"),
    },
    target_option="url",
)


@hookimpl(trylast=True)
def upsell_rules_sinks(register: Callable[[Sink], None]) -> None:
    """Register the webhook sink."""
    register(WEBHOOK_SINK)
