"""The core names no bundled plugin: which sources' files workers may cut into byte
ranges, and which engines may be forked, is what each plugin declares."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from upsell_rules.engine import parallel
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.io.records import AccountReader
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Source
from upsell_rules.workflow.plugin_kit import load_ruleset_text, make_registry, minimal_ruleset

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "upsell_rules"


def _lines_source(byte_ranges: Any) -> ModuleType:
    module = ModuleType(f"lines_{byte_ranges or 'none'}")
    bundled = make_registry().sources["jsonl"]

    @hookimpl
    def upsell_rules_sources(register: Any) -> None:
        register(dataclasses.replace(bundled, name="ndjson_feed",
                                     matches=lambda p: p.endswith(".feed"),
                                     byte_ranges=byte_ranges))

    module.upsell_rules_sources = upsell_rules_sources  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize(("declared", "cut"), [("lines", True), ("", False)])
def test_a_third_party_source_declares_byte_ranges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: str, cut: bool
) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    data = tmp_path / "accounts.feed"
    data.write_text("".join(f'{{"account_id": "A-{i}", "usage": {i}}}\n' for i in range(50)),
                    encoding="utf-8")
    registry = make_registry(_lines_source(declared))
    reader = AccountReader(registry, {"usage": "number"})
    plan = parallel.plan_ranges(reader, [str(data)], jobs=2)
    assert (plan is not None) is cut


def test_an_engine_that_is_not_parallel_safe_runs_in_one_process() -> None:
    registry = make_registry()
    rules = load_ruleset_text(minimal_ruleset(signals={"usage": {"type": "number"}},
                                              when="usage > 1"), registry)
    python = Evaluator(rules, registry, "python")
    assert parallel.parallel_allowed(python, 2) is parallel.can_fork()
    pinned = dataclasses.replace(registry.engines["python"], parallel_safe=False)
    assert parallel.parallel_allowed(Evaluator(rules, registry, pinned), 2) is False


def test_the_bundled_plugins_declare_their_capabilities() -> None:
    registry = make_registry()
    assert registry.sources["csv"].byte_ranges == "csv"
    assert registry.sources["jsonl"].byte_ranges == "lines"
    assert registry.sources["json"].byte_ranges == ""
    if "durable" in registry.engines:
        assert registry.engines["durable"].parallel_safe is False


def test_the_core_names_no_bundled_plugin() -> None:
    bundled = ("durable", "'files'", '"files"', "upsell_rules_files", "upsell_rules_durable")
    for path in [*sorted((CORE / "engine").glob("*.py")), CORE / "cli" / "dry_run.py"]:
        code = re.sub(r'""".*?"""', "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
        code = "\n".join(line.split("#", 1)[0] for line in code.splitlines())
        for name in bundled:
            assert name not in code, f"{path.relative_to(ROOT)} names {name}"


def test_a_source_object_is_still_built_without_the_new_field() -> None:
    source = Source("x", "y", lambda p: False, lambda p: iter(()))
    assert source.byte_ranges == ""
