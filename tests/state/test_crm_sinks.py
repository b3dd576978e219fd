"""The HubSpot and Salesforce task sinks against local fake servers on 127.0.0.1.

The fakes follow the vendors' documented shapes: HubSpot CRM tasks API v3
(``POST /crm/v3/objects/tasks`` with a ``properties`` object -> 201 with ``id``;
``PATCH /crm/v3/objects/tasks/{id}``; errors as ``{"status": "error", "message", "category"}``)
and Salesforce REST (``POST /services/data/vXX.X/sobjects/Task/`` -> 201
``{"id", "success", "errors"}``; ``PATCH .../Task/{id}`` -> 204; upsert by external id
``PATCH .../Task/{field}/{value}``; errors as ``[{"message", "errorCode"}]``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import upsell_rules_crm.http as crm_http
from tests.state.conftest import SAMPLE, decisions_of, invoke

TOKEN = "pat-na1-test-0000"


class Fake:
    """A recorded fake API: requests in, scripted failures first, then normal answers."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.requests: list[tuple[str, str, Any]] = []
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self.by_external: dict[str, str] = {}
        self.lock = threading.Lock()

    def answer(self, method: str, path: str, headers: Any, body: Any
               ) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.requests.append((method, path, body))
            if headers.get("Authorization") != f"Bearer {TOKEN}":
                if self.kind == "hubspot":
                    return 401, {}, {"status": "error", "category": "INVALID_AUTHENTICATION",
                                     "message": "Authentication credentials not found.",
                                     "correlationId": "c0ffee"}
                return 401, {}, [{"message": "Session expired or invalid",
                                  "errorCode": "INVALID_SESSION_ID"}]
            if self.failures:
                status, extra = self.failures.pop(0)
                return status, extra, {"status": "error", "message": "try later",
                                       "category": "RATE_LIMITS" if status == 429 else "ERROR"}
            return (self._hubspot if self.kind == "hubspot" else self._salesforce)(
                method, path, body)

    def _hubspot(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        if method == "POST" and path == "/crm/v3/objects/tasks":
            props = body["properties"]
            if "hs_timestamp" not in props:
                return 400, {}, {"status": "error", "message": "hs_timestamp is required",
                                 "category": "VALIDATION_ERROR"}
            task_id = str(9000 + len(self.tasks))
            self.tasks[task_id] = dict(props)
            return 201, {}, {"id": task_id, "properties": props, "archived": False,
                             "createdAt": "2026-11-02T00:00:00Z",
                             "updatedAt": "2026-11-02T00:00:00Z"}
        if method == "PATCH" and path.startswith("/crm/v3/objects/tasks/"):
            task_id = path.rsplit("/", 1)[1]
            if task_id not in self.tasks:
                return 404, {}, {"status": "error", "message": "not found",
                                 "category": "OBJECT_NOT_FOUND"}
            self.tasks[task_id].update(body["properties"])
            return 200, {}, {"id": task_id, "properties": self.tasks[task_id]}
        return 404, {}, {"status": "error", "message": "no route", "category": "NOT_FOUND"}

    def _salesforce(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        base = "/services/data/v60.0/sobjects/Task"
        if method == "POST" and path == f"{base}/":
            task_id = f"00T{len(self.tasks):015d}"
            self.tasks[task_id] = dict(body)
            return 201, {}, {"id": task_id, "success": True, "errors": []}
        if method == "PATCH" and path.startswith(f"{base}/Upsell_Key__c/"):
            key = path.rsplit("/", 1)[1]
            if key in self.by_external:
                self.tasks[self.by_external[key]].update(body)
                return 200, {}, {"id": self.by_external[key], "success": True, "errors": [],
                                 "created": False}
            task_id = f"00T{len(self.tasks):015d}"
            self.tasks[task_id] = dict(body)
            self.by_external[key] = task_id
            return 201, {}, {"id": task_id, "success": True, "errors": [], "created": True}
        if method == "PATCH" and path.startswith(f"{base}/"):
            task_id = path.rsplit("/", 1)[1]
            if task_id not in self.tasks:
                return 404, {}, [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED"}]
            self.tasks[task_id].update(body)
            return 204, {}, None
        return 404, {}, [{"message": "not found", "errorCode": "NOT_FOUND"}]


@pytest.fixture
def serve() -> Iterator[Callable[[str], tuple[Fake, str]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(kind: str) -> tuple[Fake, str]:
        fake = Fake(kind)

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, extra, body = fake.answer(self.command, self.path, self.headers,
                                                  json.loads(raw) if raw else None)
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PATCH = _handle

            def log_message(self, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return fake, f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(crm_http, "SLEEP", recorded.append)
    return recorded


def _with_sink(make_ruleset: Callable[..., Path], name: str, sink: str, **kw: Any) -> Path:
    path = make_ruleset(name, **kw)
    path.write_text(path.read_text() + "\nsinks:\n" + sink)
    return path


def _act_now(rules: Path, day: str) -> tuple[list[str], list[str]]:
    decided = [d for d in decisions_of(rules, day) if d["band"] == "act_now"]
    return (sorted(d["account_id"] for d in decided if not d["blocked"]),
            sorted(d["account_id"] for d in decided if d["blocked"]))


def test_hubspot_tasks_open_on_entering_act_now_and_complete_on_leaving(
    tmp_path: Path, make_ruleset: Callable[..., Path], serve: Any, waits: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, url = serve("hubspot")
    fake.failures = [(429, {"Retry-After": "7"}), (503, {})]
    monkeypatch.setenv("UPSELL_RULES_HUBSPOT_TEST_TOKEN", TOKEN)
    sink = (f"  tasks:\n    type: hubspot\n    token_env: UPSELL_RULES_HUBSPOT_TEST_TOKEN\n    base_url: {url}\n"
            "    bands: [act_now]\n    owners: {Priya Raman: '101'}\n")
    rules = _with_sink(make_ruleset, "rules.yaml", sink)
    store = tmp_path / "state.db"
    ready, blocked = _act_now(rules, "2026-11-02")
    day1 = invoke("run", rules, "--data", SAMPLE, "--as-of", "2026-11-02", "--state", store)
    assert day1.exit_code == 0, day1.output + day1.stderr
    posts = [r for r in fake.requests if r[0] == "POST"]
    assert len(fake.tasks) == len(ready) and len(posts) == len(ready) + 2
    # The 429 waits what Retry-After says; the 503 (that call's second attempt) waits a
    # random time up to backoff * 2.
    assert waits[0] == 7.0 and 0 <= waits[1] <= 1.0 and len(waits) == 2
    first = fake.tasks["9000"]
    assert first["hs_task_status"] == "NOT_STARTED" and first["hs_task_type"] == "TODO"
    assert first["hs_task_subject"].startswith("Seat expansion (usage review): ")
    assert first["hs_timestamp"] == "2026-11-02T00:00:00.000Z"   # "immediately"
    assert "upsell-rules key: " in first["hs_task_body"]
    assert [t["hubspot_owner_id"] for t in fake.tasks.values()
            if "Harborview" in t["hs_task_subject"]] == ["101"]
    assert f"{len(ready) + len(blocked)} delivered" in day1.output
    # Day two: a stricter ruleset moves some accounts out of act-now; their tasks close.
    strict = _with_sink(make_ruleset, "strict.yaml", sink, act_now_min=90)
    still, _ = _act_now(strict, "2026-11-03")
    day2 = invoke("run", strict, "--data", SAMPLE, "--as-of", "2026-11-03", "--state", store)
    assert day2.exit_code == 0, day2.stderr
    done = sorted(t["hs_task_subject"] for t in fake.tasks.values()
                  if t["hs_task_status"] == "COMPLETED")
    assert len(done) == len(set(ready) - set(still)) > 0
    assert len(fake.tasks) == len(ready)
    assert TOKEN.encode() not in store.read_bytes()


def test_a_401_stops_the_sink_and_the_rerun_delivers_what_waited(
    tmp_path: Path, make_ruleset: Callable[..., Path], serve: Any, waits: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, url = serve("hubspot")
    monkeypatch.setenv("UPSELL_RULES_HUBSPOT_TEST_TOKEN", "expired")
    sink = (f"  tasks:\n    type: hubspot\n    token_env: UPSELL_RULES_HUBSPOT_TEST_TOKEN\n    base_url: {url}\n"
            "    bands: [act_now]\n")
    rules = _with_sink(make_ruleset, "rules.yaml", sink)
    store = tmp_path / "state.db"
    bad = invoke("run", rules, "--data", SAMPLE, "--as-of", "2026-11-02", "--state", store)
    assert bad.exit_code == 1
    assert "hubspot refused the token in $UPSELL_RULES_HUBSPOT_TEST_TOKEN (HTTP 401: Authentication " \
           "credentials not found. (INVALID_AUTHENTICATION))" in bad.output
    assert len(fake.requests) == 1 and waits == []
    monkeypatch.setenv("UPSELL_RULES_HUBSPOT_TEST_TOKEN", TOKEN)
    good = invoke("run", rules, "--data", SAMPLE, "--as-of", "2026-11-02", "--state", store)
    assert good.exit_code == 0, good.output
    ready, _ = _act_now(rules, "2026-11-02")
    assert len(fake.tasks) == len(ready)
    monkeypatch.delenv("UPSELL_RULES_HUBSPOT_TEST_TOKEN")
    unset = invoke("run", rules, "--data", SAMPLE, "--as-of", "2026-11-02", "--state", store,
                   "--deliver", "all")
    assert unset.exit_code == 1
    assert "environment variable UPSELL_RULES_HUBSPOT_TEST_TOKEN (token_env) is not set" in unset.output


def test_salesforce_upserts_by_key_retries_5xx_and_completes_on_close(
    tmp_path: Path, make_ruleset: Callable[..., Path], serve: Any, waits: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, url = serve("salesforce")
    fake.failures = [(500, {}), (503, {}), (502, {})]
    monkeypatch.setenv("UPSELL_RULES_SF_TEST_TOKEN", TOKEN)
    sink = (f"  sf:\n    type: salesforce\n    token_env: UPSELL_RULES_SF_TEST_TOKEN\n    instance_url: {url}\n"
            "    external_id_field: Upsell_Key__c\n    bands: [act_now]\n")
    rules = _with_sink(make_ruleset, "rules.yaml", sink)
    store = tmp_path / "state.db"
    ready, _ = _act_now(rules, "2026-11-02")
    day1 = invoke("run", rules, "--data", SAMPLE, "--as-of", "2026-11-02", "--state", store)
    assert day1.exit_code == 0, day1.output
    assert len(fake.tasks) == len(ready) == len(fake.by_external)
    assert len(waits) == 3 and all(0 <= w <= 0.5 * 2 ** i for i, w in enumerate(waits))
    task = next(iter(fake.tasks.values()))
    assert task["Status"] == "Not Started" and len(task["ActivityDate"]) == 10
    # "within 1-3 business days" from Monday 2026-11-02 is Thursday 2026-11-05.
    due = {t["Subject"].split(":")[0]: t["ActivityDate"] for t in fake.tasks.values()}
    assert due["Plan upgrade (workflow validation)"] == "2026-11-05"
    # The seat window says "immediately" only when the ceiling is near, else a date
    # within two weeks (the seat_window reading of the seeds).
    assert "2026-11-02" <= due["Seat expansion (usage review)"] <= "2026-11-16"
    strict = _with_sink(make_ruleset, "strict.yaml", sink, act_now_min=90)
    day2 = invoke("run", strict, "--data", SAMPLE, "--as-of", "2026-11-03", "--state", store)
    assert day2.exit_code == 0, day2.output
    completed = [t for t in fake.tasks.values() if t["Status"] == "Completed"]
    still, _ = _act_now(strict, "2026-11-03")
    assert len(completed) == len(set(ready) - set(still)) > 0


def test_due_dates_follow_the_plays_window() -> None:
    from datetime import date

    from upsell_rules_crm.tasks import due_date

    monday = date(2026, 11, 2)
    assert due_date("immediately, before users are blocked", monday, 3) == monday
    assert due_date("within 1-3 business days", monday, 3) == date(2026, 11, 5)
    assert due_date("within 3 business days", date(2026, 11, 6), 3) == date(2026, 11, 11)
    assert due_date("within 2 weeks", monday, 3) == date(2026, 11, 16)
    assert due_date("before the renewal", monday, 3) == date(2026, 11, 5)


def test_token_env_reads_only_variables_the_ruleset_may_read(
    tmp_path: Path, make_ruleset: Callable[..., Path], serve: Any, waits: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A ruleset naming any variable would send its value, as a bearer token, to the URL
    # the same ruleset chooses: the rule for ${VAR} holds for token_env too.
    fake, url = serve("salesforce")
    monkeypatch.setenv("CLOUD_SECRET_KEY", TOKEN)
    sink = (f"  sf:\n    type: salesforce\n    token_env: CLOUD_SECRET_KEY\n"
            f"    instance_url: {url}/tenant-secret\n    bands: [act_now]\n")
    rules = _with_sink(make_ruleset, "rules.yaml", sink)
    store = tmp_path / "state.db"
    refused = invoke("run", rules, "--data", SAMPLE, "--as-of", "2026-11-02", "--state", store)
    assert refused.exit_code == 2
    assert "environment variable CLOUD_SECRET_KEY may not be read by a ruleset" in \
        refused.stderr
    assert "--allow-env CLOUD_SECRET_KEY" in refused.stderr
    assert fake.requests == [] and TOKEN not in refused.output + refused.stderr
    allowed = invoke("run", rules, "--data", SAMPLE, "--as-of", "2026-11-02", "--state", store,
                     "--allow-env", "CLOUD_SECRET_KEY")
    assert allowed.exit_code == 1, allowed.output + allowed.stderr  # the fake: 404 there
    assert fake.requests
    # Its URL is shown as every URL is: no path (a tenant or a secret can sit there).
    assert "tenant-secret" not in allowed.output + allowed.stderr
