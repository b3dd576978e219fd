"""The core's own hook implementations, registered like any plugin (and last).

Every implementation here is ``trylast``: it provides a default that a plugin may
replace by registering the same name.
"""

from __future__ import annotations

from collections.abc import Callable

from upsell_rules.engines import INTERPRETER_ENGINE, PYTHON_ENGINE, Engine
from upsell_rules.extensions import Sink
from upsell_rules.hookspecs import hookimpl
from upsell_rules.sinks import FILE_SINK, STDOUT_SINK


@hookimpl(trylast=True)
def upsell_rules_engines(register: Callable[[Engine], None]) -> None:
    """Register the compiled Python engine and the reference interpreter."""
    register(PYTHON_ENGINE)
    register(INTERPRETER_ENGINE)


@hookimpl(trylast=True)
def upsell_rules_sinks(register: Callable[[Sink], None]) -> None:
    """Register the ``stdout`` and ``file`` sinks."""
    register(STDOUT_SINK)
    register(FILE_SINK)
