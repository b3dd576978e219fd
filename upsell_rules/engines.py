"""The engine interface and the two built-in engines.

An engine decides which conditions of a compiled ruleset hold for an account. Everything
else (scores, bands, gates, plays, narratives) is assembled by the core from those
outcomes, so every engine yields the same decision records for the same outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from upsell_rules.expr.codegen import compile_predicate
from upsell_rules.expr.interpret import holds
from upsell_rules.expr.nodes import Node

#: A prepared engine: the account's signals in, one outcome per condition out.
Predicate = Callable[[Mapping[str, Any]], tuple[bool, ...]]


@dataclass(frozen=True)
class Engine:
    """A named way to evaluate a list of checked conditions.

    ``prepare(conditions, types)`` is called once per ruleset load and returns the
    per-account predicate. ``available()`` returns ``None`` when the engine can run here,
    or a one-line reason why it cannot.
    """

    name: str
    description: str
    prepare: Callable[[Sequence[Node], Mapping[str, str]], Predicate]
    available: Callable[[], str | None] = lambda: None


def _prepare_interpreter(conditions: Sequence[Node], types: Mapping[str, str]) -> Predicate:
    nodes = tuple(conditions)

    def predicate(signals: Mapping[str, Any]) -> tuple[bool, ...]:
        return tuple(holds(node, signals) for node in nodes)

    return predicate


PYTHON_ENGINE = Engine(
    name="python",
    description="Conditions compiled to one Python function per ruleset (the default).",
    prepare=compile_predicate,
)

INTERPRETER_ENGINE = Engine(
    name="interpreter",
    description="Tree-walking reference interpreter; slow, used to cross-check engines.",
    prepare=_prepare_interpreter,
)
