"""Plugin discovery, loading control, and the registry of what plugins provide.

Where plugins come from, in the order they are registered:

1. the core's own hooks (``CORE_PLUGINS``), always;
2. plugins asked for by name: ``-p MODULE`` (or an entry-point name), ``--plugin FILE``,
   and the ``UPSELL_RULES_PLUGINS`` environment variable (a comma-separated list);
3. plugins passed in by code (the test kit);
4. every entry point in the ``upsell_rules`` group. ``UPSELL_RULES_DISABLE_PLUGINS=all``
   turns this autoloading off for third-party packages (the plugins bundled with
   upsell-rules still load); ``-p no:NAME`` or ``UPSELL_RULES_DISABLE_PLUGINS=NAME,...``
   blocks one plugin by name, bundled ones included.

Each plugin is loaded and called on its own, and one rule holds for every way a plugin
can be broken at load time: it fails to import; its distribution requires another
upsell-rules version (``Requires-Dist``); it implements a hook that does not exist (a
misspelling, or a hook of a newer version) or with arguments the hook does not have; a
registration hook raises, hangs (``--plugin-timeout``), returns a value instead of
calling ``register``, or registers a wrong object (a ``dict``, a ``Source`` as an upsell
type, ``title=42``). The plugin is then *left out as a whole* (nothing it registered is
kept and none of its hooks run), reported as one located error naming it, and listed by
``upsell-rules plugins`` with why; the other plugins load. A ruleset that names the
plugin in ``plugins:`` stops with E150 saying why it failed.

Two plugins registering the same name is a *fatal* problem (which one wins would be an
accident of load order): the command stops naming both, and the operator chooses one
with ``-p no:NAME``.

Loading is :mod:`upsell_rules.plugin.loading`; locating a problem,
:mod:`upsell_rules.plugin.locating`; collecting what plugins register,
:mod:`upsell_rules.plugin.collect`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import pluggy

from upsell_rules.errors import PluginError
from upsell_rules.plugin.locating import FIRST_PARTY_DIST
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

if TYPE_CHECKING:  # annotations only: the ruleset layer sits above this one
    from upsell_rules.ruleset.model import Ruleset

ENTRY_POINT_GROUP = "upsell_rules"
#: The core's own plugins, registered first by module name (as pytest's
#: ``default_plugins``): the built-in engines and the built-in sinks. Every hook
#: implementation in them is ``trylast``, so a plugin registering the same name wins.
CORE_PLUGINS = ("upsell_rules.engine.engines", "upsell_rules.io.sinks")
#: The name the core plugins answer to in ``-p no:NAME`` (which they refuse).
BUILTIN_NAME = "core"
HOOK_PREFIX = "upsell_rules_"
ENV_PLUGINS = "UPSELL_RULES_PLUGINS"
ENV_DISABLE = "UPSELL_RULES_DISABLE_PLUGINS"

#: Origins shown by ``upsell-rules plugins``.
ORIGIN_CORE = "built in"
ORIGIN_BUNDLED = "entry point (bundled)"
ORIGIN_ENTRY_POINT = "entry point"
ORIGIN_PASSED = "passed in"

#: (hook, kind label, Registry attribute) for every registration hook, in call order.
REGISTRATION_HOOKS: tuple[tuple[str, str, str], ...] = (
    ("upsell_rules_fields", "field", "fields"),
    ("upsell_rules_sources", "source", "sources"),
    ("upsell_rules_derivations", "derivation", "derivations"),
    ("upsell_rules_functions", "function", "functions"),
    ("upsell_rules_upsell_types", "upsell type", "upsell_types"),
    ("upsell_rules_engines", "engine", "engines"),
    ("upsell_rules_sinks", "sink", "sinks"),
)


@dataclass(frozen=True)
class PluginRequest:
    """One plugin asked for by name: ``spec`` is a module path, an entry-point name or a
    file path; ``origin`` is how it was asked for (``-p``, ``--plugin``, or the
    environment variable)."""

    spec: str
    origin: str


@dataclass(frozen=True)
class PluginSelection:
    """Which plugins to load on top of the installed ones, and which to leave out."""

    requests: tuple[PluginRequest, ...] = ()
    disabled: tuple[str, ...] = ()
    #: Load third-party entry points (bundled ones always load unless disabled by name).
    autoload: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PluginSelection:
        """The selection the two environment variables describe."""
        env = os.environ if environ is None else environ
        requests: list[PluginRequest] = []
        disabled: list[str] = []
        for item in _comma_list(env.get(ENV_PLUGINS, "")):
            if item.startswith("no:"):
                disabled.append(item[3:])
            else:
                requests.append(PluginRequest(item, ENV_PLUGINS))
        autoload = True
        for item in _comma_list(env.get(ENV_DISABLE, "")):
            if item.lower() == "all":
                autoload = False
            else:
                disabled.append(item)
        return cls(tuple(requests), tuple(disabled), autoload)

    @classmethod
    def from_options(cls, plugins: Iterable[str], files: Iterable[str]) -> PluginSelection:
        """The selection ``-p NAME`` / ``-p no:NAME`` and ``--plugin FILE`` describe."""
        requests: list[PluginRequest] = []
        disabled: list[str] = []
        for item in plugins:
            if item.startswith("no:"):
                disabled.append(item[3:])
            else:
                requests.append(PluginRequest(item, "-p"))
        requests += [PluginRequest(path, "--plugin") for path in files]
        return cls(tuple(requests), tuple(disabled))

    def merged(self, other: PluginSelection | None) -> PluginSelection:
        """This selection plus ``other`` (both lists kept, autoload off if either is)."""
        if other is None:
            return self
        return PluginSelection(
            tuple(dict.fromkeys(self.requests + other.requests)),
            tuple(dict.fromkeys(self.disabled + other.disabled)),
            self.autoload and other.autoload,
        )


def _comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass
class PluginInfo:
    """One loaded plugin: where it came from, and what it implements and provides."""

    name: str
    origin: str
    version: str = ""
    distribution: str = ""
    module: str = ""
    path: str = ""
    hooks: list[str] = field(default_factory=list)
    provides: dict[str, list[str]] = field(default_factory=dict)
    overridden: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return dataclasses.asdict(self)


@dataclass
class Registry:
    """Everything the loaded plugins registered, and the problems met while loading.

    ``problems`` are warnings: the plugin named in each is left out (or partly out) and
    everything else works. ``fatal`` problems mean a plugin is broken in a way that
    would make results silently wrong; commands refuse to run while there are any.
    """

    fields: dict[str, FieldSpec] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    derivations: dict[str, Derivation] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    upsell_types: dict[str, UpsellType] = field(default_factory=dict)
    engines: dict[str, Engine] = field(default_factory=dict)
    sinks: dict[str, Sink] = field(default_factory=dict)
    providers: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Plugin name to a short description (distribution and version, or its origin).
    plugins: dict[str, str] = field(default_factory=dict)
    info: dict[str, PluginInfo] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    fatal: list[str] = field(default_factory=list)
    #: Plugins left out because they are broken: name -> (origin, why).
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Names blocked with ``-p no:NAME`` or the environment.
    disabled: list[str] = field(default_factory=list)
    #: The plugin whose code is running while the registry is built (for the watchdog).
    loading: str = ""
    manager: pluggy.PluginManager | None = None

    def provider(self, kind: str, name: str) -> str:
        """Which plugin registered ``name`` of ``kind`` (e.g. ``("derivation", "latest")``)."""
        return self.providers.get((kind, name), "?")

    def source_for(self, path: str) -> Source | None:
        """The first source that claims ``path`` without being named."""
        for source in self.sources.values():
            if source.matches(path):
                return source
        return None

    @property
    def hooks(self) -> LifecycleHooks:
        """Typed access to the lifecycle hooks."""
        return LifecycleHooks(self.manager)


class LifecycleHooks:
    """A typed wrapper over ``pm.hook`` for the hooks called around an evaluation.

    Each implementation is called on its own so that an exception names its plugin
    (:class:`~upsell_rules.errors.PluginError`).
    """

    def __init__(self, manager: pluggy.PluginManager | None) -> None:
        self._manager = manager

    def before_evaluation(self, ruleset: Ruleset, as_of: date) -> None:
        """Call every ``upsell_rules_before_evaluation``."""
        self._call("upsell_rules_before_evaluation", {"ruleset": ruleset, "as_of": as_of})

    def after_evaluation(self, ruleset: Ruleset, summary: Summary) -> None:
        """Call every ``upsell_rules_after_evaluation``."""
        self._call("upsell_rules_after_evaluation", {"ruleset": ruleset, "summary": summary})

    def _call(self, hook_name: str, kwargs: dict[str, Any]) -> None:
        if self._manager is None:
            return
        caller: pluggy.HookCaller = getattr(self._manager.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            try:
                impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as exc:
                raise PluginError(
                    f"plugin '{impl.plugin_name}' failed in {hook_name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc


__all__ = [
    "BUILTIN_NAME",
    "CORE_PLUGINS",
    "ENTRY_POINT_GROUP",
    "ENV_DISABLE",
    "ENV_PLUGINS",
    "FIRST_PARTY_DIST",
    "LifecycleHooks",
    "PluginInfo",
    "PluginRequest",
    "PluginSelection",
    "Registry",
]
