"""The webhook sink against a real HTTP server on loopback, started by each test."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.plugin.types import SinkContext
from upsell_rules_webhook import (
    WEBHOOK_SINK,
    deliver_webhook,
    idempotency_key,
    shown_url,
    slack_text,
)

RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
DATA = str(ROOT / "samples" / "accounts.csv")
IDENTITY = {"name": "upsell_timing", "version": "1.0.0", "sha256": "x"}


@dataclass
class Hook:
    """A loopback HTTP endpoint: answers from ``script`` first, then ``default``."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    default: int = 200
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self) -> list[str]:
        return [r["headers"].get("Idempotency-Key", "") for r in self.requests]


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            with state.lock:
                state.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": json.loads(body)})
                status = state.script.pop(0) if state.script else state.default
            if state.delay:
                time.sleep(state.delay)
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"try later")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/upsell"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/upsell"  # nothing listens there any more


DECISIONS = [
    {"account_id": "A-1", "account_name": "Alpha", "band": "act_now", "score": 92,
     "blocked": False, "narrative": "Act now at 92/100.",
     "action": {"play": "seat_expansion", "title": "Seat expansion", "window": "this week",
                "owner": "CSM"}},
    {"account_id": "A-2", "account_name": "Beta", "band": "warming", "score": 60,
     "blocked": True, "narrative": "Blocked.", "action": {"play": "hold", "owner": "CSM"}},
]


def context(url: str, tmp_path: Path, **options: Any) -> SinkContext:
    values = {k: v.default for k, v in WEBHOOK_SINK.options.items() if v.default is not None}
    values.update({"url": url, "ledger": str(tmp_path / "ledger.jsonl"), "backoff": 0.01,
                   **options})
    return SinkContext(values, IDENTITY, date(2026, 11, 2), "test", "--sink")


# --- the sink itself ------------------------------------------------------------------------


def test_delivers_one_json_per_decision_with_an_idempotency_key(hook: Hook, tmp_path: Path) -> None:
    report = deliver_webhook(DECISIONS, context(hook.url, tmp_path))
    assert [(r.account_id, r.status, r.attempts) for r in report.results] == [
        ("A-1", "delivered", 1), ("A-2", "delivered", 1)]
    assert [r["body"] for r in hook.requests] == DECISIONS
    assert hook.keys() == [idempotency_key("A-1", IDENTITY, "2026-11-02"),
                           idempotency_key("A-2", IDENTITY, "2026-11-02")]
    assert hook.requests[0]["headers"]["Content-Type"] == "application/json"
    assert hook.requests[0]["path"] == "/hooks/upsell"
    assert report.target == shown_url(hook.url)
    assert "hooks" not in report.target and report.target.startswith("http://127.0.0.1:")


def test_the_key_changes_with_account_version_and_date() -> None:
    base = idempotency_key("A-1", IDENTITY, "2026-11-02")
    assert base == idempotency_key("A-1", {**IDENTITY, "sha256": "other"}, "2026-11-02")
    assert base != idempotency_key("A-2", IDENTITY, "2026-11-02")
    assert base != idempotency_key("A-1", {**IDENTITY, "version": "1.1.0"}, "2026-11-02")
    assert base != idempotency_key("A-1", IDENTITY, "2026-11-03")


def test_retries_5xx_with_backoff_then_delivers(hook: Hook, tmp_path: Path) -> None:
    hook.script = [503, 502]
    started = time.monotonic()
    report = deliver_webhook(DECISIONS[:1], context(hook.url, tmp_path, backoff=0.05))
    assert (report.results[0].status, report.results[0].attempts) == ("delivered", 3)
    assert time.monotonic() - started >= 0.05 + 0.1  # 0.05 s, then doubled
    assert len(set(hook.keys())) == 1 and len(hook.keys()) == 3  # the same key each time


