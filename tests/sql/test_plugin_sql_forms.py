"""Every bundled derivation and function has a SQL form; one without is named."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import load_ruleset
from upsell_rules.sql import NotCompilable, compilable, compile_ruleset

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = default_registry()


def test_every_bundled_derivation_and_function_has_a_sql_form() -> None:
    bundled = {"signals"}
    derivations = [n for n in REGISTRY.derivations
                   if REGISTRY.provider("derivation", n) in bundled]
    functions = [f for f in REGISTRY.functions.values() if f.plugin in bundled]
    assert len(derivations) >= 20 and len(functions) >= 5
    assert [n for n in derivations if REGISTRY.derivations[n].sql is None] == []
    assert [f.name for f in functions if f.sql is None] == []


def test_a_function_without_a_sql_form_is_named_with_its_rule(tmp_path: Path) -> None:
    rules = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"), REGISTRY)
    assert compilable(rules, REGISTRY) is None
    original = REGISTRY.functions["days_since"]
    REGISTRY.functions["days_since"] = dataclasses.replace(original, sql=None)
    try:
        text = (ROOT / "rulesets" / "upsell_timing.yaml").read_text().replace(
            "when: new_departments >= 1", "when: days_since(renewal_date) > 0", 1)
        path = tmp_path / "calls.yaml"
        path.write_text(text)
        called = load_ruleset(str(path), REGISTRY)
        with pytest.raises(NotCompilable) as caught:
            compile_ruleset(called, REGISTRY, dialect="duckdb", as_of=date(2026, 11, 2))
        assert str(caught.value).startswith(
            "function 'days_since' (plugin 'signals') has no SQL form (in ")
        assert compilable(called, REGISTRY) == str(caught.value)
    finally:
        REGISTRY.functions["days_since"] = original
