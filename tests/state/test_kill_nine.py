"""``kill -9`` during a run, then a rerun: nothing lost, nothing duplicated.

A real ``upsell-rules run`` process delivers through a sink (a plugin file) that appends
each item to a log with fsync and can stall at a chosen point; the test kills the
process with SIGKILL there and runs again. The receiver's view, deduplicated by the
idempotency key each delivered item carries, must equal what a run that was never
interrupted delivers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.state.conftest import ROOT, SAMPLE

SINK = '''
import json, os, time
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import DeliveryReport, DeliveryResult, ParamSpec, Sink


def deliver(decisions, context):
    path = context.options["path"]
    stall = int(os.environ.get("STALL_SINK_AFTER", "-1"))
    report = DeliveryReport("stall_log", path)
    with open(path, "a", encoding="utf-8") as log:
        for index, d in enumerate(decisions):
            if index == stall:
                open(path + ".stalled", "w").close()
                time.sleep(300)
            log.write(json.dumps({"account_id": d["account_id"], "kind": d["transition"]["kind"],
                                  "key": d["transition"]["key"]}) + "\\n")
            log.flush()
            os.fsync(log.fileno())
            report.results.append(DeliveryResult(d["account_id"], "delivered", path, 1))
    return report


@hookimpl
def upsell_rules_after_evaluation(ruleset, summary):
    marker = os.environ.get("STALL_AFTER_DECIDING")
    if marker:
        open(marker, "w").close()
        time.sleep(300)


@hookimpl
def upsell_rules_sinks(register):
    register(Sink("stall_log", "test sink", deliver,
                  {"path": ParamSpec("string", required=True)}, target_option="path"))
'''


def _start(plugin: Path, rules: Path, store: Path, log: Path, as_of: str,
           env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "upsell_rules", "--plugin", str(plugin), "run", str(rules),
         "--data", str(SAMPLE), "--as-of", as_of, "--sink", f"stall_log:{log}",
         "--state", str(store)],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never reached the stall point"
        time.sleep(0.05)


def _log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _run_clean(plugin: Path, rules: Path, store: Path, log: Path, as_of: str) -> None:
    proc = _start(plugin, rules, store, log, as_of, {})
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err


def _reference(tmp: Path, plugin: Path, days: list[tuple[Path, str]]) -> list[dict[str, Any]]:
    log = tmp / "reference.log"
    for rules, day in days:
        _run_clean(plugin, rules, tmp / "reference.db", log, day)
    return _log(log)


def test_kill_nine_while_delivering_then_rerun_loses_and_duplicates_nothing(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    plugin = tmp_path / "stall_sink.py"
    plugin.write_text(SINK)
    rules = make_ruleset()
    reference = _reference(tmp_path, plugin, [(rules, "2026-11-02")])
    assert len(reference) == 50
    store, log = tmp_path / "state.db", tmp_path / "receiver.log"
    proc = _start(plugin, rules, store, log, "2026-11-02", {"STALL_SINK_AFTER": "10"})
    _wait_for(Path(f"{log}.stalled"), proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert len(_log(log)) == 10
    Path(f"{log}.stalled").unlink()
    _run_clean(plugin, rules, store, log, "2026-11-02")
    received = _log(log)
    by_key = {item["key"]: item for item in received}
    assert sorted(by_key) == sorted(item["key"] for item in reference)
    assert sorted(by_key.values(), key=lambda i: i["key"]) == sorted(reference,
                                                                     key=lambda i: i["key"])
    # Only the ten in flight at the kill were sent twice, under the same key.
    assert len(received) == 60
    # A third run has nothing left to send.
    _run_clean(plugin, rules, store, log, "2026-11-02")
    assert len(_log(log)) == 60


def test_kill_nine_before_the_run_is_recorded_leaves_the_store_as_it_was(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    plugin = tmp_path / "stall_sink.py"
    plugin.write_text(SINK)
    rules, strict = make_ruleset(), make_ruleset("strict.yaml", act_now_min=90)
    days = [(rules, "2026-11-02"), (strict, "2026-11-03")]
    reference = _reference(tmp_path, plugin, days)
    store, log = tmp_path / "state.db", tmp_path / "receiver.log"
    _run_clean(plugin, rules, store, log, "2026-11-02")
    marker = tmp_path / "decided"
    proc = _start(plugin, strict, store, log, "2026-11-03", {"STALL_AFTER_DECIDING": str(marker)})
    _wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    _run_clean(plugin, strict, store, log, "2026-11-03")
    assert _log(log) == reference
