"""The real ``upsell-rules`` command, run as a subprocess on real files.

Expected values (account ids, bad lines) are read from the sample files themselves, so
the tests stay right when the samples are regenerated. Outputs that several tests look
at are produced once per module.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import upsell_rules
from upsell_rules.io.formatters import queue_order

ROOT = Path(__file__).resolve().parents[2]
RULESET = "rulesets/upsell_timing.yaml"
ACCOUNTS_CSV = "samples/accounts.csv"
ACCOUNTS_JSONL = "samples/accounts.jsonl"
BAD_CSV = "samples/bad_accounts.csv"
AS_OF = "2026-11-02"

REQUIRED_KEYS = {
    "account_id",
    "account_name",
    "owner",
    "score",
    "band",
    "blocked",
    "category_scores",
    "upsell_types",
    "triggers",
    "gates",
    "red_flags",
    "capped_at",
    "action",
    "narrative",
    "missing_signals",
    "ruleset",
}
BANDS = {"act_now", "warming", "monitor", "wait"}
SUMMARY = re.compile(r"^read (\d+), decided (\d+), failed (\d+)\b", re.MULTILINE)


def run(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m upsell_rules ARGS`` and capture everything."""
    return subprocess.run(
        [sys.executable, "-m", "upsell_rules", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def dry_run(data: str, *extra: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return run("dry-run", RULESET, "--data", data, "--as-of", AS_OF, *extra, **kwargs)


def csv_rows(path: str) -> list[tuple[int, dict[str, str]]]:
    """(line, row) for every data row of a sample CSV (no quoted newlines in samples)."""
    with open(ROOT / path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        out = []
        for row in reader:
            out.append((reader.line_num, row))
        return out


def sample_ids(path: str) -> list[str]:
    return [row["account_id"] for _, row in csv_rows(path)]


@pytest.fixture(scope="module", autouse=True)
def samples_present() -> None:
    # A missing sample is a broken checkout, never a reason to pass without testing.
    missing = [path for path in (ACCOUNTS_CSV, ACCOUNTS_JSONL, BAD_CSV) if not (ROOT / path).exists()]
    assert not missing, f"sample files missing: {missing}"


# --- module-scoped outputs ---------------------------------------------------------------


@pytest.fixture(scope="module")
def dry() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``dry(data, *options)``: a dry-run, computed once per module for the same args."""
    cache: dict[tuple[str, ...], subprocess.CompletedProcess[str]] = {}

    def get(*args: str) -> subprocess.CompletedProcess[str]:
        if args not in cache:
            cache[args] = dry_run(*args)
        return cache[args]

    return get


@pytest.fixture(scope="module")
def decisions(dry: Callable[..., subprocess.CompletedProcess[str]]) -> list[dict[str, Any]]:
    result = dry(ACCOUNTS_CSV, "--format", "json")
    assert result.returncode == 0, result.stderr
    parsed: list[dict[str, Any]] = json.loads(result.stdout)
    return parsed


@pytest.fixture(scope="module")
def bad_run(
    dry: Callable[..., subprocess.CompletedProcess[str]],
) -> subprocess.CompletedProcess[str]:
    return dry(BAD_CSV, "--format", "json")


# --- help and version --------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [[], ["validate"], ["dry-run"], ["explain"]],
    ids=["group", "validate", "dry-run", "explain"],
)
def test_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: upsell-rules {' '.join(command)}".rstrip())
    if not command:
        for name in ("validate", "dry-run", "explain"):
            assert re.search(rf"^\s+{name}\s", result.stdout, re.MULTILINE), name
    if command == ["dry-run"]:
        for option in ("--data", "--as-of", "--format", "--output", "--engine"):
            assert option in result.stdout
        assert "table|json|jsonl|csv" in result.stdout
    if command == ["explain"]:
        for option in ("--data", "--account", "--as-of", "--format"):
            assert option in result.stdout


def test_short_help_flag() -> None:
    assert run("-h").stdout == run("--help").stdout


def test_help_example_is_copy_pasteable() -> None:
    lines = [line.strip() for line in run("--help").stdout.splitlines()]
    assert (
        "upsell-rules dry-run upsell_timing --data samples/accounts.csv "
        "--as-of 2026-11-02" in lines
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"upsell-rules, version {upsell_rules.__version__}"


# --- validate ----------------------------------------------------------------------------


def test_validate_clean_exit_0() -> None:
    result = run("validate", RULESET)
    assert result.returncode == 0
    assert result.stdout == ""
    assert "1 file(s) valid" in result.stderr


def test_validate_findings_exit_1_and_format(tmp_path: Path) -> None:
    text = (ROOT / RULESET).read_text(encoding="utf-8")
    old = "    upsell_type: addon"
    assert text.count(old) == 1
    broken = text.replace(old, "    upsell_type: adon")
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    index = broken.index("adon")
    line = broken.count("\n", 0, index) + 1
    col = index - broken.rfind("\n", 0, index)
    result = run("validate", str(path), RULESET)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:{line}:{col}: E130 triggers[7].upsell_type: unknown upsell type 'adon' "
        "(did you mean 'addon'?)"
    ]
    assert "1 error(s), 0 warning(s) in 2 file(s)" in result.stderr

    as_json = run("validate", "--format", "json", str(path))
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == [
        {
            "path": str(path),
            "line": line,
            "col": col,
            "code": "E130",
            "severity": "error",
            "message": "triggers[7].upsell_type: unknown upsell type 'adon' "
            "(did you mean 'addon'?)",
            "doc": "authoring.md#diagnostic-codes",
        }
    ]


def test_validate_json_clean_is_an_empty_list() -> None:
    result = run("validate", "--format", "json", RULESET)
    assert result.returncode == 0
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    "args",
    [["validate", "no/such/ruleset.yaml"], ["validate"], ["validate", "--format", "xml", RULESET]],
    ids=["missing-file", "no-argument", "bad-format"],
)
def test_validate_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Usage: upsell-rules validate" in result.stderr


# --- dry-run: formats --------------------------------------------------------------------


def test_json_has_one_record_per_account_in_input_order(decisions: list[dict[str, Any]]) -> None:
    assert [d["account_id"] for d in decisions] == sample_ids(ACCOUNTS_CSV)


def test_json_records_have_every_required_key(decisions: list[dict[str, Any]]) -> None:
    digest = hashlib.sha256((ROOT / RULESET).read_bytes()).hexdigest()
    rows = {row["account_id"]: row for _, row in csv_rows(ACCOUNTS_CSV)}
    for d in decisions:
        assert d.keys() >= REQUIRED_KEYS, REQUIRED_KEYS - d.keys()
        row = rows[d["account_id"]]
        assert d["account_name"] == row["account_name"]
        assert d["owner"] == row["owner"]
        assert isinstance(d["score"], int | float) and 0 <= d["score"] <= 100
        assert d["band"] in BANDS
        assert isinstance(d["blocked"], bool)
        assert set(d["category_scores"]) == {"product", "relationship", "commercial"}
        assert isinstance(d["upsell_types"], list)
        for trigger in d["triggers"]:
            assert {"id", "upsell_type", "evidence"} <= trigger.keys()
            assert trigger["upsell_type"] in d["upsell_types"]
        for gate in d["gates"]:
            assert {"id", "passed", "play"} <= gate.keys()
            assert isinstance(gate["passed"], bool)
        for flag in d["red_flags"]:
            assert {"id", "effect", "play"} <= flag.keys()
        assert d["capped_at"] is None or isinstance(d["capped_at"], int | float)
        assert {"play", "owner", "window"} <= d["action"].keys()
        assert isinstance(d["narrative"], str) and d["narrative"]
        assert isinstance(d["missing_signals"], list)
        assert d["ruleset"] == {"name": "upsell_timing", "version": "1.0.0", "sha256": digest}


def test_json_covers_every_band_and_blocked_accounts(decisions: list[dict[str, Any]]) -> None:
    # the samples are meant to exercise the whole ruleset; a sanity check that they do
    assert {d["band"] for d in decisions} == BANDS
    assert any(d["blocked"] for d in decisions)
    assert any(d["capped_at"] is not None for d in decisions)


def test_jsonl_lines_match_json(dry: Callable[..., Any], decisions: list[dict[str, Any]]) -> None:
    result = dry(ACCOUNTS_CSV, "--format", "jsonl")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(decisions)
    assert [json.loads(line) for line in lines] == decisions
    assert result.stdout.endswith("\n")


def test_csv_has_a_header_and_one_row_per_account(
    dry: Callable[..., Any], decisions: list[dict[str, Any]]
) -> None:
    result = dry(ACCOUNTS_CSV, "--format", "csv")
    assert result.returncode == 0
    reader = csv.DictReader(io.StringIO(result.stdout))
    rows = list(reader)
    assert reader.fieldnames is not None
    assert reader.fieldnames[:8] == ["rank", "account_id", "account_name", "owner", "as_of", "score", "raw_score", "band"]
    assert {"product", "relationship", "commercial", "frame", "prepare", "status",
            "prepare_steps"} <= set(reader.fieldnames)
    assert len(rows) == len(decisions)
    # The CSV is the queue: in queue order, ranked from 1.
    assert [int(row["rank"]) for row in rows] == list(range(1, len(rows) + 1))
    by_id = {d["account_id"]: d for d in decisions}
    assert [row["account_id"] for row in rows] == [
        d["account_id"] for d in queue_order(list(decisions))
    ]
    for row in rows:
        d = by_id[row["account_id"]]
        assert row["account_id"] == d["account_id"]
        assert row["band"] == d["band"]
        assert float(row["score"]) == d["score"]
        assert row["blocked"] == ("true" if d["blocked"] else "false")
        assert row["upsell_types"] == "|".join(d["upsell_types"])
        assert row["play"] == d["action"]["play"]


def test_csv_and_jsonl_inputs_give_the_same_decisions(
    dry: Callable[..., Any], decisions: list[dict[str, Any]]
) -> None:
    result = dry(ACCOUNTS_JSONL, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == decisions


def test_output_is_byte_identical_across_runs(dry: Callable[..., Any]) -> None:
    first = dry(ACCOUNTS_CSV, "--format", "json")
    # a fresh process with a different hash seed: no dict/set ordering may leak
    second = dry_run(ACCOUNTS_CSV, "--format", "json", env={"PYTHONHASHSEED": "12345"})
    third = dry_run(ACCOUNTS_CSV, "--format", "json", env={"PYTHONHASHSEED": "999"})
    assert first.stdout == second.stdout == third.stdout
    assert first.stderr == second.stderr


@pytest.mark.parametrize("fmt", ["table", "csv", "jsonl"])
def test_other_formats_are_deterministic(dry: Callable[..., Any], fmt: str) -> None:
    again = dry_run(ACCOUNTS_CSV, "--format", fmt, env={"PYTHONHASHSEED": "7"})
    assert again.returncode == 0
    assert again.stdout == dry(ACCOUNTS_CSV, "--format", fmt).stdout


def test_output_file_is_written_and_no_temp_files_are_left(
    tmp_path: Path, dry: Callable[..., Any]
) -> None:
    target = tmp_path / "queue.json"
    result = dry_run(ACCOUNTS_CSV, "--format", "json", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == dry(ACCOUNTS_CSV, "--format", "json").stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["queue.json"]


def test_output_file_is_replaced_not_appended(tmp_path: Path, dry: Callable[..., Any]) -> None:
    target = tmp_path / "queue.csv"
    target.write_text("stale content\n" * 1000, encoding="utf-8")
    result = dry_run(ACCOUNTS_CSV, "--format", "csv", "-o", str(target))
    assert result.returncode == 0
    assert target.read_text(encoding="utf-8") == dry(ACCOUNTS_CSV, "--format", "csv").stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["queue.csv"]


def test_table_is_the_prioritised_queue(
    dry: Callable[..., Any], decisions: list[dict[str, Any]]
) -> None:
    result = dry(ACCOUNTS_CSV)  # table is the default format
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["rank", "account", "name", "score", "band"]
    by_id = {d["account_id"]: d for d in decisions}
    # The rows end at the blank line before the legend of upsell types.
    rows = lines[1:lines.index("")] if "" in lines else lines[1:]
    order = [by_id[line.split()[1]] for line in rows]
    assert len(order) == len(decisions)
    assert {d["account_id"] for d in order} == set(by_id)
    # unblocked act-now accounts first ...
    assert order[0]["band"] == "act_now" and not order[0]["blocked"]
    # ... every unblocked account before every blocked one ...
    blocked = [d["blocked"] for d in order]
    assert blocked == sorted(blocked)
    # ... and within each group, bands from act_now down, scores high to low
    rank = {"act_now": 0, "warming": 1, "monitor": 2, "wait": 3}
    keys = [(d["blocked"], rank[d["band"]], -d["score"]) for d in order]
    assert keys == sorted(keys)
    unblocked_act_now = [d for d in decisions if d["band"] == "act_now" and not d["blocked"]]
    assert {d["account_id"] for d in order[: len(unblocked_act_now)]} == {
        d["account_id"] for d in unblocked_act_now
    }


def test_summary_line_on_stderr(dry: Callable[..., Any], decisions: list[dict[str, Any]]) -> None:
    result = dry(ACCOUNTS_CSV, "--format", "json")
    match = SUMMARY.search(result.stderr)
    assert match, result.stderr
    n = len(decisions)
    assert tuple(map(int, match.groups())) == (n, n, 0)


# --- dry-run: bad records ----------------------------------------------------------------


def _error_lines(stderr: str) -> dict[int, list[str]]:
    name = re.escape(BAD_CSV)
    out: dict[int, list[str]] = {}
    for m in re.finditer(rf"^upsell-rules: error: {name}:(\d+): (.+)$", stderr, re.MULTILINE):
        out.setdefault(int(m[1]), []).append(m[2])
    return out


def test_bad_records_exit_1(bad_run: subprocess.CompletedProcess[str]) -> None:
    assert bad_run.returncode == 1


def test_bad_number_is_located(bad_run: subprocess.CompletedProcess[str]) -> None:
    bad = [(line, row) for line, row in csv_rows(BAD_CSV) if row["health_score"] == "abc"]
    assert bad, "the sample should hold a non-numeric health_score"
    for line, _ in bad:
        assert f"{BAD_CSV}:{line}: health_score: 'abc' is not a number" in bad_run.stderr


def test_bad_date_is_located(bad_run: subprocess.CompletedProcess[str]) -> None:
    bad = [(line, row) for line, row in csv_rows(BAD_CSV) if row["renewal_date"] == "2026-13-45"]
    for line, _ in bad:
        assert (
            f"{BAD_CSV}:{line}: renewal_date: '2026-13-45' is not a date (expected YYYY-MM-DD)"
            in bad_run.stderr
        )


def test_duplicate_account_id_is_located(bad_run: subprocess.CompletedProcess[str]) -> None:
    seen: dict[str, int] = {}
    duplicates = []
    for line, row in csv_rows(BAD_CSV):
        if row["account_id"] in seen:
            duplicates.append((line, row["account_id"], seen[row["account_id"]]))
        else:
            seen[row["account_id"]] = line
    assert duplicates, "the sample should repeat an account_id"
    for line, account_id, first in duplicates:
        assert (
            f"{BAD_CSV}:{line}: account_id: duplicate account_id '{account_id}' "
            f"(first at line {first})" in bad_run.stderr
        )


def test_summary_adds_up_and_every_other_account_is_decided(
    bad_run: subprocess.CompletedProcess[str],
) -> None:
    rows = csv_rows(BAD_CSV)
    errors = _error_lines(bad_run.stderr)
    assert errors
    match = SUMMARY.search(bad_run.stderr)
    assert match, bad_run.stderr
    read, decided, failed = map(int, match.groups())
    assert read == decided + failed == len(rows)
    assert failed == len(errors)
    good_ids = [row["account_id"] for line, row in rows if line not in errors]
    output = json.loads(bad_run.stdout)
    assert [d["account_id"] for d in output] == good_ids
    assert decided == len(output)


def test_missing_account_id_column_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "no_id.csv"
    data.write_text("id,account_name,health_score\nX-1,Acme,80\n", encoding="utf-8")
    result = dry_run(str(data), "--format", "json")
    assert result.returncode == 2
    assert f"{data}:1: the header has no 'account_id' column" in result.stderr


def test_missing_account_id_column_leaves_no_output_file(tmp_path: Path) -> None:
    data = tmp_path / "no_id.csv"
    data.write_text("id,account_name\nX-1,Acme\n", encoding="utf-8")
    target = tmp_path / "out.json"
    result = dry_run(str(data), "--format", "json", "-o", str(target))
    assert result.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no_id.csv"]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_unusable_data_file_writes_nothing_to_stdout(tmp_path: Path, fmt: str) -> None:
    data = tmp_path / "no_id.csv"
    data.write_text("id,account_name\nX-1,Acme\n", encoding="utf-8")
    result = dry_run(str(data), "--format", fmt)
    assert result.returncode == 2
    assert result.stdout == ""


def test_case_mismatch_in_account_id_column_is_explained(tmp_path: Path) -> None:
    data = tmp_path / "upper.csv"
    data.write_text("Account_ID,account_name\nX-1,Acme\n", encoding="utf-8")
    result = dry_run(str(data), "--format", "jsonl")
    assert result.returncode == 2
    assert "case-sensitive" in result.stderr


# --- dry-run: options --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-01",
        "2026-02-30",
        "02/11/2026",
        "today",
        pytest.param(
            "2026-W45-1"
        ),
    ],
)
def test_bad_as_of_is_a_usage_error(value: str) -> None:
    result = run("dry-run", RULESET, "--data", ACCOUNTS_CSV, "--as-of", value)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--as-of" in result.stderr
    assert "YYYY-MM-DD" in result.stderr


def test_interpreter_engine_gives_byte_identical_json(dry: Callable[..., Any]) -> None:
    default = dry(ACCOUNTS_CSV, "--format", "json")
    interpreted = dry(ACCOUNTS_CSV, "--format", "json", "--engine", "interpreter")
    assert interpreted.returncode == 0
    assert interpreted.stdout == default.stdout


def test_unknown_engine_exit_2_lists_engines() -> None:
    result = dry_run(ACCOUNTS_CSV, "--engine", "nope")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown engine 'nope'" in result.stderr
    assert "python" in result.stderr and "interpreter" in result.stderr


def test_missing_data_file_exit_2(tmp_path: Path) -> None:
    result = dry_run(str(tmp_path / "nope.csv"))
    assert result.returncode == 2
    assert "--data" in result.stderr


def test_broken_ruleset_refuses_to_run(tmp_path: Path) -> None:
    text = (
        (ROOT / RULESET)
        .read_text(encoding="utf-8")
        .replace("    upsell_type: addon", "    upsell_type: adon")
    )
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    result = run("dry-run", str(path), "--data", ACCOUNTS_CSV, "--as-of", AS_OF, "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "E130" in result.stderr


def test_works_from_another_directory(tmp_path: Path, decisions: list[dict[str, Any]]) -> None:
    shutil.copy(ROOT / ACCOUNTS_CSV, tmp_path / "a.csv")
    result = run(
        "dry-run",
        str(ROOT / RULESET),
        "--data",
        "a.csv",
        "--as-of",
        AS_OF,
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout) == decisions


# --- explain -----------------------------------------------------------------------------


def explain(account: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run(
        "explain", RULESET, "--data", ACCOUNTS_CSV, "--account", account, "--as-of", AS_OF, *extra
    )


@pytest.fixture(scope="module")
def act_now(decisions: list[dict[str, Any]]) -> dict[str, Any]:
    return next(d for d in decisions if d["band"] == "act_now" and not d["blocked"])


@pytest.fixture(scope="module")
def blocked_by_gate(decisions: list[dict[str, Any]]) -> dict[str, Any]:
    return next(
        d
        for d in decisions
        if d["blocked"] and not any(f["effect"] == "block" for f in d["red_flags"])
    )


@pytest.fixture(scope="module")
def blocked_by_flag(decisions: list[dict[str, Any]]) -> dict[str, Any]:
    return next(d for d in decisions if any(f["effect"] == "block" for f in d["red_flags"]))


def _shows_every_rule(text: str, d: dict[str, Any]) -> None:
    for gate in d["gates"]:
        mark = "yes" if gate["passed"] else " no"
        assert f"[{mark}] {gate['id']} (" in text, gate
    for flag in d["red_flags"]:
        assert f"[yes] {flag['id']} ({flag['effect']}" in text, flag
    for trigger in d["triggers"]:
        assert f"[yes] {trigger['id']} (" in text, trigger


def test_explain_act_now_account(act_now: dict[str, Any]) -> None:
    result = explain(act_now["account_id"])
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"{act_now['account_id']}  {act_now['account_name']}")
    assert f"as of {AS_OF}" in text
    assert "-> act_now; not blocked" in text
    assert f"Action: {act_now['action']['play']} " in text
    for section in (
        "Category scores:",
        "Gates (must pass):",
        "Red flags (must not fire):",
        "Triggers:",
        "What would change it:",
    ):
        assert f"\n{section}\n" in text or text.startswith(section)
    _shows_every_rule(text, act_now)
    # actual values next to the conditions
    assert re.search(r"\bhealth_score = \d", text)
    assert act_now["narrative"] in text


def test_explain_account_blocked_by_a_gate(blocked_by_gate: dict[str, Any]) -> None:
    d = blocked_by_gate
    failed = [g for g in d["gates"] if not g["passed"]]
    result = explain(d["account_id"])
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "; BLOCKED" in text
    assert f"Action: {d['action']['play']} " in text
    _shows_every_rule(text, d)
    # the blocking gate with its actual value and threshold
    blocking = next(g for g in failed if g["play"] == d["action"]["play"])
    gate_line = next(line for line in text.splitlines() if f"] {blocking['id']} (" in line)
    following = text.splitlines()[text.splitlines().index(gate_line) + 1]
    assert " = " in following
    changes = text.split("What would change it:\n", 1)[1]
    assert f"gate '{blocking['id']}' passes" in changes


def test_explain_account_blocked_by_a_red_flag(blocked_by_flag: dict[str, Any]) -> None:
    d = blocked_by_flag
    flag = next(f for f in d["red_flags"] if f["effect"] == "block")
    result = explain(d["account_id"])
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "; BLOCKED" in text
    assert f"[yes] {flag['id']} (block)" in text
    assert f"Blocked by {flag['id']}" in text
    changes = text.split("What would change it:\n", 1)[1]
    assert f"red flag '{flag['id']}'" in changes


def test_explain_json_parses_and_matches_dry_run(blocked_by_gate: dict[str, Any]) -> None:
    result = explain(blocked_by_gate["account_id"], "--format", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["decision"] == blocked_by_gate
    assert payload["next_steps"]
    kinds = {c["kind"] for c in payload["checks"]}
    assert {"tier", "gate", "red_flag", "trigger"} <= kinds
    gates = [c for c in payload["checks"] if c["kind"] == "gate"]
    assert [c["id"] for c in gates] == [g["id"] for g in blocked_by_gate["gates"]]
    assert [c["result"] for c in gates] == [g["passed"] for g in blocked_by_gate["gates"]]
    for check in payload["checks"]:
        for step in check["steps"]:
            assert {"test", "values", "result"} <= step.keys()


def test_explain_unknown_account_suggests_close_ids() -> None:
    ids = sample_ids(ACCOUNTS_CSV)
    typo = ids[0][:-1]  # e.g. ACC-100
    assert typo not in ids
    result = explain(typo)
    assert result.returncode == 2  # a wrong --account is a usage error
    assert result.stdout == ""
    assert f"account '{typo}' is not in {ACCOUNTS_CSV}" in result.stderr
    assert "did you mean" in result.stderr


def test_explain_suggests_the_id_one_typo_away() -> None:
    intended = sample_ids(ACCOUNTS_CSV)[0]
    if "0" not in intended:
        pytest.skip("sample ids have no zero to mistype")
    typo = intended.replace("0", "O", 1)
    result = explain(typo)
    assert result.returncode == 2
    suggestions = result.stderr.split("did you mean", 1)[1]
    assert intended in suggestions


def test_explain_account_with_a_bad_value_shows_the_value_left_out() -> None:
    # One bad cell costs one signal (docs/data.md): the account is still explained.
    bad = [row["account_id"] for _, row in csv_rows(BAD_CSV) if row["health_score"] == "abc"]
    result = run("explain", RULESET, "--data", BAD_CSV, "--account", bad[0], "--as-of", AS_OF)
    assert result.returncode == 0
    assert "health_score: 'abc' is not a number" in result.stderr
    assert "  health_score: 'abc' is not a number" in result.stdout
    assert "Missing signals: " in result.stdout and "health_score" in result.stdout
