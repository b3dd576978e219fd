"""Meta-tests: every hook is documented, tested, and keeps the parameters it was released
with. Adding a hook means adding its docs section, its test and its recorded signature."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from upsell_rules.plugin import hookspecs

from . import test_hooks

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOCS = ROOT / "docs" / "plugins.md"
RECORDED = HERE / "hookspec_signatures.txt"


def all_hookspecs() -> dict[str, Callable[..., Any]]:
    return {
        name: function
        for name, function in vars(hookspecs).items()
        if callable(function) and hasattr(function, f"{hookspecs.PROJECT}_spec")
    }


HOOKS = sorted(all_hookspecs())


def describe(name: str, function: Callable[..., Any]) -> str:
    opts = getattr(function, f"{hookspecs.PROJECT}_spec")
    return (f"{name}{inspect.signature(function)} firstresult={opts.get('firstresult', False)} "
            f"historic={opts.get('historic', False)}")


def docs_section(name: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(rf"^### `{name}`\n(.*?)(?=^#{{1,3}} |\Z)", text, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 9


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_docs_section_with_a_worked_example(name: str) -> None:
    section = docs_section(name)
    assert section, f"docs/plugins.md has no '### `{name}`' section"
    assert "```python" in section, f"the docs section of {name} has no Python example"
    assert "@hookimpl" in section, f"the example for {name} does not implement the hook"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test(name: str) -> None:
    tests = [n for n in vars(test_hooks) if n.startswith(f"test_hook_{name}")]
    assert tests, f"tests/plugin/test_hooks.py has no test_hook_{name}"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_docstring_says_when_with_and_returns(name: str) -> None:
    doc = inspect.getdoc(all_hookspecs()[name]) or ""
    for part in ("**When:**", "**With:**", "**Returns:**", "firstresult"):
        assert part in doc, f"{name}'s docstring lacks {part}"


def test_hook_signatures_match_the_recorded_list() -> None:
    recorded = [line for line in RECORDED.read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#")]
    current = [describe(name, all_hookspecs()[name]) for name in HOOKS]
    assert current == recorded, (
        "a hook was added, removed or changed its parameters: update "
        "tests/plugin/hookspec_signatures.txt on purpose, with a CHANGELOG entry"
    )


def test_the_module_docstring_lists_every_hook() -> None:
    doc = hookspecs.__doc__ or ""
    for name in HOOKS:
        assert f":func:`{name}`" in doc, name


def test_docs_document_no_hook_that_does_not_exist() -> None:
    documented = re.findall(r"^### `(upsell_rules_\w+)`", DOCS.read_text(encoding="utf-8"),
                            re.MULTILINE)
    assert sorted(documented) == HOOKS
