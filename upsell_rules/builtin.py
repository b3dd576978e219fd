"""The core's own hook implementations, registered like any plugin (and last)."""

from __future__ import annotations

from collections.abc import Callable

from upsell_rules.engines import INTERPRETER_ENGINE, PYTHON_ENGINE, Engine
from upsell_rules.hookspecs import hookimpl


@hookimpl(trylast=True)
def upsell_rules_engines(register: Callable[[Engine], None]) -> None:
    """Register the compiled Python engine and the reference interpreter."""
    register(PYTHON_ENGINE)
    register(INTERPRETER_ENGINE)
