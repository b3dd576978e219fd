"""Issue 12: the webhook sink against a hostile endpoint, ruleset and data (127.0.0.1).

Redirects, trickled answers, huge backoffs, shared ledgers, shell-shaped account ids,
Slack mentions, secrets in URLs and headers, and terminal escapes in error bodies.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import AS_OF, run_cli
from upsell_rules_webhook import deliver_webhook, shown_url, slack_text

from .test_webhook_sink import (
    DATA,
    DECISIONS,
    RULESET,
    Hook,
    context,
    hook,
    ruleset_with_sinks,
)

__all__ = ["hook"]  # the fixture, shared


class Endpoint:
    """A scripted loopback server: ``respond(handler)`` decides each answer."""

    def __init__(self, respond: Any) -> None:
        self.requests: list[dict[str, Any]] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                state.requests.append({"method": self.command, "path": self.path,
                                       "headers": dict(self.headers),
                                       "body": self.rfile.read(length)})
                respond(self)

            do_POST = do_GET = handle_one

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoints() -> Iterator[list[Endpoint]]:
    made: list[Endpoint] = []
    yield made
    for endpoint in made:
        endpoint.close()


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return respond


# --- item 3: redirects ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failed_delivery_and_nothing_crosses(
    endpoints: list[Endpoint], tmp_path: Path, status: int
) -> None:
    other = Endpoint(answer(200))
    first = Endpoint(answer(status, headers={"Location": other.url + "/stolen?x=1"}))
    endpoints += [other, first]
    report = deliver_webhook(DECISIONS[:1], context(
        first.url, tmp_path, headers={"Authorization": "Bearer t0ken"}))
    result = report.results[0]
    assert result.status == "failed" and result.attempts == 1
    assert f"HTTP {status}: redirected to http://127.0.0.1:" in result.detail
    assert "not delivered" in result.detail and "stolen" not in result.detail
    assert other.requests == []  # neither the body nor the Authorization header moved
    assert not (tmp_path / "ledger.jsonl").exists()


# --- item 11: total deadline, bounded retries ----------------------------------------------


def trickle(handler: BaseHTTPRequestHandler) -> None:
    try:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass


def test_a_trickling_endpoint_hits_the_total_deadline(
    endpoints: list[Endpoint], tmp_path: Path
) -> None:
    slow = Endpoint(trickle)
    endpoints.append(slow)
    started = time.monotonic()
    report = deliver_webhook(DECISIONS[:1], context(slow.url, tmp_path, timeout=1, retries=0))
    took = time.monotonic() - started
    assert report.results[0].status == "failed"
    assert "no complete answer within 1 s" in report.results[0].detail
    assert took < 3.0, took  # each byte came within the per-read timeout: 8 s before


def test_retries_stop_at_the_decision_deadline(hook: Hook, tmp_path: Path) -> None:
    hook.default = 503
    started = time.monotonic()
    report = deliver_webhook(DECISIONS[:1], context(hook.url, tmp_path, retries=10,
                                                    backoff=0.4, deadline=1.0))
    assert time.monotonic() - started < 2.5
    assert "gave up at the 1 s deadline" in report.results[0].detail


def test_a_huge_backoff_from_a_ruleset_is_refused_quickly(hook: Hook, tmp_path: Path) -> None:
    ruleset = ruleset_with_sinks(tmp_path, f"""sinks:
  hook:
    type: webhook
    url: {hook.url}
    backoff: 100000000
    retries: 1000
    ledger: ledger.jsonl
