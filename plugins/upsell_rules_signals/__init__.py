"""The bundled derived signals (latest values, utilization, runs, date windows, growth,
projections and lifecycle stage) and expression functions (``count_within``, ...).

Registered through the ``upsell_rules`` entry point like any third-party plugin. See
:mod:`upsell_rules_signals.derivations` for the shared conventions (missing inputs give
``None``; a single value counts as a one-element list).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation, Function

from .derivations import DERIVATIONS
from .functions import FUNCTIONS
from .readings import READINGS

__all__ = [
    "DERIVATIONS", "FUNCTIONS", "READINGS", "upsell_rules_derivations", "upsell_rules_functions"
]


@hookimpl(trylast=True)
def upsell_rules_derivations(register: Callable[[Derivation], None]) -> None:
    """Register every bundled derivation."""
    for derivation in (*DERIVATIONS, *READINGS):
        register(dataclasses.replace(derivation, sql=_derivation_sql(derivation.name)))


@hookimpl(trylast=True)
def upsell_rules_functions(register: Callable[[Function], None]) -> None:
    """Register every bundled expression function."""
    for function in FUNCTIONS:
        register(dataclasses.replace(function, sql=_function_sql(function.name)))


# The SQL forms import SQLGlot, which every command would otherwise pay for at start-up:
# they load on the first compile.


def _derivation_sql(name: str) -> Callable[[Mapping[str, Any], Any], Any]:
    def sql(params: Mapping[str, Any], scope: Any) -> Any:
        from .sql_forms import DERIVATION_SQL

        return DERIVATION_SQL[name](params, scope)

    return sql


def _function_sql(name: str) -> Callable[[Sequence[Any], Any], Any]:
    def sql(args: Sequence[Any], scope: Any) -> Any:
        from .sql_forms import FUNCTION_SQL

        return FUNCTION_SQL[name](args, scope)

    return sql
