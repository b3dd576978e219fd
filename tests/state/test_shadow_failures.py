"""Shadow rulesets: records the candidate cannot decide are logged as failures and
counted in shadow-report, never dropped silently."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .conftest import SAMPLE, invoke

PLUGIN = '''
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Function


def picky(x):
    if x > 85:
        raise ValueError("too healthy")
    return x


@hookimpl
def upsell_rules_functions(register):
    register(Function("picky", "Fails above 85.", ("number",), "number", picky))
'''


def test_records_failing_under_the_candidate_are_counted_and_reported(
    tmp_path: Path, make_ruleset: Callable[..., Path]
) -> None:
    plugin = tmp_path / "picky_plugin.py"
    plugin.write_text(PLUGIN)
    rules = make_ruleset()
    candidate = make_ruleset("candidate.yaml")
    old = "    when: gated_attempts_14d >= feature_ceiling_attempts\n"
    text = candidate.read_text()
    assert old in text
    candidate.write_text(text.replace(old, "    when: picky(health_score) >= 0 and "
                                           "gated_attempts_14d >= feature_ceiling_attempts\n"))
    healthy = sorted(
        line.split(",")[0] for line in SAMPLE.read_text().splitlines()[1:]
        if float(line.split(",")[14] or 0) > 85
    )
    assert healthy
    store = tmp_path / "state.db"
    for day in ("2026-11-02", "2026-11-03"):
        result = invoke("--plugin", plugin, "run", rules, "--data", SAMPLE, "--as-of", day,
                        "--sink", f"file:{tmp_path / 'o.jsonl'}", "--state", store,
                        "--shadow", candidate, "--format", "json")
        # Production decided everything: the candidate's failures do not fail the run.
        assert result.exit_code == 0, result.stderr
        block = json.loads(result.stdout)["state"]
        assert block["shadow_failed"] == len(healthy)
        assert (f"{len(healthy)} record(s) failed under the candidate: {healthy[0]} ("
                in result.stderr)
        assert ("function 'picky' (plugin 'picky_plugin') failed: ValueError: too healthy"
                in result.stderr)
    text_run = invoke("--plugin", plugin, "run", rules, "--data", SAMPLE, "--as-of",
                      "2026-11-04", "--sink", f"file:{tmp_path / 'o.jsonl'}", "--state",
                      store, "--shadow", candidate)
    assert (f"(nothing delivered for it; {len(healthy)} record(s) failed under the "
            "candidate)") in text_run.stdout

    report = invoke("shadow-report", "--state", store, "--format", "json")
    assert report.exit_code == 0, report.stderr
    (data,) = json.loads(report.stdout)
    assert data["failed"] == 3 * len(healthy)
    assert sorted(data["failures"]) == healthy
    first = data["failures"][healthy[0]]
    assert first["as_of"] == "2026-11-04"
    assert first["location"].endswith(f":{_line_of(healthy[0])}")
    assert "too healthy" in first["message"]
    # The failed account-days are left out of the comparison, not counted as agreement.
    assert data["decisions"] == 3 * (50 - len(healthy))
    text = invoke("shadow-report", "--state", store)
    assert (f"  failed under the candidate: {3 * len(healthy)} account-day(s) of "
            f"{len(healthy)} account(s), not compared: {healthy[0]} (") in text.stdout


def _line_of(account: str) -> int:
    for number, line in enumerate(SAMPLE.read_text().splitlines(), start=1):
        if line.startswith(account + ","):
            return number
    raise AssertionError(account)
