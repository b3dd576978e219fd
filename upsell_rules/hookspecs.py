"""The hooks plugins implement: the reference for plugin authors.

Every hook takes a ``register`` callback; a plugin calls it once per object it provides.
The core calls each plugin's implementation separately, so the registry knows which
plugin provided what, duplicate names are reported naming both plugins, and a plugin
that raises is reported by name without hiding the others.

Hooks are grouped by when they are called:

1. **Reading input**: :func:`upsell_rules_fields`, :func:`upsell_rules_sources`.
2. **Building signals**: :func:`upsell_rules_derivations`.
3. **Deciding**: :func:`upsell_rules_upsell_types`, :func:`upsell_rules_engines`.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from upsell_rules.engines import Engine
from upsell_rules.extensions import Derivation, FieldSpec, Source, UpsellType

PROJECT = "upsell_rules"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- 1. Reading input -------------------------------------------------------------


@hookspec
def upsell_rules_fields(register: Callable[[FieldSpec], None]) -> None:
    """Declare input fields and their types.

    Called once when the plugin registry is built, before any ruleset is loaded.
    ``register(FieldSpec(...))`` once per field. The core uses these types to coerce raw
    values (CSV text, JSON values) and to warn when a ruleset declares a field with a
    different type. Returns nothing.
    """


@hookspec
def upsell_rules_sources(register: Callable[[Source], None]) -> None:
    """Provide signal sources that read account records from files.

    Called once when the registry is built. ``register(Source(...))`` once per source;
    the first source whose ``matches(path)`` is true reads a ``--data`` path. Names must
    be unique across plugins. Returns nothing.
    """


# --- 2. Building signals -----------------------------------------------------------


@hookspec
def upsell_rules_derivations(register: Callable[[Derivation], None]) -> None:
    """Provide derivations: functions that compute a signal from other signals.

    Called once when the registry is built. ``register(Derivation(...))`` once per
    derivation; a ruleset uses one with ``derive: NAME`` on a declared signal, and may
    pass ``params:``. Names must be unique across plugins. Returns nothing.
    """


# --- 3. Deciding --------------------------------------------------------------------


@hookspec
def upsell_rules_upsell_types(register: Callable[[UpsellType], None]) -> None:
    """Provide upsell types (seat, plan, add-on, ...) that triggers can be bound to.

    Called once when the registry is built. ``register(UpsellType(...))`` once per type.
    ``validate`` reports a trigger naming a type no plugin registered. Returns nothing.
    """


@hookspec
def upsell_rules_engines(register: Callable[[Engine], None]) -> None:
    """Provide engines that evaluate a ruleset's conditions.

    Called once when the registry is built. ``register(Engine(...))`` once per engine;
    ``--engine NAME`` picks one. The core registers ``python`` (compiled, the default)
    and ``interpreter`` (the reference) through this same hook. Returns nothing.
    """
