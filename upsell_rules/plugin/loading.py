"""Loading plugins into one pluggy manager, each on its own: the core's, the ones asked
for (``-p``, ``--plugin``, the environment), the ones passed in, and the entry points.
A plugin that cannot load is left out as a whole and reported as one located line
(see :mod:`upsell_rules.plugin.registry` for the rules)."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys

import pluggy

from upsell_rules import __version__
from upsell_rules.errors import did_you_mean
from upsell_rules.plugin import hookspecs
from upsell_rules.plugin.checks import requirement_problem
from upsell_rules.plugin.locating import (
    FIRST_PARTY_DIST,
    code_location,
    display_path,
    distribution,
    distribution_of,
    exception_location,
    failure_text,
    is_first_party,
    located,
    package_dir,
    validation_message,
)
from upsell_rules.plugin.registry import (
    CORE_PLUGINS,
    ENTRY_POINT_GROUP,
    HOOK_PREFIX,
    ORIGIN_BUNDLED,
    ORIGIN_CORE,
    ORIGIN_ENTRY_POINT,
    PluginInfo,
    PluginRequest,
    PluginSelection,
    Registry,
)
from upsell_rules.plugin.watchdog import LOADING, alive


class PluginManager(pluggy.PluginManager):
    """A plugin manager that also treats unmarked ``upsell_rules_*`` functions as hook
    implementations (as pytest does with ``pytest_*``), so a misspelled hook name is
    caught even when the ``@hookimpl`` marker was forgotten."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(HOOK_PREFIX):
            method = getattr(plugin, name, None)
            if inspect.isfunction(method):
                return {
                    "wrapper": False,
                    "hookwrapper": False,
                    "optionalhook": False,
                    "tryfirst": False,
                    "trylast": False,
                    "specname": None,
                }
        return opts


