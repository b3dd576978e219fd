"""The bundled derived signals (latest values, utilization, runs, date windows, growth,
projections and lifecycle stage) and expression functions (``count_within``, ...).

Registered through the ``upsell_rules`` entry point like any third-party plugin. See
:mod:`upsell_rules_signals.derivations` for the shared conventions (missing inputs give
``None``; a single value counts as a one-element list).
"""

from __future__ import annotations

from collections.abc import Callable

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
        register(derivation)


@hookimpl(trylast=True)
def upsell_rules_functions(register: Callable[[Function], None]) -> None:
    """Register every bundled expression function."""
    for function in FUNCTIONS:
        register(function)