""")
    started = time.monotonic()
    result = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF)
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert "backoff: 100000000 is outside 0..30 (a limit)" in result.stdout
    assert "retries: 1000 is outside 0..10 (a limit)" in result.stdout
    assert len(result.stdout.splitlines()) == 3  # the sink line, then each reason once
    assert hook.requests == []


# --- item 5: one run at a time per ledger ---------------------------------------------------


def test_a_ledger_in_use_waits_then_refuses(hook: Hook, tmp_path: Path) -> None:
    (tmp_path / "ledger.jsonl").touch()
    with open(tmp_path / "ledger.jsonl.lock", "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        report = deliver_webhook(DECISIONS, context(hook.url, tmp_path, lock_wait=0.3))
    assert [r.status for r in report.results] == ["failed", "failed"]
    assert "is in use by another run (waited 0.3 s)" in report.results[0].detail
    assert hook.requests == []


def test_two_runs_sharing_a_ledger_deliver_each_decision_once(
    hook: Hook, tmp_path: Path
) -> None:
    hook.delay = 0.05
    many = [{**DECISIONS[0], "account_id": f"A-{i}"} for i in range(20)]
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(
        deliver_webhook(many, context(hook.url, tmp_path)))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = hook.keys()
    assert len(keys) == 20 and len(set(keys)) == 20
    statuses = sorted(r.status for report in reports for r in report.results)
    assert statuses.count("delivered") == 20 and statuses.count("skipped") == 20


# --- item 4: confined paths, shell-inert ledger ---------------------------------------------


@pytest.mark.parametrize(("option", "value", "message"), [
    ("ledger", "../../.bashrc", "leaves the ruleset's folder ('..')"),
    ("ledger", "/tmp/i12-ledger.jsonl", "is an absolute path"),
    ("ledger", "~/.profile", "is an absolute path"),
    ("ledger", "linked/ledger.jsonl", "leads out of the ruleset's folder through a symbolic"),
])
def test_ruleset_paths_stay_in_the_ruleset_folder(
    hook: Hook, tmp_path: Path, option: str, value: str, message: str
) -> None:
    (tmp_path / "linked").symlink_to("/tmp")
    ruleset = ruleset_with_sinks(tmp_path, f"sinks:\n  hook:\n    type: webhook\n"
                                           f"    url: {hook.url}\n    {option}: {value}\n")
    result = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF)
    assert result.returncode == 2
    assert message in result.stderr and "give it on the command line" in result.stderr
    assert hook.requests == []


def test_file_sink_path_from_a_ruleset_is_confined(tmp_path: Path) -> None:
    ruleset = ruleset_with_sinks(tmp_path, "sinks:\n  out:\n    type: file\n"
                                           "    path: ../escaped.jsonl\n")
    result = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF)
    assert result.returncode == 2 and "leaves the ruleset's folder" in result.stderr
    assert not (tmp_path.parent / "escaped.jsonl").exists()
    inside = ruleset_with_sinks(tmp_path, "sinks:\n  out:\n    type: file\n"
                                          "    path: out/decisions.jsonl\n")
    result = run_cli("run", "--no-state", str(inside), "--data", DATA, "--as-of", AS_OF, cwd=Path("/"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "decisions.jsonl").exists()


def test_ledger_lines_expand_nothing_in_a_shell(hook: Hook, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = [{**DECISIONS[0], "account_id": f"$(touch {marker})"},
               {**DECISIONS[0], "account_id": f"`touch {marker}`"},
               {**DECISIONS[0], "account_id": f"\"; touch {marker}; echo \""},
               {**DECISIONS[0], "account_id": f"x\n touch {marker}\n!!"}]
    report = deliver_webhook(hostile, context(hook.url, tmp_path))
    assert [r.status for r in report.results] == ["delivered"] * 4
    ledger = tmp_path / "ledger.jsonl"
    for shell in ("sh", "bash"):
        subprocess.run([shell, "-c", f". {ledger}"], capture_output=True, cwd=tmp_path,
                       timeout=10)
        assert not marker.exists(), shell
    entries = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert [e["account_id"] for e in entries] == [d["account_id"] for d in hostile]


# --- item 12: Slack ------------------------------------------------------------------------


def test_slack_text_escapes_mentions_and_links() -> None:
    decision = {**DECISIONS[0], "account_name": "<!channel> <https://evil.example|Invoice>",
                "narrative": "Call <@U123> & co"}
    text = slack_text(decision)
    assert "<!channel>" not in text and "<https://" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt; &lt;https://evil.example|Invoice&gt;" in text
    assert "Call &lt;@U123&gt; &amp; co" in text


# --- item 8: no secret in any message, each error once --------------------------------------


@pytest.mark.parametrize(("url", "secrets"), [
    ("https://hooks.example.com/services/T0SECRET B0SECRET?token=abc123", ["T0SECRET", "abc123"]),
    ("ftp://user:pa55word@files.example.com/drop", ["pa55word", "user"]),
    ("http://127.0.0.1:1/TOPSECRETPATH/x?k=SECRETQUERY", ["TOPSECRETPATH", "SECRETQUERY"]),
])
def test_bad_urls_never_print_their_secrets(
    tmp_path: Path, url: str, secrets: list[str]
) -> None:
    ruleset = ruleset_with_sinks(tmp_path, "sinks:\n  hook:\n    type: webhook\n"
                                           f"    url: {json.dumps(url)}\n")
    result = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF, cwd=tmp_path)
    shown = result.stdout + result.stderr
    for secret in secrets:
        assert secret not in shown
    assert result.returncode == 1
    if "127.0.0.1" in url:
        assert "connection refused" in shown
    else:
        assert "is not a valid http(s) URL" in shown
        assert shown.count("is not a valid http(s) URL") == 1


def test_a_header_with_a_newline_never_prints_the_token(hook: Hook, tmp_path: Path) -> None:
    ruleset = ruleset_with_sinks(tmp_path, "sinks:\n  hook:\n    type: webhook\n"
                                           f"    url: {hook.url}\n    ledger: l.jsonl\n"
                                           "    headers:\n"
                                           '      Authorization: "Bearer t0kenSECRET\\n"\n')
    result = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF)
    assert result.returncode == 1
    assert "t0kenSECRET" not in result.stdout + result.stderr
    assert "the value of Authorization holds a line break" in result.stdout
    assert result.stdout.count("holds a line break") == 1 and hook.requests == []


def test_a_malformed_sink_url_is_a_clear_error() -> None:
    result = run_cli("run", "--no-state", str(RULESET), "--data", DATA, "--as-of", AS_OF,
                     "--sink", "webhook:http://user:s3cret@127.0.0.1:99999999/x")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
    assert "not a valid URL (port" in result.stderr


# --- item 10: ${VAR} ------------------------------------------------------------------------


def test_a_ruleset_cannot_read_any_environment_variable(hook: Hook, tmp_path: Path) -> None:
    ruleset = ruleset_with_sinks(tmp_path, "sinks:\n  hook:\n    type: webhook\n"
                                           f"    url: {hook.url}?k=${{AWS_SECRET_ACCESS_KEY}}\n"
                                           "    ledger: l.jsonl\n")
    env = {"AWS_SECRET_ACCESS_KEY": "AKIASECRET"}
    result = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF, env=env)
    assert result.returncode == 2 and hook.requests == []
    assert "environment variable AWS_SECRET_ACCESS_KEY may not be read by a ruleset" in (
        result.stderr)
    allowed = run_cli("run", "--no-state", str(ruleset), "--data", DATA, "--as-of", AS_OF, "--band",
                      "act_now", "--allow-env", "AWS_SECRET_ACCESS_KEY", env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert hook.requests and hook.requests[0]["path"].endswith("k=AKIASECRET")


# --- item 9: terminal escapes from a remote server ------------------------------------------


def test_an_error_body_with_terminal_escapes_is_neutralised(
    endpoints: list[Endpoint], tmp_path: Path
) -> None:
    evil = Endpoint(answer(400, b"\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07bad"))
    endpoints.append(evil)
    result = run_cli("run", "--no-state", str(RULESET), "--data", DATA, "--as-of", AS_OF,
                     "--band", "act_now", "--sink", f"webhook:{evil.url}", cwd=tmp_path)
    assert result.returncode == 1
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in result.stdout


def test_nothing_listens_is_reported_once(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli("run", "--no-state", str(RULESET), "--data", DATA, "--as-of", AS_OF,
                     "--band", "act_now", "--sink", f"webhook:http://127.0.0.1:{port}/x",
                     cwd=tmp_path, env={"HOME": os.fspath(tmp_path)})
    lines = result.stdout.splitlines()
    assert len(lines) == 3  # the sink, the first failure, the 21 others on one line
    assert lines[2].endswith("and 11 more: not attempted: the endpoint was unreachable "
                             "(connection refused)")


def test_secret_host_names_and_first_segments_are_redacted() -> None:
    # Checked without a request: resolving the name would touch the network.
    for url in ("https://XOXBSECRET.ngrok.example.io/TOPSECRETPATH",
                "https://hooks.example.com/XOXBSECRET", "https://u:XOXBSECRET@h.example/x",
                "http://XOXBSECRET.example.com:abc/x"):
        shown = shown_url(url)
        assert "XOXBSECRET" not in shown and "TOPSECRETPATH" not in shown, shown
        assert shown.startswith(("https://", "http://")) and "(#" in shown