def test_gives_up_after_the_retries(hook: Hook, tmp_path: Path) -> None:
    hook.default = 500
    report = deliver_webhook(DECISIONS[:1], context(hook.url, tmp_path, retries=2))
    result = report.results[0]
    assert (result.status, result.attempts) == ("failed", 3)
    assert result.detail == "not delivered after 3 attempts: HTTP 500: try later"
    assert not (tmp_path / "ledger.jsonl").exists()


def test_a_4xx_fails_at_once(hook: Hook, tmp_path: Path) -> None:
    hook.script = [404]
    report = deliver_webhook(DECISIONS, context(hook.url, tmp_path))
    assert [(r.status, r.attempts) for r in report.results] == [("failed", 1), ("delivered", 1)]
    assert report.results[0].detail == "not delivered after 1 attempt: HTTP 404: try later"


def test_a_dead_url_gives_up_cleanly(tmp_path: Path) -> None:
    started = time.monotonic()
    report = deliver_webhook(DECISIONS, context(dead_url(), tmp_path, retries=2))
    assert time.monotonic() - started < 5
    first, second = report.results
    assert (first.status, first.attempts) == ("failed", 3)
    assert first.detail == "not delivered after 3 attempts: connection refused"
    assert (second.status, second.attempts) == ("failed", 0)
    assert second.detail == "not attempted: the endpoint was unreachable (connection refused)"


def test_a_slow_endpoint_times_out(hook: Hook, tmp_path: Path) -> None:
    hook.delay = 1.0
    report = deliver_webhook(DECISIONS[:1], context(hook.url, tmp_path, timeout=0.2, retries=0))
    assert report.results[0].status == "failed"
    assert "no complete answer within 0.2 s" in report.results[0].detail or "timed out" in (
        report.results[0].detail
    )


def test_never_sends_a_delivered_key_twice(hook: Hook, tmp_path: Path) -> None:
    hook.script = [200, 503, 503, 503, 503]
    first = deliver_webhook(DECISIONS, context(hook.url, tmp_path))
    assert [r.status for r in first.results] == ["delivered", "failed"]
    second = deliver_webhook(DECISIONS, context(hook.url, tmp_path))
    assert [r.status for r in second.results] == ["skipped", "delivered"]
    delivered = [key for key, request in zip(hook.keys(), hook.requests, strict=True)]
    key_a1 = idempotency_key("A-1", IDENTITY, "2026-11-02")
    assert delivered.count(key_a1) == 1
    third = deliver_webhook(DECISIONS, context(hook.url, tmp_path))
    assert [r.status for r in third.results] == ["skipped", "skipped"]
    assert len(hook.requests) == 1 + 4 + 1
    ledger = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text().splitlines()]
    assert [(e["account_id"], e["as_of"], e["version"]) for e in ledger] == [
        ("A-1", "2026-11-02", "1.0.0"), ("A-2", "2026-11-02", "1.0.0")]


def test_another_url_is_another_destination(hook: Hook, tmp_path: Path) -> None:
    deliver_webhook(DECISIONS[:1], context(hook.url, tmp_path))
    report = deliver_webhook(DECISIONS[:1], context(hook.url + "/other", tmp_path))
    assert report.results[0].status == "delivered"


def test_slack_body_and_extra_headers(hook: Hook, tmp_path: Path) -> None:
    deliver_webhook(DECISIONS[:1], context(hook.url, tmp_path, body="slack",
                                           headers={"Authorization": "Bearer t0ken"}))
    request = hook.requests[0]
    assert request["body"] == {"text": slack_text(DECISIONS[0])}
    assert request["body"]["text"].startswith("*Alpha* (A-1): act now, score 92/100")
    assert request["headers"]["Authorization"] == "Bearer t0ken"


def test_urls_are_shown_without_secrets() -> None:
    shown = shown_url("https://user:pw@hooks.example.com/services/T0/B0/XYZ?token=1")
    assert shown.startswith("https://*.example.com/… (#")
    for secret in ("user", "pw", "hooks", "services", "T0", "XYZ", "token"):
        assert secret not in shown


