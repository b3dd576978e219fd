"""Issue 12, item 2: a template cannot be a CPU or memory bomb.

At most ``MAX_PLACEHOLDERS`` placeholders per template (a located E140 at validate), at
most ``MAX_RENDERED`` characters rendered (that account's record fails, the others are
decided), and the worst case stays inside the budget docs/security.md states (about
1 s and 50 MB).
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upsell_rules.ruleset.templates import (
    MAX_PLACEHOLDERS,
    MAX_RENDERED,
    MAX_RULESET_PLACEHOLDERS,
    RenderLimitError,
    TemplateError,
    parse_template,
)

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
AS_OF = "2026-11-02"

# Runs a command in a child and prints its wall time and peak memory (ru_maxrss, KB).
MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(proc.returncode, round(took, 3), peak)
sys.stdout.write(proc.stdout)
sys.stderr.write(proc.stderr)
"""


def measured(*args: str) -> tuple[int, float, int, str, str]:
    """(exit code, seconds, peak KB, stdout, stderr) of ``upsell-rules ARGS``."""
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, sys.executable, "-m", "upsell_rules", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    head, _, out = proc.stdout.partition("\n")
    code, took, peak = head.split()
    return int(code), float(took), int(peak), out, proc.stderr


def with_message(tmp_path: Path, message: str, extra: str = "") -> Path:
    """The default ruleset with its first play's message replaced."""
    text = RULESET.read_text(encoding="utf-8")
    text = re.sub(r"(upsell_outreach:\n(?:.*\n)*?    message: )>-\n(?:      .*\n)+",
                  lambda m: m.group(1) + json.dumps(message) + "\n", text, count=1)
    if extra:
        text = text.replace("constants:\n", "constants:\n" + extra, 1)
    path = tmp_path / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_placeholder_bomb_is_a_located_finding_within_budget(tmp_path: Path) -> None:
    # The reviewer's 990 KB ruleset: 230 s and 6.1 GB to validate before the limit.
    ruleset = with_message(tmp_path, "{account_id}" * 80_000)
    assert ruleset.stat().st_size > 950_000
    code, took, peak_kb, out, _ = measured("validate", str(ruleset))
    assert code == 1
    finding = next(line for line in out.splitlines() if "E140" in line)
    assert "longer than 65,536 characters" in finding
    assert re.match(rf"{re.escape(str(ruleset))}:\d+:\d+: E140 plays\.upsell_outreach\.message",
                    finding)
    # The budget of docs/security.md, with room for a busy shared machine.
    assert took < 5.0, took
    assert peak_kb < 120_000, peak_kb


def test_many_templates_together_are_bounded_too(tmp_path: Path) -> None:
    # 1,200 plays of 100 placeholders each (980 KB) took about 20 s to compile before.
    plays = "".join(
        f"  bomb_{i}:\n    title: t\n    window: w\n    message: \"{'{score}' * 100}\"\n"
        for i in range(1_200)
    )
    text = RULESET.read_text(encoding="utf-8").replace("plays:\n", "plays:\n" + plays, 1)
    ruleset = tmp_path / "many.yaml"
    ruleset.write_text(text, encoding="utf-8")
    code, took, peak_kb, out, _ = measured("validate", str(ruleset))
    assert peak_kb < 120_000, peak_kb
    findings = [line for line in out.splitlines() if "E140" in line]
    assert code == 1 and len(findings) == 1
    assert f"more than {MAX_RULESET_PLACEHOLDERS:,} placeholders in the ruleset" in findings[0]
    assert took < 5.0, took
    code, took, _, _, err = measured("dry-run", str(ruleset), "--data", "samples/accounts.csv",
                                     "--as-of", AS_OF)
    assert code == 2 and "E140" in err and took < 5.0


def test_a_long_constant_repeated_is_refused_at_validate(tmp_path: Path) -> None:
    ruleset = with_message(tmp_path, "{big} " * 10, extra=f"  big: {'x' * 20_000}\n")
    code, _, _, out, _ = measured("validate", str(ruleset))
    assert code == 1
    assert "renders to 200,010 characters with the constants alone" in out


def test_a_long_value_fails_only_its_record(tmp_path: Path) -> None:
    text = RULESET.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^    window: .*$", '    window: "{account_name} {account_name}"', text)
    ruleset = tmp_path / "windows.yaml"
    ruleset.write_text(text, encoding="utf-8")
    with open(ROOT / "samples" / "accounts.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # ACC-1001's play (seat_expansion) writes its own window; twice 40,000 is above MAX_RENDERED
    rows[0]["account_name"] = "N" * 40_000
    data = tmp_path / "acc.csv"
    with open(data, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, took, peak_kb, out, err = measured(
        "dry-run", str(ruleset), "--data", str(data), "--as-of", AS_OF, "--format", "jsonl")
    assert code == 1, err
    decided = [json.loads(line)["account_id"] for line in out.splitlines()]
    assert decided == [r["account_id"] for i, r in enumerate(rows) if i != 0]
    assert f"{data}:2: a message template rendered to more than 65,536 characters" in err
    assert f"read {len(rows)}, decided {len(rows) - 1}, failed 1" in err
    assert took < 10.0 and peak_kb < 150_000, (took, peak_kb)


def test_worst_case_render_is_bounded() -> None:
    # Every placeholder the limit allows, each with a value just under the limit: the
    # render stops after at most MAX_PLACEHOLDERS * MAX_RENDERED characters.
    template = parse_template("{v}" * MAX_PLACEHOLDERS)
    value = "y" * (MAX_RENDERED - 1)
    start = time.perf_counter()
    with pytest.raises(RenderLimitError):
        template.render({"v": value})
    with pytest.raises(RenderLimitError):
        template.render_reference({"v": value})
    # Milliseconds when it stops early; the bound only catches a render that builds the
    # whole 6.5 MB string first (and runs away), not a busy machine.
    assert time.perf_counter() - start < 10.0
    with pytest.raises(RenderLimitError):
        template.render({"v": "z" * (MAX_RENDERED + 1)})


def test_too_many_placeholders_is_located_at_the_first_one_over() -> None:
    with pytest.raises(TemplateError) as info:
        parse_template("{a}" * (MAX_PLACEHOLDERS + 5))
    assert info.value.offset == 3 * MAX_PLACEHOLDERS
    parse_template("{a}" * MAX_PLACEHOLDERS)  # the limit itself is fine


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["{a}", "[{b} ]", "x", " ", "{c:list}"]), max_size=30),
       st.integers(0, 3 * MAX_RENDERED // 30))
def test_compiled_and_reference_agree_on_the_limit(pieces: list[str], size: int) -> None:
    template = parse_template("".join(pieces))
    values = {"a": "a" * size, "b": "b" * size, "c": ["c" * size] * 2}
    try:
        expected: str | None = template.render_reference(values)
    except RenderLimitError:
        expected = None
    try:
        got: str | None = template.render(values)
    except RenderLimitError:
        got = None
    assert got == expected
    assert got is None or len(got) <= MAX_RENDERED
