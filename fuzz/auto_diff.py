"""The default engine against ``--engine python`` on large files with one oddity each.

Runs the real CLI (``upsell-rules dry-run``) once per engine on each case of
``fuzz/auto_cases.py`` written into a file large enough for ``--engine auto`` to take
the columnar path, and compares stdout bytes, stderr (the summary line's engine name
aside) and the exit status. Slow (seconds per run); not part of the test suite, whose
small counterpart is ``tests/engine/test_auto_differential.py``::

    python fuzz/auto_diff.py --rows 14000 --format jsonl [--only NAME] [-- OPTIONS...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fuzz"))

from auto_cases import CSV_CASES, JSONL_CASES  # noqa: E402

from upsell_rules.io.synthetic import generate_accounts  # noqa: E402

ENGINES = ["python", "auto"]
_ENGINE = re.compile(r"; engine (\w+)")


def run(args: list[str], cwd: str) -> tuple[int, bytes, str, str]:
    """Exit status, stdout, stderr without the engine name, and the engine named."""
    done = subprocess.run([sys.executable, "-m", "upsell_rules", *args], cwd=cwd,
                          capture_output=True, timeout=600, check=False)
    err = done.stderr.decode("utf-8", "replace")
    found = _ENGINE.search(err)
    return done.returncode, done.stdout, _ENGINE.sub("", err), found.group(1) if found else "-"


def compare(data: str, ruleset: str, options: list[str], cwd: str,
            output: bool = False) -> str:
    """One verdict line: the engines auto and duckdb ran, and any difference."""
    base = ["dry-run", str(ROOT / "rulesets" / f"{ruleset}.yaml"), "--data", data,
            "--as-of", "2026-11-02", "--format", "jsonl", *options]
    results = {}
    for engine in ENGINES:
        args = list(base)
        if engine != "auto":
            args += ["--engine", engine]
        target = ""
        if output:
            target = os.path.join(cwd, f"out-{engine}.jsonl")
            args += ["--output", target]
        rc, out, err, named = run(args, cwd)
        if output:
            out = Path(target).read_bytes() if Path(target).exists() else b"<none>"
        results[engine] = (rc, out, err.replace(f"out-{engine}", "out-E"), named)
    ref = results["python"]
    notes = []
    for engine in ENGINES[1:]:
        got = results[engine]
        diffs = [what for what, a, b in (("rc", ref[0], got[0]), ("stdout", ref[1], got[1]),
                                         ("stderr", ref[2], got[2])) if a != b]
        if diffs:
            notes.append(f"{engine}: DIFF {','.join(diffs)}")
            if "stderr" in diffs:
                notes.append(f"  python stderr: {ref[2][-600:]!r}\n  {engine} stderr: "
                             f"{got[2][-600:]!r}")
    verdict = "same" if not notes else "\n    ".join(notes)
    ran = " ".join(f"{e}={results[e][3]}" for e in ENGINES[1:])
    return f"rc={ref[0]} {ran} {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=14000)
    parser.add_argument("--row", type=int, default=9000, help="the odd row (0-based)")
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--ruleset", action="append", default=[])
    parser.add_argument("--output", action="store_true", help="compare --output files")
    parser.add_argument("--duckdb", action="store_true", help="also --engine duckdb")
    parser.add_argument("--shard", default="0/1", help="I/N: every Nth case from the Ith")
    parser.add_argument("options", nargs="*")
    ns = parser.parse_args()
    if ns.duckdb:
        ENGINES.append("duckdb")
    shard, shards = (int(x) for x in ns.shard.split("/"))
    records = list(generate_accounts(ns.rows, 7, date(2026, 11, 2)))
    cases = JSONL_CASES if ns.format == "jsonl" else CSV_CASES
    rulesets = ns.ruleset or ["upsell_timing", "expansion_triggers"]
    with tempfile.TemporaryDirectory(prefix="auto-diff-") as cwd:
        for index, (name, fmt, make) in enumerate(cases):
            if index % shards != shard:
                continue
            if ns.only and name not in ns.only:
                continue
            path = os.path.join(cwd, f"{name}.{fmt}")
            Path(path).write_bytes(make(records, ns.row))
            for ruleset in rulesets:
                verdict = compare(path, ruleset, ns.options, cwd, ns.output)
                print(f"{fmt} {name} {ruleset}: {verdict}", flush=True)
            os.unlink(path)


if __name__ == "__main__":
    main()
