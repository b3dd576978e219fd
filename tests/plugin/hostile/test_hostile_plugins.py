"""Hostile plugins through every command: the plugin is named, the other accounts are
kept, and the exit status says what happened (1: some records failed; 2: the run could
not be done). Every run is the real CLI in a subprocess on real files."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.support import AS_OF, ROOT, run_cli

HERE = Path(__file__).resolve().parent
H = HERE.relative_to(ROOT)
CSV = str(H / "accounts.csv")
TXT = str(H / "accounts.txt")
ALL = {"H-1", "H-2", "H-3", "H-4"}


def plugin(name: str) -> str:
    return str(H / "plugins" / f"{name}.py")


def ruleset(name: str) -> str:
    return str(H / f"{name}.yaml")


def decided(stdout: str) -> set[str]:
    return {json.loads(line)["account_id"] for line in stdout.splitlines() if line.strip()}


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("upsell-rules: error:")]


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


#: (plugin, ruleset, the accounts it fails, text the error line must hold)
RUNTIME = [
    ("describe_raises", "describe", {"H-2"},
     "upsell type 'hostile' (plugin 'describe_raises') failed in describe: RuntimeError: "
     "lost the CRM session"),
    ("describe_wrong_type", "describe", {"H-2", "H-3", "H-4"},
     "upsell type 'hostile' (plugin 'describe_wrong_type'): describe returned 42 (int); "
     "expected text or None"),
    ("derivation_raises", "derive", {"H-2"},
     "derived signal 'boost' (plugin 'derivation_raises') failed: ZeroDivisionError"),
    ("derivation_wrong_type", "derive", {"H-2"},
     "derived signal 'boost' (plugin 'derivation_wrong_type') returned 'high' (str); it "
     "declares number"),
    ("derivation_mutates", "derive", {"H-2"},
     "derived signal 'boost' (plugin 'derivation_mutates') failed: TypeError: "
     "'mappingproxy' object does not support item assignment"),
    ("describe_mutates", "describe", {"H-2"},
     "upsell type 'hostile' (plugin 'describe_mutates') failed in describe: TypeError: "
     "'mappingproxy' object does not support item assignment"),
    ("function_wrong_type", "function", {"H-2"},
     "function 'hostile_double' (plugin 'function_wrong_type') returned [20, 20] (list); "
     "it declares number"),
]
IDS = [case[0] for case in RUNTIME]


# --- one account fails, the others are decided: dry-run, run, explain, diff, report ----


@pytest.mark.parametrize(("name", "rules", "fails", "text"), RUNTIME, ids=IDS)
def test_dry_run_keeps_the_other_accounts(
    name: str, rules: str, fails: set[str], text: str
) -> None:
    result = run_cli("dry-run", ruleset(rules), "--data", CSV, "--as-of", AS_OF,
                     "--format", "jsonl", "--plugin", plugin(name))
    assert result.returncode == 1, result.stderr
    assert decided(result.stdout) == ALL - fails
    errors = error_lines(result.stderr)
    assert len(errors) == len(fails)
    assert all(text in line for line in errors), errors
    # The line says where and which account.
    assert f"{CSV}:3: account H-2: " in errors[0]
    assert f"read 4, decided {4 - len(fails)}, failed {len(fails)}" in result.stderr
    no_traceback(result.stderr)


@pytest.mark.parametrize(("name", "rules", "fails", "text"), RUNTIME, ids=IDS)
def test_run_delivers_the_other_accounts(
    tmp_path: Path, name: str, rules: str, fails: set[str], text: str
) -> None:
    out = tmp_path / "out.jsonl"
    result = run_cli("run", "--no-state", ruleset(rules), "--data", CSV, "--as-of", AS_OF,
                     "--sink", f"file:{out}", "--plugin", plugin(name))
    assert result.returncode == 1, result.stderr
    assert decided(out.read_text(encoding="utf-8")) == ALL - fails
    assert any(text in line for line in error_lines(result.stderr))
    no_traceback(result.stderr)


@pytest.mark.parametrize(("name", "rules", "fails", "text"), RUNTIME, ids=IDS)
def test_explain_fails_that_account_only(
    name: str, rules: str, fails: set[str], text: str
) -> None:
    bad = run_cli("explain", ruleset(rules), "--data", CSV, "--as-of", AS_OF,
                  "--account", "H-2", "--plugin", plugin(name))
    assert bad.returncode == 1, bad.stderr
    assert bad.stdout == ""
    assert [line for line in error_lines(bad.stderr) if text in line], bad.stderr
    no_traceback(bad.stderr)
    good = run_cli("explain", ruleset(rules), "--data", CSV, "--as-of", AS_OF,
                   "--account", "H-1", "--plugin", plugin(name))
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("H-1")


@pytest.mark.parametrize(("name", "rules", "fails", "text"), RUNTIME, ids=IDS)
def test_diff_leaves_the_account_out(name: str, rules: str, fails: set[str], text: str,
                                     tmp_path: Path) -> None:
    copy = tmp_path / "new.yaml"
    copy.write_text((HERE / f"{rules}.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = run_cli("diff", ruleset(rules), str(copy), "--data", CSV, "--as-of", AS_OF,
                     "--format", "json", "--plugin", plugin(name))
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["accounts"] == 4 - len(fails)
    assert any(text in line for line in error_lines(result.stderr))
    no_traceback(result.stderr)


@pytest.mark.parametrize(("name", "rules", "fails", "text"), RUNTIME[:3], ids=IDS[:3])
def test_report_is_written_without_the_account(
    tmp_path: Path, name: str, rules: str, fails: set[str], text: str
) -> None:
    page = tmp_path / "report.html"
    result = run_cli("report", ruleset(rules), "--data", CSV, "--as-of", AS_OF,
                     "-o", str(page), "--plugin", plugin(name))
    assert result.returncode == 1, result.stderr
    assert page.exists()
    assert any(text in line for line in error_lines(result.stderr))
    no_traceback(result.stderr)


@pytest.mark.parametrize(("name", "engine", "text"), [
    ("engine_raises", "fragile", "MemoryError: session table full"),
    # A plugin engine gets a read-only view of the signals, as derivations do: writing one
    # fails the account instead of changing what its record says.
    ("engine_mutates", "meddling", "'mappingproxy' object does not support item assignment"),
], ids=["raises", "writes a signal"])
def test_an_engine_failing_on_one_account_names_the_plugin(name: str, engine: str,
                                                           text: str) -> None:
    result = run_cli("dry-run", ruleset("plain"), "--data", CSV, "--as-of", AS_OF,
                     "--format", "jsonl", "--engine", engine, "--plugin", plugin(name))
    assert result.returncode == 1, result.stderr
    assert decided(result.stdout) == ALL - {"H-2"}
    [line] = error_lines(result.stderr)
    assert f"account H-2: plugin '{name}' (at " in line
    assert text in line
    no_traceback(result.stderr)


# --- the default ruleset through test, backtest, calibrate -----------------------------


def test_ruleset_tests_report_the_plugin_on_the_case_it_breaks() -> None:
    result = run_cli("test", "rulesets/upsell_timing.tests.yaml",
                     "--plugin", plugin("latest_raises"))
    # The case cannot run (an ERROR case, the command's exit 2); every other case runs.
    assert result.returncode == 2
    # Only the cases whose accounts reach the broken derivation are errors, none fail.
    assert re.search(r"\d+ passed, 0 failed, [1-9]\d* errors?\n", result.stdout), result.stdout
    assert "derived signal" in result.stdout + result.stderr
    assert "plugin 'latest_raises'" in result.stdout + result.stderr
    assert "metrics API answered 503" in result.stdout + result.stderr
    no_traceback(result.stderr)


@pytest.mark.parametrize("command", ["backtest", "calibrate"])
def test_history_commands_keep_the_other_snapshots(command: str, tmp_path: Path) -> None:
    extra = ["-o", str(tmp_path / "proposal.yaml")] if command == "calibrate" else []
    result = run_cli(command, "rulesets/upsell_timing.yaml",
                     "--snapshots", "samples/history/snapshots.csv",
                     "--outcomes", "samples/history/outcomes.csv", *extra,
                     "--plugin", plugin("latest_raises"), timeout=600)
    assert result.returncode in (0, 1), result.stderr
    errors = error_lines(result.stderr)
    assert errors, result.stderr
    assert all("HIS-0002" in line and "plugin 'latest_raises'" in line for line in errors)
    assert "metrics API answered 503" in errors[0]
    no_traceback(result.stderr)


# --- sources: part-way breaks, wrong items, no file at all ------------------------------


def test_a_source_that_breaks_part_way_keeps_what_it_read() -> None:
    result = run_cli("dry-run", ruleset("plain"), "--data", f"flaky:{TXT}", "--as-of", AS_OF,
                     "--format", "jsonl", "--plugin", plugin("source_breaks"))
    assert result.returncode == 1, result.stderr
    assert decided(result.stdout) == {"H-1", "H-2"}
    [line] = error_lines(result.stderr)
    assert f"{TXT}:3: source 'flaky' (plugin 'source_breaks') stopped reading" in line
    assert f"after 2 item(s) (the last at {TXT}:2): ConnectionError" in line
    assert "read 3, decided 2, failed 1" in result.stderr


def test_a_source_that_fails_before_any_record_stops_the_run() -> None:
    result = run_cli("dry-run", ruleset("plain"), "--data", f"down:{TXT}", "--as-of", AS_OF,
                     "--format", "jsonl", "--plugin", plugin("source_fails_at_once"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "source 'down' (plugin 'source_fails_at_once') failed reading" in result.stderr
    assert "ConnectionRefusedError" in result.stderr
    no_traceback(result.stderr)


def test_a_source_yielding_dicts_fails_each_record_grouped() -> None:
    result = run_cli("dry-run", ruleset("plain"), "--data", f"dicts:{TXT}", "--as-of", AS_OF,
                     "--format", "jsonl", "--plugin", plugin("source_dicts"))
    assert result.returncode == 1
    errors = error_lines(result.stderr)
    assert len(errors) == 4  # three in full, then one line for the whole group
    assert "yielded a dict, not a RawRecord or RecordError" in errors[0]
    assert errors[-1].startswith("upsell-rules: error: 4 records in all failed with: source "
                                 "'dicts' (plugin 'source_dicts')")
    assert "(accounts H-1, H-2, H-3, H-4)" in errors[-1]
    assert "read 4, decided 0, failed 4" in result.stderr


def test_data_name_value_goes_to_the_source_unchanged() -> None:
    good = run_cli("dry-run", ruleset("plain"), "--data", "portal:portal-1234",
                   "--as-of", AS_OF, "--format", "jsonl", "--plugin", plugin("source_api"))
    assert good.returncode == 0, good.stderr
    assert decided(good.stdout) == {"H-1", "H-2", "H-3"}
    bad = run_cli("dry-run", ruleset("plain"), "--data", "portal:nope",
                  "--as-of", AS_OF, "--format", "jsonl", "--plugin", plugin("source_api"))
    assert bad.returncode == 2
    assert "portal: no portal called 'nope' (known: portal-1234)" in bad.stderr
    # A missing file named for a file source is still said clearly, by the source.
    missing = run_cli("dry-run", ruleset("plain"), "--data", "csv:nope.csv", "--as-of", AS_OF)
    assert missing.returncode == 2
    assert "nope.csv" in missing.stderr


# --- hangs: the watchdog, on every command, loading included ---------------------------


def test_a_hanging_derivation_costs_its_account() -> None:
    result = run_cli("dry-run", ruleset("derive"), "--data", CSV, "--as-of", AS_OF,
                     "--format", "jsonl", "--plugin", plugin("derivation_hangs"),
                     "--plugin-timeout", "0.5", timeout=60)
    assert result.returncode == 1, result.stderr
    assert decided(result.stdout) == ALL - {"H-2"}
    [line] = error_lines(result.stderr)
    assert "account H-2: plugin 'derivation_hangs' (stuck in " in line
    assert "made no progress for 0.5 s" in line


@pytest.mark.parametrize("command", ["run", "explain", "report", "diff"])
def test_the_watchdog_covers_commands_that_had_none(command: str, tmp_path: Path) -> None:
    args = {
        "run": ["--no-state", "--sink", f"file:{tmp_path / 'out.jsonl'}"],
        "explain": ["--account", "H-2"],
        "report": ["-o", str(tmp_path / "r.html")],
        "diff": [ruleset("derive")],
    }[command]
    env = {"UPSELL_RULES_PLUGIN_TIMEOUT": "0.5"}
    started = time.monotonic()
    result = run_cli(command, ruleset("derive"), *args, "--data", CSV, "--as-of", AS_OF,
                     "--plugin", plugin("derivation_hangs"), env=env, timeout=60)
    assert time.monotonic() - started < 30
    assert result.returncode in (1, 2), result.stderr
    assert "plugin 'derivation_hangs' (stuck in " in result.stderr
    no_traceback(result.stderr)


@pytest.mark.parametrize("command", [["plugins"], ["validate", "rulesets/upsell_timing.yaml"]])
def test_a_hang_in_a_registration_hook_does_not_block(command: list[str]) -> None:
    started = time.monotonic()
    result = run_cli(*command, "--plugin", plugin("register_hangs"), "--plugin-timeout", "0.5",
                     timeout=60)
    assert time.monotonic() - started < 30
    assert "plugin 'register_hangs' hung in upsell_rules_derivations" in (
        result.stdout + result.stderr
    )
    no_traceback(result.stderr)


def test_a_hanging_sink_fails_its_deliveries() -> None:
    result = run_cli("run", "--no-state", ruleset("plain"), "--data", CSV, "--as-of", AS_OF,
                     "--sink", "stuck", "--plugin", plugin("sink_hangs"),
                     "--plugin-timeout", "0.3", timeout=60)
    assert result.returncode == 1, result.stderr
    assert "plugin 'sink_hangs' failed in sink 'stuck'" in result.stdout + result.stderr


# --- registration ---------------------------------------------------------------------


#: (plugin, text of the reason it is left out)
REGISTRATION = [
    ("register_returns",
     "returned [UpsellType(name='usage_overage'"),
    ("register_wrong_object",
     "registered a dict as a derivation; expected a Derivation"),
    ("register_source_as_type",
     "registered a Source (a source) as an upsell type; expected an UpsellType"),
    ("register_bad_fields", "upsell type 'numbered': title is 42 (int); expected text"),
    ("register_raises_halfway", "failed in upsell_rules_derivations: KeyError: 'settings'"),
    ("unknown_hook", "implements unknown hook 'upsell_rules_dashboards'"),
    ("unknown_field", "TypeError"),
]


@pytest.mark.parametrize(("name", "why"), REGISTRATION, ids=[r[0] for r in REGISTRATION])
def test_a_broken_registration_is_listed_with_why(name: str, why: str) -> None:
    listing = run_cli("plugins", "--format", "json", "--plugin", plugin(name))
    assert listing.returncode == 1
    payload = json.loads(listing.stdout)
    [left] = payload["left_out"]
    assert left["name"] == name and why in left["why"]
    assert left["why"].startswith(f"{plugin(name)}:")
    assert name not in {p["name"] for p in payload["plugins"]}
    text = run_cli("plugins", "--plugin", plugin(name)).stdout
    assert f"{name}  (--plugin {plugin(name)}): LEFT OUT" in text
    # Other commands run, with one error line naming the plugin.
    check = run_cli("validate", "rulesets/upsell_timing.yaml", "--plugin", plugin(name))
    assert check.returncode == 0
    [line] = error_lines(check.stderr)
    assert f"plugin '{name}'" in line and why in line


def test_the_return_habit_says_to_call_register() -> None:
    text = run_cli("plugins", "--plugin", plugin("register_returns")).stdout
    assert "call register(...) for each upsell type" in text.replace("\n                ", " ")


def test_a_hook_that_raises_half_way_registers_nothing() -> None:
    payload = json.loads(run_cli("plugins", "--format", "json",
                                 "--plugin", plugin("register_raises_halfway")).stdout)
    everything = [name for p in payload["plugins"] for names in p["provides"].values()
                  for name in names]
    assert "halfway_one" not in everything


def test_a_ruleset_needing_a_broken_plugin_says_why(tmp_path: Path) -> None:
    text = (HERE / "plain.yaml").read_text(encoding="utf-8")
    doc = json.loads(text)
    doc["plugins"] = ["register_returns"]
    path = tmp_path / "needs.yaml"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("validate", str(path), "--plugin", plugin("register_returns"))
    assert result.returncode == 1
    assert "E150" in result.stdout
    assert "this ruleset needs plugin 'register_returns', which is installed but was left " \
           "out because it is broken" in result.stdout


def test_duplicate_names_stop_naming_both_and_no_name_chooses() -> None:
    both = ["--plugin", plugin("duplicate_a"), "--plugin", plugin("duplicate_b")]
    result = run_cli("dry-run", ruleset("plain"), "--data", CSV, "--as-of", AS_OF, *both)
    assert result.returncode == 2
    [line] = [x for x in error_lines(result.stderr) if "shared_name" in x]
    assert "'duplicate_a'" in line and "'duplicate_b'" in line
    assert "-p no:duplicate_a or -p no:duplicate_b" in line
    chosen = run_cli("dry-run", ruleset("plain"), "--data", CSV, "--as-of", AS_OF,
                     "--format", "jsonl", *both, "-p", "no:duplicate_b")
    assert chosen.returncode == 0, chosen.stderr
    assert decided(chosen.stdout) == ALL


def _distribution(site: Path, name: str, requires: str) -> None:
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{name}.py").write_text(
        "from upsell_rules.plugin.hookspecs import hookimpl\n"
        "from upsell_rules.plugin.types import UpsellType\n\n\n"
        "@hookimpl\n"
        "def upsell_rules_upsell_types(register):\n"
        f"    register(UpsellType(name='{name}_type', title='T', frame='f'))\n",
        encoding="utf-8",
    )
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nRequires-Dist: {requires}\n",
        encoding="utf-8",
    )
    (info / "entry_points.txt").write_text(f"[upsell_rules]\n{name} = {name}\n",
                                           encoding="utf-8")
    (info / "top_level.txt").write_text(f"{name}\n", encoding="utf-8")


def test_a_plugin_built_for_another_version_is_left_out(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _distribution(site, "future_plugin", "upsell-rules>=99.0")
    _distribution(site, "fitting_plugin", "upsell-rules>=0.1")
    result = run_cli("plugins", "--format", "json", env={"PYTHONPATH": str(site)})
    payload = json.loads(result.stdout)
    [left] = payload["left_out"]
    assert left["name"] == "future_plugin"
    assert "future_plugin requires upsell-rules>=99.0 (Requires-Dist)" in left["why"]
    assert "fitting_plugin" in {p["name"] for p in payload["plugins"]}


# --- lifecycle hooks, and --debug -------------------------------------------------------


def test_a_failing_lifecycle_hook_is_one_line_and_debug_shows_the_traceback() -> None:
    args = ["dry-run", ruleset("plain"), "--data", CSV, "--as-of", AS_OF,
            "--plugin", plugin("before_raises")]
    result = run_cli(*args)
    assert result.returncode == 2
    assert error_lines(result.stderr)[0] == (
        "upsell-rules: error: plugin 'before_raises' failed in upsell_rules_before_evaluation: "
        "PermissionError: audit log is read-only"
    )
    no_traceback(result.stderr)
    debug = run_cli(*args, "--debug")
    assert debug.returncode == 2  # as without --debug: 1 would say "some records failed"
    assert "Traceback" in debug.stderr
    assert "PermissionError" in debug.stderr


def test_debug_keeps_the_exit_status_of_a_run_that_could_not_be_done() -> None:
    for args in (["--data", f"down:{TXT}", "--plugin", plugin("source_fails_at_once")],
                 ["--data", CSV, "--plugin", plugin("before_raises")]):
        plain = run_cli("dry-run", ruleset("plain"), "--as-of", AS_OF, *args)
        debug = run_cli("dry-run", ruleset("plain"), "--as-of", AS_OF, *args, "--debug")
        assert plain.returncode == debug.returncode == 2, (args, plain.stderr, debug.stderr)
        assert "Traceback" not in plain.stderr


# --- a plugin that prints ----------------------------------------------------------------


def test_what_a_plugin_prints_goes_to_stderr_and_stdout_stays_parseable() -> None:
    base = ["--data", CSV, "--as-of", AS_OF, "--plugin", plugin("prints")]
    runs = {
        "json": run_cli("dry-run", ruleset("prints"), *base, "--format", "json"),
        "csv": run_cli("dry-run", ruleset("prints"), *base, "--format", "csv"),
        "explain": run_cli("explain", ruleset("prints"), *base, "--account", "H-2",
                           "--format", "json"),
        "jobs": run_cli("dry-run", ruleset("prints"), *base, "--format", "jsonl",
                        "--jobs", "2"),
    }
    for name, result in runs.items():
        assert result.returncode == 0, (name, result.stderr)
        assert "noise" not in result.stdout, name
        assert "noise: imported" in result.stderr, name
    assert {row["account_id"] for row in json.loads(runs["json"].stdout)} == ALL
    assert "noise: described" in runs["json"].stderr
    assert "noise: written" in runs["json"].stderr
    assert runs["csv"].stdout.startswith("rank,account_id,")
    assert json.loads(runs["explain"].stdout)["decision"]["account_id"] == "H-2"
    assert decided(runs["jobs"].stdout) == ALL
