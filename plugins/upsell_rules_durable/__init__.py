"""The durable-rules engine: a ruleset's conditions run as durable-rules rulesets.

Registered through the ``upsell_rules`` entry point like any third-party plugin, as the
engine ``durable``. durable-rules is an optional dependency (``pip install
'upsell-rules[durable]'``): it compiles a C extension at install time and does not import
on Python 3.13 or later. Where it cannot run, the engine says why in one line and every
other engine still works.

See :mod:`upsell_rules_durable.translate` for how conditions map onto durable's
condition language and what is precomputed in Python, and
:mod:`upsell_rules_durable.runner` for how accounts are matched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from upsell_rules.engine.engines import Engine, Predicate
from upsell_rules.expr.nodes import Node
from upsell_rules.plugin.hookspecs import hookimpl

__all__ = ["DURABLE_ENGINE", "available", "prepare", "upsell_rules_engines"]


def available() -> str | None:
    """``None`` when durable-rules imports here, else why not (one line)."""
    try:
        import durable.engine  # noqa: F401
        import durable_rules_engine  # noqa: F401
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError):
            return (
                "durable-rules is not installed (pip install 'upsell-rules[durable]'; "
                "it builds a C extension and supports Python 3.12 and earlier)"
            )
        detail = " ".join(str(exc).split())
        return f"durable-rules is installed but does not import on this Python ({detail})"
    return None


def prepare(conditions: Sequence[Node], types: Mapping[str, str]) -> Predicate:
    """Build the durable rulesets for ``conditions``; return the per-account predicate."""
    from .runner import DurablePredicate

    return DurablePredicate(conditions, types)


DURABLE_ENGINE = Engine(
    name="durable",
    description=(
        "durable-rules (Rete, C extension): each condition a durable rule, each account a "
        "fact; far slower than python (docs/performance.md), a cross-check and a peer."
    ),
    prepare=prepare,
    available=available,
    # Its C extension's sessions must not be copied into forked workers.
    parallel_safe=False,
)


@hookimpl
def upsell_rules_engines(register: Callable[[Engine], None]) -> None:
    """Register the ``durable`` engine."""
    register(DURABLE_ENGINE)
