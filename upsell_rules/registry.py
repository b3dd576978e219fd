"""Plugin discovery and the registry of what plugins provide.

Plugins are found through the ``upsell_rules`` entry-point group (first-party plugins in
``plugins/`` are registered exactly that way). Each plugin is loaded and called on its
own, so one that fails to import or raises in a hook is reported by name and the others
still load.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from upsell_rules import builtin, hookspecs
from upsell_rules.engines import Engine
from upsell_rules.extensions import Derivation, FieldSpec, Source, UpsellType

ENTRY_POINT_GROUP = "upsell_rules"
BUILTIN_NAME = "upsell_rules.builtin"

T = TypeVar("T")


@dataclass
class Provided:
    """Named extensions of one kind, with the plugin that provided each."""

    items: dict[str, Any] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)


@dataclass
class Registry:
    """Everything the loaded plugins registered, and the problems met while loading."""

    fields: dict[str, FieldSpec] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    derivations: dict[str, Derivation] = field(default_factory=dict)
    upsell_types: dict[str, UpsellType] = field(default_factory=dict)
    engines: dict[str, Engine] = field(default_factory=dict)
    providers: dict[tuple[str, str], str] = field(default_factory=dict)
    plugins: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def provider(self, kind: str, name: str) -> str:
        """Which plugin registered ``name`` of ``kind`` (e.g. ``("derivation", "latest")``)."""
        return self.providers.get((kind, name), "?")

    def source_for(self, path: str) -> Source | None:
        """The first source that reads ``path``."""
        for source in self.sources.values():
            if source.matches(path):
                return source
        return None


def _load_entry_points(pm: pluggy.PluginManager, problems: list[str]) -> dict[str, str]:
    loaded: dict[str, str] = {}
    entry_points = sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
    )
    for entry in entry_points:
        if pm.has_plugin(entry.name) or pm.is_blocked(entry.name):
            continue
        try:
            plugin = entry.load()
        except Exception as exc:  # a broken plugin must not take the others down
            problems.append(
                f"plugin '{entry.name}' ({entry.value}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            )
            continue
        pm.register(plugin, name=entry.name)
        dist = entry.dist
        loaded[entry.name] = f"{dist.name} {dist.version}" if dist else entry.value
    return loaded


def _collect(
    pm: pluggy.PluginManager,
    hook_name: str,
    kind: str,
    target: dict[str, T],
    registry: Registry,
) -> None:
    hook = getattr(pm.hook, hook_name)
    # Call each implementation on its own: we know who registered what, and a plugin
    # that raises is reported without losing the others. pluggy lists tryfirst last.
    for impl in reversed(hook.get_hookimpls()):
        plugin_name = impl.plugin_name

        def register(item: T, _plugin: str = plugin_name) -> None:
            name = getattr(item, "name", None)
            if not isinstance(name, str) or not name:
                registry.problems.append(f"plugin '{_plugin}' registered a {kind} without a name")
                return
            if name in target:
                other = registry.providers[(kind, name)]
                if _plugin == BUILTIN_NAME:
                    return  # built-ins are called last: a plugin's own version wins
                registry.problems.append(
                    f"{kind} '{name}' is registered twice: by plugin '{other}' and by "
                    f"plugin '{_plugin}'"
                )
                return
            target[name] = item
            registry.providers[(kind, name)] = _plugin

        try:
            impl.function(register=register)
        except Exception as exc:
            registry.problems.append(
                f"plugin '{plugin_name}' failed in {hook_name}: {type(exc).__name__}: {exc}"
            )


def build_registry(extra_plugins: Iterable[ModuleType | object] = ()) -> Registry:
    """Load the built-ins, every installed plugin and ``extra_plugins``; collect their hooks."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    registry = Registry()
    pm.register(builtin, name=BUILTIN_NAME)
    registry.plugins[BUILTIN_NAME] = "built in"
    for index, plugin in enumerate(extra_plugins):
        name = getattr(plugin, "__name__", None) or f"extra-{index}"
        pm.register(plugin, name=name)
        registry.plugins[name] = "passed in"
    registry.plugins.update(_load_entry_points(pm, registry.problems))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        registry.problems.append(f"plugin '{getattr(exc, 'plugin', '?')}': {exc}")
    hooks: list[tuple[str, str, dict[str, Any]]] = [
        ("upsell_rules_fields", "field", registry.fields),
        ("upsell_rules_sources", "source", registry.sources),
        ("upsell_rules_derivations", "derivation", registry.derivations),
        ("upsell_rules_upsell_types", "upsell type", registry.upsell_types),
        ("upsell_rules_engines", "engine", registry.engines),
    ]
    for hook_name, kind, target in hooks:
        _collect(pm, hook_name, kind, target, registry)
    return registry


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """The registry of installed plugins, built once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = build_registry()
    return _DEFAULT


def reset_default_registry() -> None:
    """Forget the cached registry (tests that install plugins use this)."""
    global _DEFAULT
    _DEFAULT = None

