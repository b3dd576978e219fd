"""Building the registry: load every selected plugin, then collect what it registers.

The process-wide registry (:func:`default_registry`) is built once, on first use, from
the installed plugins and the selection the command line or the environment made.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from upsell_rules.plugin import watchdog
from upsell_rules.plugin.collect import collect_all
from upsell_rules.plugin.loading import PluginLoader
from upsell_rules.plugin.registry import (
    BUILTIN_NAME,
    CORE_PLUGINS,
    ORIGIN_PASSED,
    PluginInfo,
    PluginSelection,
    Registry,
)

#: The registries being built, innermost last (the watchdog's view of the plugins).
_BUILDING: list[Registry] = []


def build_registry(
    extra_plugins: Iterable[ModuleType | object] = (),
    *,
    selection: PluginSelection | None = None,
) -> Registry:
    """Load the built-ins, the selected plugins, ``extra_plugins`` and every installed
    plugin; collect what their registration hooks provide.

    ``selection`` says which plugins to add or leave out (``-p``, ``--plugin``, the
    environment); without it every installed plugin loads and nothing else. Problems
    never raise: they are listed in ``problems`` and ``fatal``.
    """
    selection = selection or PluginSelection()
    registry = Registry()
    _BUILDING.append(registry)
    try:
        _build(registry, selection, extra_plugins)
    finally:
        _BUILDING.remove(registry)
    return registry


def _build(
    registry: Registry, selection: PluginSelection, extra_plugins: Iterable[object]
) -> None:
    loader = PluginLoader(registry, selection)
    for name in selection.disabled:
        if name in (BUILTIN_NAME, "builtin", *CORE_PLUGINS):
            registry.problems.append(
                f"the core plugins ({', '.join(CORE_PLUGINS)}) cannot be disabled "
                f"(-p no:{name} ignored)"
            )
            continue
        loader.pm.set_blocked(name)
        registry.disabled.append(name)
    loader.load_core()
    for request in selection.requests:
        loader.load_request(request)
    by_value = {entry.value: entry.name for entry in loader.entry_points}
    for index, plugin in enumerate(extra_plugins):
        name = getattr(plugin, "__name__", None) or f"extra-{index}"
        # An installed plugin passed in again (the test kit) keeps its entry-point name.
        name = by_value.get(name, name)
        info = PluginInfo(name, ORIGIN_PASSED, str(getattr(plugin, "__version__", "") or ""),
                          module=name)
        loader.register(plugin, name, info)
    loader.load_entry_points()
    loader.check_disabled()
    loader.check_hooks()
    collect_all(loader)


_DEFAULT: Registry | None = None
_SELECTION: PluginSelection | None = None


def configure_default_registry(selection: PluginSelection | None) -> None:
    """Set the plugins the process-wide registry adds or leaves out (the CLI calls this
    with ``-p`` / ``--plugin``); the registry is rebuilt on next use."""
    global _DEFAULT, _SELECTION
    if selection != _SELECTION:
        _SELECTION = selection
        _DEFAULT = None


def default_registry() -> Registry:
    """The registry of installed plugins plus the configured and environment selection,
    built once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = build_registry(selection=PluginSelection.from_env().merged(_SELECTION))
    return _DEFAULT


def current_registry() -> Registry | None:
    """The registry being built, else the process-wide one if built, else ``None``."""
    return _BUILDING[-1] if _BUILDING else _DEFAULT


def reset_default_registry() -> None:
    """Forget the cached registry and any configured selection (tests use this)."""
    global _DEFAULT, _SELECTION
    _DEFAULT = None
    _SELECTION = None


watchdog.set_registry_source(current_registry)

__all__ = [
    "build_registry",
    "configure_default_registry",
    "current_registry",
    "default_registry",
    "reset_default_registry",
]
