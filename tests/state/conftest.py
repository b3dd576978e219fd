"""Fixtures for the state store tests: the CLI in-process, rulesets with a memory: section,
and the session's PostgreSQL server (the plugin platform's fixture, reused)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from upsell_rules.cli.main import cli
from upsell_rules.plugin.build import reset_default_registry

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
SAMPLE = ROOT / "samples" / "accounts.csv"


def invoke(*args: str) -> Result:
    """Run the real CLI in this process; stdout and stderr apart."""
    reset_default_registry()
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines file (empty when the file is empty)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line]


@pytest.fixture
def make_ruleset(tmp_path: Path) -> Callable[..., Path]:
    """A copy of the bundled ruleset, optionally with the act-now floor moved and a
    memory: section appended."""

    def make(name: str = "rules.yaml", act_now_min: int | None = None,
             memory: str = "") -> Path:
        text = RULESET.read_text()
        if act_now_min is not None:
            marker = "  - id: act_now\n    title: Act now\n    min: 70\n"
            assert marker in text
            text = text.replace(marker, marker.replace("min: 70", f"min: {act_now_min}"))
            warming = "  - id: warming\n    title: Warming\n    min: 50\n    max: 70\n"
            assert warming in text
            text = text.replace(warming, warming.replace("max: 70", f"max: {act_now_min}"))
        if memory:
            text += "\nmemory:\n" + memory
        path = tmp_path / name
        path.write_text(text)
        return path

    return make


def decisions_of(ruleset: Path, as_of: str) -> list[dict[str, Any]]:
    """What dry-run decides for the sample accounts (the reference for a run)."""
    result = invoke("dry-run", ruleset, "--data", SAMPLE, "--as-of", as_of, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]
