"""Every example in --help works from an empty folder, as after ``pip install``:
bundled rulesets by name, bundled samples as samples/NAME."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[2]

EXAMPLE = re.compile(r"^\s+(upsell-rules \S.*)$", re.MULTILINE)


def _help_texts() -> dict[str, str]:
    runner = CliRunner()
    texts = {"": runner.invoke(cli, ["--help"], terminal_width=200).stdout}
    for name in COMMANDS:
        texts[name] = runner.invoke(cli, [name, "--help"], terminal_width=200).stdout
    return texts


def examples() -> list[str]:
    found: list[str] = []
    for text in _help_texts().values():
        for line in EXAMPLE.findall(text):
            # Usage lines and prose that merely mentions a command are not examples.
            if "[OPTIONS]" in line or "plugin fixtures" in line:
                continue
            found.append(line.strip())
    return found


def test_help_has_examples() -> None:
    found = examples()
    assert any(e.startswith("upsell-rules dry-run ") for e in found)
    assert any(e.startswith("upsell-rules validate ") for e in found)
    assert any(e.startswith("upsell-rules diff ") for e in found)


@pytest.mark.parametrize("example", examples())
def test_every_help_example_runs_in_an_empty_folder(example: str, tmp_path: Path) -> None:
    args = shlex.split(example)[1:]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "upsell_rules", *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{example}\n{done.stdout}\n{done.stderr}"


def test_a_local_file_wins_over_the_bundled_name(tmp_path: Path) -> None:
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "accounts.csv").write_text("account_id\nONLY-ONE\n", "utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-m", "upsell_rules", "dry-run", "upsell_timing", "--data",
         "samples/accounts.csv", "--as-of", "2026-11-02", "--format", "jsonl"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and "ONLY-ONE" in done.stdout
    assert "using the bundled ruleset upsell_timing" in done.stderr
    assert "bundled sample" not in done.stderr


def test_an_unknown_name_lists_the_bundled_rulesets(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "upsell_timng"])
    assert result.exit_code == 2
    assert "bundled rulesets, usable by name: expansion_triggers, upsell_timing" in result.output


def test_readme_paths_work_from_any_folder(tmp_path: Path) -> None:
    """The README's ``rulesets/...`` and ``samples/...`` paths, after ``pip install``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-m", "upsell_rules", "explain", "rulesets/upsell_timing.yaml",
         "--data", "samples/accounts.csv", "--as-of", "2026-11-02", "--account", "ACC-1012"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ACC-1012  Millbrook Veterinary")


def test_a_bare_name_means_this_folders_copy_after_init(tmp_path: Path) -> None:
    """In a repository made by ``init``, ``upsell_timing`` is the team's edited copy."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("UPSELL_RULES_QUIET_BUNDLED", None)
    (tmp_path / "rulesets").mkdir()
    edited = (ROOT / "rulesets" / "upsell_timing.yaml").read_text("utf-8").replace(
        "version: 1.0.0", "version: 1.0.1-acme", 1)
    (tmp_path / "rulesets" / "upsell_timing.yaml").write_text(edited, "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "upsell_rules", "explain", "upsell_timing", "--data",
         "samples/accounts.csv", "--account", "ACC-1001", "--as-of", "2026-11-02"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "ruleset upsell_timing 1.0.1-acme" in done.stdout
    assert "using rulesets/upsell_timing.yaml from this folder" in done.stderr