# --- through `upsell-rules run` ---------------------------------------------------------------


def ruleset_with_sinks(tmp_path: Path, sinks: str) -> Path:
    path = tmp_path / "with_sinks.yaml"
    path.write_text(RULESET.read_text(encoding="utf-8") + "\n" + sinks, encoding="utf-8")
    return path


def sink_line(path: Path, sink_id: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip() == f"{sink_id}:")


def test_run_delivers_then_skips_on_the_second_run(hook: Hook, tmp_path: Path) -> None:
    ruleset = ruleset_with_sinks(tmp_path, """sinks:
  csm_hook:
    type: webhook
    url: ${UPSELL_RULES_HOOK_URL}
    ledger: ledger.jsonl
    backoff: 0.01
    bands: [act_now]
    blocked: false
""")
    env = {"UPSELL_RULES_HOOK_URL": hook.url}
    first = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"sink 'csm_hook' (webhook {shown_url(hook.url)}): 15 delivered"
    ]
    assert len(hook.requests) == 15
    assert {r["body"]["band"] for r in hook.requests} == {"act_now"}
    second = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF, env=env)
    assert second.returncode == 0
    assert second.stdout.splitlines() == [
        f"sink 'csm_hook' (webhook {shown_url(hook.url)}): 0 delivered, 15 already delivered "
        "(not sent again)"
    ]
    assert len(hook.requests) == 15
    assert len(set(hook.keys())) == 15


def test_a_second_change_on_the_same_day_reaches_the_hook(hook: Hook, tmp_path: Path) -> None:
    # With a state store the key is the transition's: an account that enters act-now
    # and one that leaves it on a rerun of the same day are not repeats of the morning.
    data = tmp_path / "accounts.csv"
    text = Path(DATA).read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("ACC-1028,"))
    assert ",86,2026-" in row
    args = ("run", str(RULESET), "--as-of", AS_OF, "--state", str(tmp_path / "s.db"),
            "--sink", f"webhook:{hook.url}")
    data.write_text(text, encoding="utf-8")
    assert run_cli(*args, "--data", str(data), cwd=tmp_path).returncode == 0
    morning = len(hook.requests)
    data.write_text(text.replace(row, row.replace(",86,2026-", ",30,2026-")), encoding="utf-8")
    rerun = run_cli(*args, "--data", str(data), cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert f"(webhook {shown_url(hook.url)}): 1 delivered" in rerun.stdout
    late = hook.requests[morning:]
    assert [(r["body"]["account_id"], r["body"]["transition"]["kind"]) for r in late] == [
        ("ACC-1028", "left_act_now")]
    assert hook.keys()[morning:] == [late[0]["body"]["transition"]["key"]]
    assert len(set(hook.keys())) == len(hook.requests)
    again = run_cli(*args, "--data", str(data), cwd=tmp_path)
    assert again.returncode == 0 and len(hook.requests) == morning + 1


def test_run_retries_and_reports_json(hook: Hook, tmp_path: Path) -> None:
    hook.script = [503, 500]
    result = run_cli("run", "--no-state", str(RULESET), "--data", DATA, "--as-of", AS_OF, "--band", "act_now",
                     "--sink", f"webhook:{hook.url}", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    sink = payload["sinks"][0]
    assert (sink["delivered"], sink["failed"], sink["skipped"]) == (22, 0, 0)
    assert sink["results"][0]["attempts"] == 3
    assert payload["ok"] is True
    assert (tmp_path / ".upsell-rules" / "webhook-ledger.jsonl").exists()


def test_run_dead_url_is_a_located_report(tmp_path: Path) -> None:
    ruleset = ruleset_with_sinks(tmp_path, f"""sinks:
  csm_hook:
    type: webhook
    url: {dead_url()}
    retries: 1
    backoff: 0.01
    ledger: ledger.jsonl
    bands: [act_now]
""")
    line = sink_line(ruleset, "csm_hook")
    result = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].endswith(": 0 delivered, 22 failed")
    assert lines[1] == (
        f"{ruleset}:{line}:3: sink 'csm_hook': ACC-1001 ({DATA}:2): not delivered after 2 "
        "attempts: connection refused"
    )
    assert lines[2].startswith(f"{ruleset}:{line}:3: sink 'csm_hook': ACC-1002, ACC-1003")
    assert lines[2].endswith("and 11 more: not attempted: the endpoint was unreachable "
                             "(connection refused)")
    assert "read 50, decided 50, failed 0" in result.stderr


def test_run_with_file_and_stdout_sinks(tmp_path: Path) -> None:
    out = tmp_path / "queue.csv"
    result = run_cli("run", "--no-state", str(RULESET), "--data", DATA, "--as-of", AS_OF,
                     "--sink", f"file:{out}", "--sink", "stdout", "--band", "warming")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert len(rows) == 12 and all(json.loads(r)["band"] == "warming" for r in rows)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 13  # header + 12
    assert f"sink 'file:{out}' (file {out}): 12 delivered" in result.stderr
    assert "sink 'stdout' (stdout standard output): 12 delivered" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no sinks to deliver to"),
        (("--sink", "webhok:http://127.0.0.1:1/x"), "unknown sink 'webhok' (did you mean 'webhook'?)"),
        (("--sink", "webhook"), "sink 'webhook' needs option 'url' (or --sink webhook:URL)"),
        (("--sink", "stdout", "--band", "hot"), "--band hot: not a band of upsell_timing"),
    ],
)
def test_run_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = run_cli("run", "--no-state", str(RULESET), "--data", DATA, "--as-of", AS_OF, *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_run_unset_environment_variable(tmp_path: Path) -> None:
    ruleset = ruleset_with_sinks(tmp_path, "sinks:\n  hook:\n    type: webhook\n"
                                           "    url: ${UPSELL_RULES_NOT_SET_ANYWHERE}\n")
    result = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF)
    assert result.returncode == 2
    line = sink_line(ruleset, "hook")
    assert (f"{ruleset}:{line}:3: environment variable UPSELL_RULES_NOT_SET_ANYWHERE is not set"
            in result.stderr)