class PluginLoader:
    """Loads plugins into one manager and records what happened in one registry."""

    def __init__(self, registry: Registry, selection: PluginSelection) -> None:
        self.registry = registry
        self.selection = selection
        self.pm = PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        registry.manager = self.pm
        self.entry_points = sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
        )

    # registration of one plugin object

    def register(
        self, plugin: object, name: str, info: PluginInfo, *, near: str = ""
    ) -> bool:
        registry = self.registry
        if self.pm.is_registered(plugin):
            return False  # the same module asked for twice (e.g. -p and its entry point)
        if self.pm.has_plugin(name):
            registry.problems.append(
                f"plugin '{name}' ({info.origin}): another plugin is already registered "
                "under this name; not loaded"
            )
            return False
        alive()
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            self.leave_out(name, info.origin, validation_message(exc, name, plugin))
            return False
        except Exception as exc:
            location = exception_location(exc, near)
            self.leave_out(name, info.origin, located(
                location, f"plugin '{name}' could not be registered: {failure_text(exc)}"
            ))
            return False
        requirement = (None if info.distribution == FIRST_PARTY_DIST
                       else requirement_problem(info.distribution, FIRST_PARTY_DIST, __version__))
        if requirement is not None:
            self.pm.unregister(plugin)
            self.leave_out(name, info.origin, f"plugin '{name}' is built for another "
                                              f"version: {requirement}")
            return False
        info.hooks = sorted(
            caller.name for caller in (self.pm.get_hookcallers(plugin) or [])
        )
        registry.info[name] = info
        registry.plugins[name] = (
            f"{info.distribution} {info.version}".strip() if info.distribution else info.origin
        )
        return True

    def import_failed(self, name: str, what: str, exc: BaseException, near: str) -> None:
        location = exception_location(exc, near)
        self.leave_out(name, what, located(
            location, f"plugin '{name}' ({what}) failed to load: {failure_text(exc)}"
        ))

    def leave_out(self, name: str, origin: str, message: str) -> None:
        """Record that plugin ``name`` is left out, and why (one located line)."""
        registry = self.registry
        registry.problems.append(message)
        registry.failed.setdefault(name, (origin, message))
        registry.info.pop(name, None)
        registry.plugins.pop(name, None)
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)

    # the kinds of plugins

    def load_core(self) -> None:
        for module_name in CORE_PLUGINS:
            module = importlib.import_module(module_name)
            info = PluginInfo(
                module_name, ORIGIN_CORE, __version__, FIRST_PARTY_DIST, module_name,
                display_path(module.__file__ or ""),
            )
            self.register(module, module_name, info)

    def load_request(self, request: PluginRequest) -> None:
        spec = request.spec
        if request.origin == "--plugin" or spec.endswith(".py"):
            self.load_file(spec, request.origin)
            return
        if self.pm.is_blocked(spec):
            return
        for entry in self.entry_points:
            if entry.name == spec:
                self.load_entry_point(entry, request.origin)
                return
        self.load_module(spec, request.origin)

    def load_module(self, module_name: str, origin: str) -> None:
        near = package_dir(module_name)
        LOADING[module_name] = module_name
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # a broken plugin must not take the others down
            self.import_failed(module_name, f"{origin} {module_name}", exc, near)
            return
        distribution, version = distribution_of(module)
        info = PluginInfo(
            module_name, origin, version, distribution, module_name,
            display_path(getattr(module, "__file__", "") or ""),
        )
        self.register(module, module_name, info, near=near)

    def load_file(self, path: str, origin: str) -> None:
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem == "__init__":  # a package's file: the package is the plugin
            stem = os.path.basename(os.path.dirname(os.path.abspath(path)))
        name = re.sub(r"\W", "_", stem)
        if self.pm.is_blocked(name):
            return
        if not os.path.isfile(path):
            self.registry.problems.append(
                f"{path}: plugin file not found ({origin} {path})"
            )
            return
        module_name = f"upsell_rules_local_plugins.{name}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            self.registry.problems.append(f"{path}: not a Python file ({origin} {path})")
            return
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        near = os.path.dirname(os.path.abspath(path))
        LOADING[module_name] = name
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(module_name, None)
            self.import_failed(name, f"{origin} {path}", exc, os.path.abspath(path))
            return
        info = PluginInfo(
            name, f"{origin} {path}", str(getattr(module, "__version__", "") or ""), "",
            module_name, display_path(path),
        )
        self.register(module, name, info, near=near)

    def load_entry_point(self, entry: importlib.metadata.EntryPoint, origin: str) -> None:
        if self.pm.has_plugin(entry.name) or self.pm.is_blocked(entry.name):
            return
        near = package_dir(entry.value)
        LOADING[entry.module] = entry.name
        try:
            plugin = entry.load()
        except Exception as exc:
            self.import_failed(entry.name, f"entry point {entry.value}", exc, near)
            return
        if self.pm.is_registered(plugin):
            # Already loaded under another name (-p MODULE): answer to both names.
            other = self.pm.get_name(plugin)
            if other is not None:
                self.registry.plugins.setdefault(entry.name, self.registry.plugins.get(other, ""))
            return
        dist_name, dist_version = distribution(entry)
        info = PluginInfo(
            entry.name,
            origin,
            dist_version,
            dist_name,
            entry.value,
            display_path(getattr(plugin, "__file__", "") or ""),
        )
        self.register(plugin, entry.name, info, near=near)

    def load_entry_points(self) -> None:
        for entry in self.entry_points:
            first_party = is_first_party(entry)
            if not first_party and not self.selection.autoload:
                continue
            self.load_entry_point(entry, ORIGIN_BUNDLED if first_party else ORIGIN_ENTRY_POINT)

    # after loading

    def check_hooks(self) -> None:
        """Every implemented hook must exist: a misspelling is one located, fatal error."""
        registry = self.registry
        spec_names = [name for name in dir(hookspecs) if name.startswith(HOOK_PREFIX)]
        unknown: list[tuple[str, str]] = []
        for name, caller in sorted(vars(self.pm.hook).items()):
            if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if impl.optionalhook:
                    continue
                unknown.append((impl.plugin_name, located(
                    code_location(impl.function),
                    f"plugin '{impl.plugin_name}' implements unknown hook "
                    f"'{name}'{did_you_mean(name, spec_names)} (a misspelling, or a hook "
                    "of another upsell-rules version); the plugin is left out",
                )))
        for plugin_name, message in unknown:
            info = registry.info.get(plugin_name)
            origin = info.origin if info is not None else "?"
            if plugin_name in registry.failed:
                registry.problems.append(message)
            else:
                self.leave_out(plugin_name, origin, message)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            culprit = getattr(exc, "plugin", None)
            label = self.pm.get_name(culprit) if culprit is not None else None
            registry.fatal.append(f"plugin '{label or '?'}': {exc}")

    def check_disabled(self) -> None:
        known = {e.name for e in self.entry_points} | set(self.registry.info)
        for name in self.selection.disabled:
            if name not in known:
                self.registry.problems.append(
                    f"cannot disable plugin '{name}' (-p no:{name}): no plugin has that "
                    f"name{did_you_mean(name, known)}"
                )
