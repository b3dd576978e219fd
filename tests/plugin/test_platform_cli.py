"""End to end through the real CLI: the sample exports joined into decisions, the
``plugins`` listing, the example third-party plugin, and the ``new-plugin`` scaffold."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import AS_OF, ROOT, pip_install_target, run_cli

RULESET = "rulesets/upsell_timing.yaml"
CRM = "samples/crm_accounts.csv"
EVENTS = "events:samples/events.jsonl"
TICKETS = "tickets:samples/tickets.csv"


def joined(*extra: str, ruleset: str = RULESET) -> subprocess.CompletedProcess[str]:
    return run_cli("dry-run", ruleset, "--as-of", AS_OF, "--data", CRM, "--data", EVENTS,
                   "--data", TICKETS, *extra)


@pytest.fixture(scope="module")
def decisions() -> dict[str, dict[str, Any]]:
    result = joined("--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return {d["account_id"]: d for d in map(json.loads, result.stdout.splitlines())}


def fired(decision: dict[str, Any]) -> list[str]:
    return [t["id"] for t in decision["triggers"]]


# --- the sample exports decide the sample accounts --------------------------------------------


def test_events_signals_decide_seat_headroom(decisions: dict[str, dict[str, Any]]) -> None:
    d = decisions["ACC-3001"]
    assert (d["band"], d["blocked"], d["score"]) == ("act_now", False, 92)
    assert fired(d)[0] == "seat_headroom"
    assert d["triggers"][0]["evidence"] == (
        "20 -> 23 active seats over the last 3 cycles, 92% of 25 licensed; ceiling in ~40 days")
    assert "power_users_emerging" in fired(d)  # three power users in the export


def test_mapped_gated_events_decide_a_plan_upgrade(decisions: dict[str, dict[str, Any]]) -> None:
    d = decisions["ACC-3002"]
    assert (d["band"], d["blocked"]) == ("act_now", False)
    assert fired(d)[0] == "gated_feature_cluster"
    assert d["triggers"][0]["evidence"] == (
        "3 attempts to use Growth-gated features in the last 14 days")


def test_departments_from_user_traits_decide_multi_team(decisions: dict[str, dict[str, Any]]) -> None:
    d = decisions["ACC-3005"]
    assert (d["band"], fired(d)[0]) == ("act_now", "multi_team_spread")
    assert d["triggers"][0]["evidence"] == "used by 4 departments, 1 at purchase"


def test_power_users_from_events(decisions: dict[str, dict[str, Any]]) -> None:
    d = decisions["ACC-3007"]
    assert (d["band"], fired(d)[0]) == ("act_now", "power_users_emerging")
    assert d["triggers"][0]["evidence"].startswith("power users: 2, with 75% of seats active")


def test_an_urgent_open_ticket_blocks(decisions: dict[str, dict[str, Any]]) -> None:
    d = decisions["ACC-3003"]
    assert d["blocked"] is True
    assert [f["id"] for f in d["red_flags"]] == ["open_p1_p2_ticket"]
    assert d["action"]["play"] == "resolve_ticket"


def test_ticket_tags_and_subjects_name_gaps(decisions: dict[str, dict[str, Any]]) -> None:
    d = decisions["ACC-3004"]
    assert (d["band"], fired(d)[0]) == ("warming", "named_gap")
    assert d["triggers"][0]["evidence"] == "asked for Audit log, SSO (6 days ago)"


def test_stale_tickets_and_old_attempts_count_for_nothing(
    decisions: dict[str, dict[str, Any]]
) -> None:
    d = decisions["ACC-3008"]
    assert (d["band"], fired(d)) == ("monitor", [])


def test_every_decision_says_which_inputs_had_it(decisions: dict[str, dict[str, Any]]) -> None:
    assert decisions["ACC-3006"]["inputs"] == {"present": [CRM, TICKETS], "missing": [EVENTS]}
    assert "seats_active_history" in decisions["ACC-3006"]["missing_signals"]
    assert decisions["ACC-3099"]["inputs"] == {"present": [EVENTS], "missing": [CRM, TICKETS]}
    assert decisions["ACC-3099"]["action"]["play"] == "health_recovery"
    assert decisions["ACC-3001"]["inputs"]["missing"] == []
    assert list(decisions) == [f"ACC-300{i}" for i in range(1, 9)] + ["ACC-3099"]


def test_join_report_on_stderr() -> None:
    result = joined("--format", "json")
    notes = [line for line in result.stderr.splitlines() if "note:" in line]
    assert notes == [
        "upsell-rules: note: joined 3 inputs by account_id: 9 accounts, 4 in every input",
        f"upsell-rules: note: 1 account(s) missing from {CRM} (present in another input): "
        "ACC-3099",
        f"upsell-rules: note: 1 account(s) missing from {EVENTS} (present in another input): "
        "ACC-3006",
        f"upsell-rules: note: 4 account(s) missing from {TICKETS} (present in another "
        "input): ACC-3002, ACC-3005, ACC-3007, ACC-3099",
    ]
    assert len(json.loads(result.stdout)) == 9


def test_the_mapping_lives_in_the_ruleset(tmp_path: Path) -> None:
    """Take "Premium Feature Blocked" out of the ruleset's mapping: ACC-3002 drops to one
    attempt and loses its plan trigger; take "sso" out: ACC-3004 names one gap only."""
    text = (ROOT / RULESET).read_text(encoding="utf-8")
    edited = text.replace("gated_feature_events: [Upgrade Prompt Clicked, Premium Feature Blocked]",
                          "gated_feature_events: [Upgrade Prompt Clicked]")
    edited = edited.replace("gap_tags: {sso: SSO, ", "gap_tags: {")
    assert edited != text
    ruleset = tmp_path / "mapping.yaml"
    ruleset.write_text(edited, encoding="utf-8")
    result = joined("--format", "jsonl", ruleset=str(ruleset))
    got = {d["account_id"]: d for d in map(json.loads, result.stdout.splitlines())}
    assert "gated_feature_cluster" not in fired(got["ACC-3002"])
    assert got["ACC-3004"]["triggers"][0]["evidence"].startswith("asked for Audit log (")


def test_explain_and_run_take_several_inputs(tmp_path: Path) -> None:
    result = run_cli("explain", RULESET, "--as-of", AS_OF, "--data", CRM, "--data", EVENTS,
                     "--account", "ACC-3002")
    assert result.returncode == 0, result.stderr
    assert "[yes] gated_feature_cluster (plan): feature_ceiling_hit" in result.stdout
    out = tmp_path / "queue.jsonl"
    run = run_cli("run", "--no-state", RULESET, "--as-of", AS_OF, "--data", CRM, "--data", EVENTS,
                  "--data", TICKETS, "--sink", f"file:{out}", "--format", "json")
    payload = json.loads(run.stdout)
    assert payload["join"]["accounts"] == 9
    assert payload["join"]["inputs"][1] == {"input": EVENTS, "accounts": 8,
                                            "missing": ["ACC-3006"]}
    assert len(out.read_text().splitlines()) == 9


def test_the_samples_generator_is_reproducible(tmp_path: Path) -> None:
    script = (ROOT / "samples" / "make_platform_samples.py").read_text(encoding="utf-8")
    copy = tmp_path / "make_platform_samples.py"
    copy.write_text(script, encoding="utf-8")
    subprocess.run([sys.executable, str(copy)], check=True, timeout=60)
    for name in ("crm_accounts.csv", "events.jsonl", "tickets.csv"):
        assert (tmp_path / name).read_bytes() == (ROOT / "samples" / name).read_bytes(), name


def test_an_unknown_source_prefix_or_missing_file() -> None:
    result = run_cli("dry-run", RULESET, "--as-of", AS_OF, "--data", "events:nope.jsonl")
    assert result.returncode == 2
    # The value goes to the source unchanged; the source says what is wrong with it.
    assert "nope.jsonl: cannot read the events export: No such file or directory" in (
        result.stderr
    )


def test_validate_checks_the_sources_section(tmp_path: Path) -> None:
    text = (ROOT / RULESET).read_text(encoding="utf-8")
    ruleset = tmp_path / "bad_sources.yaml"
    ruleset.write_text(text.replace("  tickets:\n", "  tickts:\n").replace(
        "cycle_days: 30 ", "cycle_dayz: 30 "), encoding="utf-8")
    result = run_cli("validate", str(ruleset))
    assert result.returncode == 1
    messages = [re.sub(r"^.*?:\d+:\d+: ", "", line) for line in result.stdout.splitlines()]
    assert messages == [
        "E152 sources.events: source 'events' has no option 'cycle_dayz' (did you mean "
        "'cycle_days'?) (options: gated_feature_events, activity_events, cycle_days, cycles, "
        "department_property, power_user_factor, power_user_min_events, preset, group_type, "
        "encoding, event_fields)",
        "E151 sources.tickts: unknown signal source 'tickts' (did you mean 'tickets'?)",
    ]


# --- upsell-rules plugins --------------------------------------------------------------------


def test_plugins_lists_everything_in_text() -> None:
    result = run_cli("plugins")
    assert result.returncode == 0
    text = result.stdout
    assert "upsell_rules.engine.engines 0.1.0  (built in, upsell-rules)" in text
    assert "events 0.1.0  (entry point (bundled), upsell-rules)" in text
    assert re.search(r"functions:\s+count_within\(dates: date_list, days: number\) -> integer",
                     text)
    assert re.search(r"sinks:\s+stdout, file", text)
    assert re.search(r"sinks:\s+webhook", text)
    assert text.rstrip().endswith("No load problems.")


def test_plugins_json_lists_origin_hooks_and_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("raise ImportError('no such SDK')\n", encoding="utf-8")
    result = run_cli("plugins", "--format", "json", "--plugin", str(broken))
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    by_name = {p["name"]: p for p in payload["plugins"]}
    assert by_name["signals"]["hooks"] == ["upsell_rules_derivations", "upsell_rules_functions"]
    assert by_name["signals"]["provides"]["functions"] == [
        "count_within", "days_since", "days_until", "latest", "count_of"]
    assert by_name["upsell_rules.io.sinks"]["provides"]["sinks"] == ["stdout", "file"]
    assert by_name["tickets"]["provides"]["sources"] == ["tickets"]
    assert payload["problems"] == [
        f"{broken}:1: plugin 'broken' (--plugin {broken}) failed to load: ImportError: no "
        "such SDK"
    ]


# --- the example third-party plugin, pip-installed -------------------------------------------


EXAMPLE = "plugins/example-plugin/support_aware.yaml"


def test_example_plugin_is_missing_until_installed() -> None:
    result = run_cli("validate", EXAMPLE)
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.endswith("E150 plugins[0]: this ruleset needs plugin 'example', which is not "
                          "installed (pip install the package that provides it, or load it "
                          "for one run with -p MODULE or --plugin FILE)")


def test_example_plugin_installed_validates_and_dry_runs(example_plugin_site: Path) -> None:
    env = {"PYTHONPATH": str(example_plugin_site)}
    listing = json.loads(run_cli("plugins", "--format", "json", env=env).stdout)
    example = next(p for p in listing["plugins"] if p["name"] == "example")
    assert (example["origin"], example["distribution"], example["version"]) == (
        "entry point", "upsell-rules-example", "0.2.0")
    assert example["provides"]["derivations"] == ["support_load"]
    assert example["provides"]["functions"] == ["tickets_at_or_above"]

    assert run_cli("validate", EXAMPLE, env=env).returncode == 0
    result = run_cli("dry-run", EXAMPLE, "--data", "samples/accounts.csv", "--as-of", AS_OF,
                     "--format", "jsonl", env=env)
    assert result.returncode == 0, result.stderr
    got = {d["account_id"]: d for d in map(json.loads, result.stdout.splitlines())}
    assert len(got) == 50
    # ACC-1025 has an open P1: the plugin's function blocks it.
    assert [f["id"] for f in got["ACC-1025"]["red_flags"]] == ["urgent_ticket_open"]
    assert got["ACC-1025"]["narrative"].endswith(
        "Support load 0.36 per 10 seats: fix that before talking seats.")
    # ACC-1001 has one open P3 on 25 seats: a load of 0.4, below the threshold.
    assert got["ACC-1001"]["red_flags"] == []
    assert not (ROOT / "upsell_rules" / "support_load.py").exists()


def test_example_plugins_own_tests_pass(example_plugin_site: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(example_plugin_site)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "plugins" / "example-plugin" / "tests")],
        capture_output=True, text=True, env=env, cwd=ROOT / "plugins" / "example-plugin",
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


# --- upsell-rules new-plugin -----------------------------------------------------------------


def test_new_plugin_scaffold_installs_and_its_tests_pass(tmp_path: Path) -> None:
    result = run_cli("new-plugin", "hubspot_sync", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    project = tmp_path / "upsell-rules-hubspot-sync"
    for name in ("pyproject.toml", "README.md", "src/upsell_rules_hubspot_sync/__init__.py",
                 "tests/test_hubspot_sync.py"):
        assert (project / name).is_file(), name
    assert 'hubspot_sync = "upsell_rules_hubspot_sync"' in (project / "pyproject.toml").read_text()
    site = tmp_path / "site"
    pip_install_target(project, site)
    env = {"PYTHONPATH": str(site)}
    listing = json.loads(run_cli("plugins", "--format", "json", env=env).stdout)
    assert "hubspot_sync" in {p["name"] for p in listing["plugins"]}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        capture_output=True, text=True, cwd=project, timeout=300,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout


@pytest.mark.parametrize("name", ["HubSpot", "2fast", "with-dash"])
def test_new_plugin_refuses_bad_names(name: str, tmp_path: Path) -> None:
    result = run_cli("new-plugin", name, "--dir", str(tmp_path))
    assert result.returncode == 2
    assert "must be lower case letters" in result.stderr


def test_new_plugin_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "upsell-rules-dup").mkdir()
    result = run_cli("new-plugin", "dup", "--dir", str(tmp_path))
    assert result.returncode == 2
    assert "already exists" in result.stderr
