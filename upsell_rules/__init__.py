"""upsell-rules: decide *when* to start an upsell conversation with a B2B SaaS account.

This module is the public face of the package: import what you need from here, as a
library user or a plugin author; the modules behind it (``upsell_rules.plugin``,
``.ruleset``, ``.engine``, ``.io``...) may move between releases.

A library user loads a ruleset, reads accounts and decides them::

    from datetime import date
    import upsell_rules as ur

    registry = ur.default_registry()
    ruleset = ur.load_ruleset("rulesets/upsell_timing.yaml", registry)
    evaluator = ur.Evaluator(ruleset, registry)
    reader = ur.AccountReader(registry, ruleset.input_types())
    for decision in ur.decide_all(evaluator, reader.read("samples/accounts.csv"),
                                  date(2026, 11, 2)):
        ...

A plugin author implements hooks marked with :data:`hookimpl` and registers the types
below (:class:`Source`, :class:`Derivation`, :class:`UpsellType`, :class:`Sink`, ...);
the hooks are documented in :mod:`upsell_rules.plugin.hookspecs`.

Names are imported on first use, so ``import upsell_rules`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # errors
    "Diagnostic": "upsell_rules.errors",
    "Location": "upsell_rules.errors",
    "PluginError": "upsell_rules.errors",
    "RecordError": "upsell_rules.errors",
    "RulesetError": "upsell_rules.errors",
    "UpsellRulesError": "upsell_rules.errors",
    # the plugin contract
    "hookimpl": "upsell_rules.plugin.hookspecs",
    "DeliveryReport": "upsell_rules.plugin.types",
    "DeliveryResult": "upsell_rules.plugin.types",
    "Derivation": "upsell_rules.plugin.types",
    "Engine": "upsell_rules.plugin.types",
    "FieldSpec": "upsell_rules.plugin.types",
    "Function": "upsell_rules.plugin.types",
    "ParamSpec": "upsell_rules.plugin.types",
    "RawRecord": "upsell_rules.plugin.types",
    "Sink": "upsell_rules.plugin.types",
    "SinkContext": "upsell_rules.plugin.types",
    "Source": "upsell_rules.plugin.types",
    "SourceContext": "upsell_rules.plugin.types",
    "Summary": "upsell_rules.plugin.types",
    "UpsellType": "upsell_rules.plugin.types",
    "PluginSelection": "upsell_rules.plugin.registry",
    "Registry": "upsell_rules.plugin.registry",
    "build_registry": "upsell_rules.plugin.build",
    "default_registry": "upsell_rules.plugin.build",
    # rulesets
    "Ruleset": "upsell_rules.ruleset.model",
    "check_ruleset": "upsell_rules.ruleset.loader",
    "load_ruleset": "upsell_rules.ruleset.loader",
    # accounts in
    "Account": "upsell_rules.io.records",
    "AccountReader": "upsell_rules.io.records",
    # deciding
    "Evaluator": "upsell_rules.engine.evaluate",
    "decide_all": "upsell_rules.engine.stream",
    "evaluate_inputs": "upsell_rules.engine.stream",
    "explain": "upsell_rules.engine.explain",
}

__all__ = [
    "Account",
    "AccountReader",
    "DeliveryReport",
    "DeliveryResult",
    "Derivation",
    "Diagnostic",
    "Engine",
    "Evaluator",
    "FieldSpec",
    "Function",
    "Location",
    "ParamSpec",
    "PluginError",
    "PluginSelection",
    "RawRecord",
    "RecordError",
    "Registry",
    "Ruleset",
    "RulesetError",
    "Sink",
    "SinkContext",
    "Source",
    "SourceContext",
    "Summary",
    "UpsellRulesError",
    "UpsellType",
    "__version__",
    "build_registry",
    "check_ruleset",
    "decide_all",
    "default_registry",
    "evaluate_inputs",
    "explain",
    "hookimpl",
    "load_ruleset",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'upsell_rules' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # the same names, for type checkers and editors
    from upsell_rules.engine.evaluate import Evaluator
    from upsell_rules.engine.explain import explain
    from upsell_rules.engine.stream import decide_all, evaluate_inputs
    from upsell_rules.errors import (
        Diagnostic,
        Location,
        PluginError,
        RecordError,
        RulesetError,
        UpsellRulesError,
    )
    from upsell_rules.io.records import Account, AccountReader
    from upsell_rules.plugin.build import build_registry, default_registry
    from upsell_rules.plugin.hookspecs import hookimpl
    from upsell_rules.plugin.registry import PluginSelection, Registry
    from upsell_rules.plugin.types import (
        DeliveryReport,
        DeliveryResult,
        Derivation,
        Engine,
        FieldSpec,
        Function,
        ParamSpec,
        RawRecord,
        Sink,
        SinkContext,
        Source,
        SourceContext,
        Summary,
        UpsellType,
    )
    from upsell_rules.ruleset.loader import check_ruleset, load_ruleset
    from upsell_rules.ruleset.model import Ruleset
