"""The two built-in engines, registered as a core plugin (``CORE_PLUGINS`` in the registry).

An engine decides which conditions of a compiled ruleset hold for an account. Everything
else (scores, bands, gates, plays, narratives) is assembled by the core from those
outcomes, so every engine yields the same decision records for the same outcomes.
"""

from __future__ import annotations

from collections.abc import Callable

from upsell_rules.expr.codegen import compile_predicate
from upsell_rules.expr.interpret import interpreted_predicate
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Engine, Predicate

__all__ = ["INTERPRETER_ENGINE", "PYTHON_ENGINE", "Engine", "Predicate"]

PYTHON_ENGINE = Engine(
    name="python",
    description="Conditions compiled to one Python function per ruleset (the default).",
    prepare=compile_predicate,
)

INTERPRETER_ENGINE = Engine(
    name="interpreter",
    description="Tree-walking reference interpreter; slow, used to cross-check engines.",
    prepare=lambda conditions, _types: interpreted_predicate(conditions),
)


@hookimpl(trylast=True)
def upsell_rules_engines(register: Callable[[Engine], None]) -> None:
    """Register the compiled Python engine, the reference interpreter and DuckDB."""
    register(PYTHON_ENGINE)
    register(INTERPRETER_ENGINE)
    from upsell_rules.engine.duck import DUCKDB_ENGINE

    register(DUCKDB_ENGINE)