def test_dry_run_never_delivers(hook: Hook, tmp_path: Path) -> None:
    ruleset = ruleset_with_sinks(tmp_path, f"sinks:\n  hook:\n    type: webhook\n"
                                           f"    url: {hook.url}\n")
    result = run_cli("dry-run", str(ruleset), "--data", DATA, "--as-of", AS_OF,
                     "--format", "jsonl", cwd=tmp_path)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 50
    assert hook.requests == []
    assert not (tmp_path / ".upsell-rules").exists()


def test_validate_checks_the_sinks_section(tmp_path: Path) -> None:
    ruleset = ruleset_with_sinks(tmp_path, """sinks:
  hook:
    type: webhok
  out:
    type: file
    pth: x.csv
    bands: [act_nwo]
""")
    result = run_cli("validate", str(ruleset))
    assert result.returncode == 1
    base = sink_line(ruleset, "hook")
    assert result.stdout.splitlines() == [
        f"{ruleset}:{base + 1}:11: E153 sinks.hook.type: unknown sink 'webhok' (did you mean "
        "'webhook'?) (sinks: file, hubspot, salesforce, sql, stdout, webhook)",
        f"{ruleset}:{base + 2}:3: E154 sinks.out: sink 'file' needs option 'path'",
        f"{ruleset}:{base + 4}:5: E154 sinks.out: sink 'file' has no option 'pth' (did you "
        "mean 'path'?) (options: path, format)",
        f"{ruleset}:{base + 5}:13: E154 sinks.out.bands[0]: unknown band 'act_nwo' (did you "
        "mean 'act_now'?)",
    ]
