"""The hook examples in docs/plugins.md import only what the docs say a plugin needs,
and each one loads as a plugin with no problem."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from upsell_rules.plugin.build import build_registry
from upsell_rules.plugin.registry import PluginRequest, PluginSelection

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8").split(
    "## Hook reference", 1
)[1].split("\n## ", 1)[0]
EXAMPLES = re.findall(r"### `(upsell_rules_\w+)`.*?```python\n(.*?)```", REFERENCE, re.DOTALL)
#: What a plugin imports; an engine may also wrap a built-in engine.
ALLOWED = {"upsell_rules.plugin.hookspecs", "upsell_rules.plugin.types"}
ENGINE_EXTRA = {"upsell_rules.engine.engines"}


def test_every_hook_has_an_example() -> None:
    assert len(EXAMPLES) >= 9


@pytest.mark.parametrize(("hook", "code"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_the_example_imports_only_the_documented_modules(hook: str, code: str) -> None:
    modules = set(re.findall(r"^from (upsell_rules[\w.]*) import", code, re.MULTILINE))
    modules |= set(re.findall(r"^import (upsell_rules[\w.]*)", code, re.MULTILINE))
    allowed = ALLOWED | (ENGINE_EXTRA if hook == "upsell_rules_engines" else set())
    assert modules <= allowed, modules - allowed


@pytest.mark.parametrize(("hook", "code"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_the_example_loads_as_a_plugin(hook: str, code: str, tmp_path: Path) -> None:
    path = tmp_path / f"docs_{hook}.py"
    path.write_text(code, encoding="utf-8")
    registry = build_registry(
        selection=PluginSelection((PluginRequest(str(path), "--plugin"),))
    )
    assert registry.problems == [] and registry.fatal == [], registry.problems
    assert f"docs_{hook}" in registry.info
    assert hook in registry.info[f"docs_{hook}"].hooks


@pytest.mark.parametrize(("hook", "code"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_the_example_runs_as_written(hook: str, code: str, tmp_path: Path) -> None:
    """No name the example uses is left for the reader to define (``enqueue``, ...)."""
    path = tmp_path / f"docs_{hook}.py"
    path.write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select", "F821",
         "--output-format", "concise", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout
