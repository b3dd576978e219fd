"""Helpers shared by the workflow tests: run the real CLI, copy the project's files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-02"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m upsell_rules ARGS`` in ``cwd``, everything captured."""
    return subprocess.run(
        [sys.executable, "-m", "upsell_rules", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=300,
    )


def copy_project(tmp: Path) -> Path:
    """Copy rulesets/ and samples/ into ``tmp`` (same layout) and return ``tmp``."""
    shutil.copytree(ROOT / "rulesets", tmp / "rulesets")
    shutil.copytree(ROOT / "samples", tmp / "samples")
    return tmp


def edit(path: Path, old: str, new: str) -> None:
    """Replace exactly one occurrence of ``old`` in a file."""
    text = path.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), "utf-8")


def decisions(ruleset: str, cwd: Path, *extra: str) -> dict[str, dict[str, Any]]:
    """Decision records of a dry-run on the sample CSV, by account id."""
    result = run("dry-run", ruleset, "--data", "samples/accounts.csv", "--as-of", AS_OF,
                 "--format", "json", *extra, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return {d["account_id"]: d for d in json.loads(result.stdout)}


def case_line(test_file: Path, name: str) -> int:
    """The line (from 1) of ``- name: NAME`` in a test file, found by reading the text."""
    for number, line in enumerate(test_file.read_text("utf-8").splitlines(), 1):
        if line.strip() == f"- name: {name}":
            return number
    raise AssertionError(f"no case named {name!r} in {test_file}")
