"""The hooks plugins implement: the reference for plugin authors.

A plugin is a module (or any object) with functions named after these hooks, marked with
:data:`hookimpl`. It is found through the ``upsell_rules`` entry-point group, or loaded
for one run with ``-p MODULE`` / ``--plugin FILE`` (see ``docs/plugins.md``).

Two kinds of hooks:

- **Registration hooks** (``upsell_rules_fields`` ... ``upsell_rules_sinks``) take a
  ``register`` callback; a plugin calls it once per object it provides. The core calls
  each plugin's implementation on its own, so it knows which plugin provided what,
  reports a name registered by two plugins as an error naming both, and reports a
  plugin that raises by name without losing the others. An implementation marked
  ``trylast`` provides *defaults*: another plugin may register the same name, and its
  version wins (every bundled plugin is marked that way).
- **Lifecycle hooks** (``upsell_rules_before_evaluation``,
  ``upsell_rules_after_evaluation``) are called around each evaluation run, every
  implementation in turn; their return values are ignored.

No hook is ``firstresult``: every implementation is called.

Hooks by the moment they are called:

1. **Loading plugins** (once per process, when the registry is built):
   :func:`upsell_rules_fields`, :func:`upsell_rules_sources`,
   :func:`upsell_rules_derivations`, :func:`upsell_rules_functions`,
   :func:`upsell_rules_upsell_types`, :func:`upsell_rules_engines`,
   :func:`upsell_rules_sinks`.
2. **Evaluating** (once per run over a set of accounts):
   :func:`upsell_rules_before_evaluation`, then every account, then
   :func:`upsell_rules_after_evaluation`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import pluggy

from upsell_rules.plugin.types import (
    Derivation,
    Engine,
    FieldSpec,
    Function,
    Sink,
    Source,
    Summary,
    UpsellType,
)

if TYPE_CHECKING:  # imported for the annotations only: evaluate imports this module
    from upsell_rules.ruleset.model import Ruleset

PROJECT = "upsell_rules"
#: Marks a hook specification (used only in this module).
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marks a plugin's hook implementation: ``@hookimpl`` or ``@hookimpl(trylast=True)``.
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- 1. Loading plugins: reading input ------------------------------------------------


@hookspec
def upsell_rules_fields(register: Callable[[FieldSpec], None]) -> None:
    """Declare input fields (the data contract) and their types.

    **When:** once, while the plugin registry is built, before any ruleset is loaded.

    **With:** ``register``, to be called with one :class:`FieldSpec` per field.

    **Effect:** the core coerces raw values (CSV text, JSON values) to these types, and
    ``validate`` warns (W201) when a ruleset declares the field with another type.

    **Returns:** nothing. Not ``firstresult``.
    """


@hookspec
def upsell_rules_sources(register: Callable[[Source], None]) -> None:
    """Provide signal sources: readers that turn a ``--data`` input into account records.

    **When:** once, while the registry is built.

    **With:** ``register``, to be called with one :class:`Source` per source.

    **Effect:** ``--data NAME:PATH`` uses the source called ``NAME``; a plain ``--data
    PATH`` uses the first source whose ``matches(PATH)`` is true. A source that declares
    ``options`` is configured by the ruleset's ``sources.<name>`` section. Names must be
    unique across plugins.

    **Returns:** nothing. Not ``firstresult``.
    """


# --- 1. Loading plugins: building signals ---------------------------------------------


@hookspec
def upsell_rules_derivations(register: Callable[[Derivation], None]) -> None:
    """Provide derivations: functions that compute a signal from other signals.

    **When:** once, while the registry is built.

    **With:** ``register``, to be called with one :class:`Derivation` per derivation.

    **Effect:** a ruleset uses one with ``derive: NAME`` (and ``params:``) on a declared
    signal; the value is computed once per account, before any condition. Names must be
    unique across plugins.

    **Returns:** nothing. Not ``firstresult``.
    """


@hookspec
def upsell_rules_functions(register: Callable[[Function], None]) -> None:
    """Provide functions that conditions may call, e.g. ``count_within(dates, 14) >= 2``.

    **When:** once, while the registry is built.

    **With:** ``register``, to be called with one :class:`Function` per function.

    **Effect:** ``validate`` checks every call's arguments against the function's
    declared types; a call to a name no plugin registered is an error with a
    did-you-mean. A call with any missing argument is missing (the function is not
    called), like every other missing value. Names must be unique across plugins.

    **Returns:** nothing. Not ``firstresult``.
    """


# --- 1. Loading plugins: deciding and acting ----------------------------------------


@hookspec
def upsell_rules_upsell_types(register: Callable[[UpsellType], None]) -> None:
    """Provide upsell types (seat, plan, add-on, ...) that triggers can be bound to.

    **When:** once, while the registry is built.

    **With:** ``register``, to be called with one :class:`UpsellType` per type.

    **Effect:** ``validate`` reports a trigger naming a type no plugin registered
    (E130). The type's ``frame`` and ``describe`` feed the action and the evidence.

    **Returns:** nothing. Not ``firstresult``.
    """


@hookspec
def upsell_rules_engines(register: Callable[[Engine], None]) -> None:
    """Provide engines that evaluate a ruleset's conditions.

    **When:** once, while the registry is built.

    **With:** ``register``, to be called with one :class:`Engine` per engine.

    **Effect:** ``--engine NAME`` picks one. The core registers ``python`` (compiled, the
    default) and ``interpreter`` (the reference) through this same hook.

    **Returns:** nothing. Not ``firstresult``.
    """


@hookspec
def upsell_rules_sinks(register: Callable[[Sink], None]) -> None:
    """Provide action sinks: places ``upsell-rules run`` delivers decisions to.

    **When:** once, while the registry is built.

    **With:** ``register``, to be called with one :class:`Sink` per sink.

    **Effect:** ``run --sink NAME[:TARGET]`` or a ruleset's ``sinks:`` entry with
    ``type: NAME`` delivers through it; ``dry-run`` never does. The core registers
    ``stdout`` and ``file``. Names must be unique across plugins.

    **Returns:** nothing. Not ``firstresult``.
    """


# --- 2. Evaluating -------------------------------------------------------------------


@hookspec
def upsell_rules_before_evaluation(ruleset: Ruleset, as_of: date) -> None:
    """Called before the first account of a run is decided.

    **When:** once per evaluation run (``dry-run``, ``run``, and any caller of
    ``Evaluator.evaluate``), after the ruleset is loaded and the engine prepared.

    **With:** the loaded ``ruleset`` (:class:`~upsell_rules.ruleset.model.Ruleset`) and the
    evaluation date ``as_of``.

    **Effect:** none required; use it to open connections, warm caches or log the run.
    An exception stops the run with an error naming the plugin.

    **Returns:** nothing (return values are ignored). Not ``firstresult``.
    """


@hookspec
def upsell_rules_after_evaluation(ruleset: Ruleset, summary: Summary) -> None:
    """Called after the last account of a run is decided.

    **When:** once per evaluation run, when every account has been read and decided
    (not when the run was interrupted by an error).

    **With:** the ``ruleset`` and the run's ``summary``
    (:class:`~upsell_rules.engine.evaluate.Summary`: records read, decided, failed, and the
    count per band).

    **Effect:** none required; use it to emit metrics or close what the before-hook
    opened. An exception is reported as an error naming the plugin.

    **Returns:** nothing (return values are ignored). Not ``firstresult``.
    """
