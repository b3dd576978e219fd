"""Where durable-rules cannot run, ``--engine durable`` says why in one line, everywhere.

durable-rules does not import on Python 3.13 (``undefined symbol: PyEval_CallObject``)
and is absent where its C extension could not be built. Both are simulated here in a
child process: a ``durable`` package that raises that ImportError, or none at all. Every
command that takes ``--engine`` then exits 2 with the reason and no traceback, the
other engines still decide, ``plugins`` says the engine cannot run, and ``--jobs`` with
an engine that runs in one process says it was not used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli import dry_run
from upsell_rules.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
AS_OF = ["--as-of", "2026-11-02"]
HISTORY = ["--snapshots", str(SAMPLES / "history" / "snapshots.csv"),
           "--outcomes", str(SAMPLES / "history" / "outcomes.csv")]

COMMANDS = {
    "dry-run": ["dry-run", "upsell_timing", "--data", str(SAMPLES / "accounts.csv"), *AS_OF],
    "explain": ["explain", "upsell_timing", "--data", str(SAMPLES / "accounts.csv"),
                "--account", "ACC-1001", *AS_OF],
    "test": ["test", str(ROOT / "rulesets" / "upsell_timing.tests.yaml")],
    "diff": ["diff", "upsell_timing", "--set", "constants.health_floor=70",
             "--data", str(SAMPLES / "accounts.csv"), *AS_OF],
    "backtest": ["backtest", "upsell_timing", *HISTORY],
}


def _hide_durable(tmp_path: Path, how: str) -> dict[str, str]:
    """Environment for a child in which durable-rules is broken (``how``) or absent."""
    site = tmp_path / how
    if how == "broken":
        for name in ("durable", "durable_rules_engine"):
            (site / name).mkdir(parents=True)
            (site / name / "__init__.py").write_text(
                'raise ImportError("rules.so: undefined symbol: PyEval_CallObject")\n'
            )
    else:
        site.mkdir()
        (site / "sitecustomize.py").write_text(
            "import sys\nsys.modules['durable'] = None\nsys.modules['durable_rules_engine'] = None\n"
        )
    return {**os.environ, "PYTHONPATH": str(site), "UPSELL_RULES_QUIET_BUNDLED": "1"}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "upsell_rules", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


REASONS = {
    "broken": "durable-rules is installed but does not import on this Python "
              "(rules.so: undefined symbol: PyEval_CallObject)",
    "absent": "durable-rules is not installed (pip install 'upsell-rules[durable]'",
}


@pytest.mark.parametrize("how", sorted(REASONS))
def test_every_engine_command_says_why_in_one_line(tmp_path: Path, how: str) -> None:
    env = _hide_durable(tmp_path, how)
    for name, args in COMMANDS.items():
        result = _run([*args, "--engine", "durable"], env)
        said = result.stdout + result.stderr
        assert result.returncode == 2, (name, said)
        assert "Traceback" not in said, (name, said)
        assert f"engine 'durable' cannot run here: {REASONS[how]}" in said, (name, said)
        assert sum(REASONS[how] in line for line in said.splitlines()) == 1, (name, said)


def test_the_other_engines_still_decide_and_plugins_says_why(tmp_path: Path) -> None:
    env = _hide_durable(tmp_path, "broken")
    outputs = set()
    for engine in ("python", "auto", "interpreter", "duckdb"):
        result = _run([*COMMANDS["dry-run"], "--engine", engine, "--format", "jsonl"], env)
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1
    listing = _run(["plugins"], env)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    at = lines.index("  engines:      durable")
    assert lines[at + 1].startswith("  cannot run:   durable: durable-rules is installed but")


def test_jobs_with_a_one_process_engine_says_it_was_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dry_run, "cpu_cores", lambda: 4)  # --jobs 2 kept on any machine
    args = [*COMMANDS["dry-run"], "--format", "jsonl"]
    one = CliRunner().invoke(cli, [*args, "--engine", "python"])
    many = CliRunner().invoke(cli, [*args, "--engine", "duckdb", "--jobs", "2"])
    assert many.exit_code == 0, many.output
    assert ("upsell-rules: note: engine duckdb decides in this process only (its state "
            "cannot be shared with worker processes); --jobs 2 was not used") in many.stderr
    assert many.stdout == one.stdout
    assert [json.loads(line)["account_id"] for line in many.stdout.splitlines()][:2] == [
        "ACC-1001", "ACC-1002",
    ]
    quiet = CliRunner().invoke(cli, [*args, "--engine", "python", "--jobs", "2"])
    assert "--jobs 2 was not used" not in quiet.stderr
