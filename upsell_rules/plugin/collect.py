"""Calling the registration hooks and keeping what the plugins that behaved registered.

Each implementation is called on its own, in pluggy's order (tryfirst, normal, trylast),
with a ``register`` callback that checks every object (:mod:`upsell_rules.plugin.checks`)
and *stages* it. A plugin with any problem (a hook raised half-way or hung, returned a
value instead of calling ``register``, registered a wrong object) is then left out as a
whole; the staged objects of the others are kept in call order, where a name registered
twice is fatal unless a core default (``trylast``) loses to a plugin's own version.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pluggy

from upsell_rules.errors import PluginTimeout
from upsell_rules.plugin.checks import check_registered
from upsell_rules.plugin.loading import PluginLoader
from upsell_rules.plugin.locating import (
    code_location,
    exception_location,
    failure_text,
    located,
    source_dir,
)
from upsell_rules.plugin.registry import ENV_DISABLE, REGISTRATION_HOOKS, Registry
from upsell_rules.plugin.types import Function
from upsell_rules.plugin.watchdog import alive


@dataclass
class _Staged:
    """One object a registration hook handed to ``register``, before it is kept."""

    kind: str
    attribute: str
    item: Any
    plugin: str
    default: bool


def _call_registration_hooks(
    loader: PluginLoader, staged: list[_Staged], broken: dict[str, str]
) -> None:
    """Call every registration hook implementation, each on its own, in pluggy's order
    (tryfirst, normal, trylast); stage what each registers and note each plugin that
    misbehaves (the first problem per plugin) in ``broken``."""
    for hook_name, kind, attribute in REGISTRATION_HOOKS:
        hook: pluggy.HookCaller = getattr(loader.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            plugin_name = impl.plugin_name
            here = code_location(impl.function)

            def register(
                item: Any, _plugin: str = plugin_name, _default: bool = bool(impl.trylast),
                _kind: str = kind, _attribute: str = attribute, _here: str = here,
            ) -> None:
                problem = check_registered(_kind, item)
                if problem is not None:
                    broken.setdefault(_plugin, located(_here, f"plugin '{_plugin}' {problem}"))
                    return
                staged.append(_Staged(_kind, _attribute, item, _plugin, _default))

            loader.registry.loading = plugin_name
            alive()
            try:
                returned = impl.function(*(register for _ in impl.argnames))
            except Exception as exc:
                broken.setdefault(plugin_name, located(
                    exception_location(exc, source_dir(impl.function)),
                    f"plugin '{plugin_name}' failed in {hook_name}: {failure_text(exc)}",
                ))
                continue
            except PluginTimeout as exc:
                broken.setdefault(plugin_name, located(
                    here, f"plugin '{plugin_name}' hung in {hook_name}: {exc}"
                ))
                continue
            finally:
                loader.registry.loading = ""
            if returned is not None:
                broken.setdefault(plugin_name, located(
                    here,
                    f"plugin '{plugin_name}' returned {_short(returned)} from {hook_name} "
                    f"instead of registering it: call register(...) for each {kind} "
                    "(a hook's return value is not used)",
                ))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


def _commit(registry: Registry, staged: list[_Staged]) -> None:
    """Keep the staged objects in order; a name registered twice is fatal, unless a
    core default (``trylast``) loses to a plugin's own version."""
    defaults: set[tuple[str, str]] = set()
    for entry in staged:
        kind, name, plugin = entry.kind, entry.item.name, entry.plugin
        target: dict[str, Any] = getattr(registry, entry.attribute)
        item = entry.item
        if name in target:
            other = registry.providers[(kind, name)]
            if entry.default and (kind, name) not in defaults:
                # A default (trylast) loses to a plugin's own version, quietly.
                info = registry.info.get(plugin)
                if info is not None:
                    info.overridden.append(f"{kind} '{name}' (overridden by plugin '{other}')")
                continue
            if other == plugin:
                registry.fatal.append(f"plugin '{plugin}' registered {kind} '{name}' twice")
                continue
            registry.fatal.append(
                f"{kind} '{name}' is registered by two plugins, '{other}' and '{plugin}'; "
                f"choose one: leave the other out with -p no:{plugin} or -p no:{other} "
                f"(or {ENV_DISABLE}=NAME)"
            )
            continue
        if isinstance(item, Function):
            item = dataclasses.replace(item, plugin=plugin)
        target[name] = item
        registry.providers[(kind, name)] = plugin
        if entry.default:
            defaults.add((kind, name))
        info = registry.info.get(plugin)
        if info is not None:
            info.provides.setdefault(kind, []).append(name)


def collect_all(loader: PluginLoader) -> None:
    """Call the registration hooks and keep what the plugins that behaved registered.

    A plugin with any problem (a hook raised half-way, returned a value, registered a
    wrong object) is left out as a whole: nothing it registered is kept, and its other
    hooks do not run either.
    """
    staged: list[_Staged] = []
    broken: dict[str, str] = {}
    _call_registration_hooks(loader, staged, broken)
    for plugin, message in broken.items():
        info = loader.registry.info.get(plugin)
        loader.leave_out(plugin, info.origin if info is not None else "?", message)
    _commit(loader.registry, [entry for entry in staged if entry.plugin not in broken])


__all__ = ["collect_all"]
