"""Resource limits on data: file size, record count, line length, and stalled plugins.

Each limit ends in a clear, located error; CSV and JSON Lines are read one line at a
time (memory stays flat however large the file); a plugin that never returns is stopped
by the watchdog, which names it.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import types
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.errors import InputError, Location, PluginTimeout, RecordError
from upsell_rules.io.encoding import HOW_TO_DECLARE
from upsell_rules.io.records import AccountReader, FirstSeen
from upsell_rules.io.synthetic import generate_accounts
from upsell_rules.io.synthetic import write_jsonl as write_accounts
from upsell_rules.limits import ENV, Limits, LimitSettingError, from_env, using
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.types import RawRecord
from upsell_rules.plugin.watchdog import watchdog
from upsell_rules_files.csv_source import read_csv
from upsell_rules_files.json_source import read_json, read_jsonl

ROOT = Path(__file__).resolve().parents[2]
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")
SAMPLE_ROW = (ROOT / "samples" / "accounts.csv").read_text(encoding="utf-8").splitlines()


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def errors(items: list[RawRecord | RecordError]) -> list[RecordError]:
    return [i for i in items if isinstance(i, RecordError)]


def ids(items: list[RawRecord | RecordError]) -> list[str]:
    return [i.values["account_id"] for i in items if isinstance(i, RawRecord)]


# --- settings ----------------------------------------------------------------------


def test_defaults_and_environment_overrides() -> None:
    assert from_env({}) == Limits()
    limits = from_env(
        {ENV["records"]: "10", ENV["input_mb"]: "0.5", ENV["line_bytes"]: "0",
         ENV["plugin_timeout"]: "2.5", ENV["ruleset_mb"]: " 3 "}
    )
    assert (limits.records, limits.input_mb, limits.line_bytes) == (10, 0.5, 0)
    assert (limits.plugin_timeout, limits.ruleset_mb) == (2.5, 3)
    assert limits.input_bytes == 512 * 1024
    assert limits.json_bytes == 512 * 1024  # the lower of the JSON cap and the input cap


@pytest.mark.parametrize("value", ["ten", "-1", "inf", "nan"])
def test_a_malformed_environment_value_names_the_variable(value: str) -> None:
    with pytest.raises(LimitSettingError, match=f"UPSELL_RULES_MAX_RECORDS={value!r}"):
        from_env({ENV["records"]: value})


def test_a_malformed_environment_value_is_a_usage_error() -> None:
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", "samples/accounts.csv", "--as-of", "2026-11-02"],
        env={"UPSELL_RULES_MAX_LINE_BYTES": "lots"},
    )
    assert result.exit_code == 2
    assert "UPSELL_RULES_MAX_LINE_BYTES='lots': expected a number, 0 or more" in result.output


# --- line length -------------------------------------------------------------------


def test_csv_row_over_the_line_limit_is_reported_and_reading_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", f"account_id,note\na1,{'x' * 300}\na2,ok\n\"a3\",\"b\nc\"\n")
    with using(Limits(line_bytes=100)):
        items = list(read_csv(path))
    assert [(e.location, e.message) for e in errors(items)] == [
        (Location(path, 2), "the row is longer than 100 bytes (--max-line-bytes); skipped")
    ]
    assert ids(items) == ["a2", "a3"]


def test_a_quoted_row_spanning_lines_counts_as_one_row(tmp_path: Path) -> None:
    body = "\n".join(["x" * 40] * 5)
    path = write(tmp_path, "a.csv", f'account_id,note\na1,"{body}"\na2,ok\n')
    with using(Limits(line_bytes=150)):
        items = list(read_csv(path))
    assert [e.location for e in errors(items)] == [Location(path, 2)]
    with using(Limits(line_bytes=1000)):
        assert ids(list(read_csv(path))) == ["a1", "a2"]


def test_csv_header_over_the_line_limit_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "account_id," + ",".join(f"c{i}" for i in range(100)) + "\n")
    with using(Limits(line_bytes=50)), pytest.raises(InputError) as caught:
        list(read_csv(path))
    assert str(caught.value) == (
        f"{path}:1: the header row is longer than 50 bytes (--max-line-bytes); skipped"
    )


def test_jsonl_line_over_the_limit_is_reported_and_reading_goes_on(tmp_path: Path) -> None:
    long = '{"account_id": "a2", "note": "' + "é" * 60 + '"}'  # 120 bytes of UTF-8
    path = write(tmp_path, "a.jsonl", f'{{"account_id": "a1"}}\n{long}\n{{"account_id": "a3"}}\n')
    with using(Limits(line_bytes=100)):
        items = list(read_jsonl(path))
    assert [(e.location, e.message) for e in errors(items)] == [
        (Location(path, 2), "the line is longer than 100 bytes (--max-line-bytes); skipped")
    ]
    assert ids(items) == ["a1", "a3"]


def test_a_file_without_line_breaks_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "one-line.jsonl"
    with open(path, "wb") as handle:
        handle.write(b'{"account_id": "a1", "note": "')
        handle.write(b"x" * (20 * 1024 * 1024))
    tracemalloc.start()
    try:
        with using(Limits(line_bytes=64 * 1024)):
            items = list(read_jsonl(str(path)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [e.message for e in errors(items)] == [
        "the line is longer than 65,536 bytes (--max-line-bytes); skipped"
    ]
    assert peak < 2 * 1024 * 1024


def test_cli_option_sets_the_line_limit(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", f"account_id,plan\nA1,{'x' * 200}\nA2,Team\n")
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", data, "--as-of", "2026-11-02", "--format", "jsonl",
              "--max-line-bytes", "100"],
    )
    assert result.exit_code == 1
    assert f"{data}:2: the row is longer than 100 bytes (--max-line-bytes); skipped" in (
        result.output
    )
    assert "read 2, decided 1, failed 1" in result.output


# --- record count and file size ----------------------------------------------------


def test_record_limit_is_a_located_input_error(tmp_path: Path) -> None:
    rows = [SAMPLE_ROW[0], *SAMPLE_ROW[1:6]]
    data = write(tmp_path, "a.csv", "\n".join(rows) + "\n")
    out = tmp_path / "out.json"
    out.write_text("previous", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["dry-run", RULESET, "--data", data, "--as-of", "2026-11-02", "--format", "json",
              "--max-records", "3", "-o", str(out)],
    )
    assert result.exit_code == 2
    assert f"upsell-rules: error: {data}:5: more than 3 records in {data} (--max-records)" in (
        result.output
    )
    assert out.read_text(encoding="utf-8") == "previous"
    assert not list(tmp_path.glob(".upsell-rules-*"))


def test_record_limit_counts_failed_records_too(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", "[]\n[]\n{}\n")
    reader = AccountReader(default_registry(), {}, Limits(records=2))
    with pytest.raises(InputError, match=r"a\.jsonl:3: more than 2 records"):
        list(reader.read(path))


@pytest.mark.parametrize(
    ("name", "reader"), [("a.csv", read_csv), ("a.jsonl", read_jsonl), ("a.json", read_json)]
)
def test_a_file_over_the_size_limit_is_refused_before_reading(
    tmp_path: Path, name: str, reader: Callable[[str], object]
) -> None:
    path = tmp_path / name
    with open(path, "wb") as handle:
        handle.truncate(3 * 1024 * 1024)
    with using(Limits(input_mb=2)), pytest.raises(InputError) as caught:
        list(reader(str(path)))  # type: ignore[call-overload]
    assert str(caught.value).startswith(f"{path}: the file is 3.0 MB, above the 2 MB limit")


def test_json_arrays_have_their_own_cap(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", "[" + ",".join(['{"account_id": "a"}'] * 40_000) + "]")
    with using(Limits(json_mb=0.5)), pytest.raises(InputError) as caught:
        list(read_json(path))
    assert "above the 0.5 MB limit (JSON is read whole; use JSON Lines" in str(caught.value)
    assert len(list(read_json(path))) == 40_000


def test_size_limit_from_option_and_environment(tmp_path: Path) -> None:
    data = write(tmp_path, "a.csv", "\n".join(SAMPLE_ROW) + "\n")
    base = ["dry-run", RULESET, "--data", data, "--as-of", "2026-11-02", "--format", "jsonl"]
    by_option = CliRunner().invoke(cli, [*base, "--max-input-mb", "0.001"])
    by_env = CliRunner().invoke(cli, base, env={"UPSELL_RULES_MAX_INPUT_MB": "0.001"})
    option_wins = CliRunner().invoke(
        cli, [*base, "--max-input-mb", "5"], env={"UPSELL_RULES_MAX_INPUT_MB": "0.001"}
    )
    for result in (by_option, by_env):
        assert result.exit_code == 2
        assert f"{data}: the file is " in result.output
        assert "above the 0.001 MB limit (--max-input-mb)" in result.output
    assert option_wins.exit_code == 0


def test_not_utf8_in_the_middle_of_a_jsonl_file_costs_its_line_only(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl",
                 b'{"account_id": "a1"}\n{"account_id": "caf\xe9"}\n{"account_id": "a3"}\n')
    read = list(read_jsonl(path))
    assert [type(r).__name__ for r in read] == ["RawRecord", "RecordError", "RawRecord"]
    assert str(read[1]) == (
        f"{path}:2: not UTF-8 text (byte 0xe9); export the file as UTF-8, or "
        f"{HOW_TO_DECLARE}")
    assert read[2].values == {"account_id": "a3"}


def test_an_open_quote_at_the_end_of_a_csv_is_reported_not_a_crash(tmp_path: Path) -> None:
    # Found by fuzzing: the csv module asks for another line after the end of the file.
    path = write(tmp_path, "a.csv", 'account_id,note\na1,x\n"a2,"open\n')
    items = list(read_csv(path))
    assert ids(items)[0] == "a1"
    assert all(isinstance(i, RawRecord | RecordError) for i in items)


# --- the watchdog ------------------------------------------------------------------


def _plugin_module(name: str, code: str) -> types.ModuleType:
    """A module whose functions run with ``__name__ == name``, like a loaded plugin."""
    module = types.ModuleType(name)
    exec(textwrap.dedent(code), module.__dict__)
    return module


STUCK = """
    import time

    def stuck(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                time.sleep(0.01)
            except Exception:
                pass  # a plugin that swallows every Exception is still stopped
"""


def test_a_stalled_plugin_is_stopped_and_named() -> None:
    module = _plugin_module("acme_plugin.slow", STUCK)
    start = time.monotonic()
    with pytest.raises(PluginTimeout) as caught, watchdog(0.3, lambda: 0, {"acme_plugin": "acme"}):
        module.stuck(10)
    assert time.monotonic() - start < 2
    assert re.match(
        r"plugin 'acme' \(stuck in acme_plugin\.slow:\d+, in stuck\) made no progress for "
        r"0\.3 s and was stopped",
        str(caught.value),
    )
    assert "--plugin-timeout (0 turns the check off)" in str(caught.value)


def test_progress_keeps_a_slow_run_going() -> None:
    module = _plugin_module("acme_plugin", STUCK)
    ticks = iter(range(1_000_000))
    with watchdog(0.2, lambda: next(ticks), {"acme_plugin": "acme"}):
        module.stuck(0.6)  # progress moves at every tick, so this is never stopped


def test_waiting_outside_plugins_is_not_stopped() -> None:
    with watchdog(0.1, lambda: 0, {"acme_plugin": "acme"}):
        time.sleep(0.4)  # the core (or a full pipe) waiting: nothing to blame


def test_an_alarm_set_before_is_armed_again_afterwards() -> None:
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with watchdog(5, lambda: 0, {}):
            pass
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < remaining <= 0.5
        time.sleep(0.7)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_budget_zero_turns_it_off_and_the_old_handler_comes_back() -> None:
    module = _plugin_module("acme_plugin", STUCK)
    before = signal.getsignal(signal.SIGALRM)
    with watchdog(0, lambda: 0, {"acme_plugin": "acme"}):
        module.stuck(0.2)
    with pytest.raises(PluginTimeout), watchdog(0.1, lambda: 0, {"acme_plugin": "acme"}):
        module.stuck(5)
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


HANGING_PLUGIN = """
import time
from upsell_rules.errors import Location
from upsell_rules.plugin.types import Derivation, RawRecord, Source
from upsell_rules.plugin.hookspecs import hookimpl


def _build(params):
    def forever(signals, as_of):
        while True:
            time.sleep(0.01)
    return forever


def _read(path):
    yield RawRecord({"account_id": "A1"}, Location(path, 1))
    while True:
        time.sleep(0.01)


@hookimpl
def upsell_rules_derivations(register):
    register(Derivation(name="forever", description="never returns", output_type="number",
                        build=_build))


@hookimpl
def upsell_rules_sources(register):
    register(Source(name="hang", description="stops after one record",
                    matches=lambda path: path.endswith(".hang"), read=_read))
"""


@pytest.mark.parametrize(
    "what", ["derivation", "derivation in a worker", "derivation in a chunk worker", "source"]
)
def test_cli_stops_a_hanging_plugin_and_names_it(tmp_path: Path, what: str) -> None:
    # The budget covers loading the plugins too: 2 s, not less, so that importing the
    # bundled ones on a busy machine is not what gets stopped.
    plugin = tmp_path / "stuckplugin.py"
    plugin.write_text(HANGING_PLUGIN, encoding="utf-8")
    ruleset = tmp_path / "rules.yaml"
    text = Path(RULESET).read_text(encoding="utf-8")
    jobs = ["--jobs", "2"] if "worker" in what else []
    if what.startswith("derivation"):
        text = text.replace("signals:\n", "signals:\n  stuck: {type: number, derive: forever}\n", 1)
        data = str(ROOT / "samples" / "accounts.csv")
        if "chunk" in what:
            # Big enough that --jobs cuts it into byte ranges the workers read themselves.
            data = str(tmp_path / "accounts.jsonl")
            write_accounts(data, generate_accounts(8_000, 5, date(2026, 11, 2)))
    else:
        data = write(tmp_path, "accounts.hang", "")
    ruleset.write_text(text, encoding="utf-8")
    out = tmp_path / "out.json"
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "upsell_rules", "dry-run", str(ruleset), "--data", data,
         "--as-of", "2026-11-02", "--plugin", str(plugin), "--plugin-timeout", "2",
         "--format", "json", "-o", str(out), *jobs],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )
    assert time.monotonic() - start < 30
    line = "stuck in upsell_rules_local_plugins.stuckplugin:"
    assert "made no progress for 2 s and was stopped" in result.stderr
    assert not list(tmp_path.glob(".upsell-rules-*"))
    if what == "source":
        # A source that stalls part-way keeps what it read: one failed record, exit 1.
        assert result.returncode == 1, result.stderr
        assert "source 'hang' (plugin 'stuckplugin') stopped reading" in result.stderr
        assert "plugin 'stuckplugin' (" + line in result.stderr
        assert [d["account_id"] for d in json.loads(out.read_text())] == ["A1"]
        return
    # A derivation that stalls on every account: the second stall stops the run.
    assert result.returncode == 2, result.stderr
    assert "upsell-rules: error: plugin 'stuckplugin' (" + line in result.stderr
    assert not out.exists()


# --- what does grow: the ids kept to report duplicates -------------------------------


def test_first_seen_keeps_locations_compactly() -> None:
    seen = FirstSeen()
    seen["A"] = Location("a.json", 3, 7)
    seen["B"] = Location("b.json", 4)
    seen["A"] = Location("a.json", 5)
    assert "A" in seen and "B" in seen and "C" not in seen
    assert (seen["A"], seen["B"]) == (Location("a.json", 5), Location("b.json", 4))
    assert sorted(seen) == ["A", "B"] and len(seen) == 2
    del seen["B"]
    assert "B" not in seen
    tracemalloc.start()
    try:
        for index in range(20_000):
            seen[f"ACC-{index:07d}"] = Location("a.json", index + 1000)
        per_id = tracemalloc.get_traced_memory()[0] / 20_000
    finally:
        tracemalloc.stop()
    assert per_id < 160, per_id
