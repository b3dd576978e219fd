"""Plugin discovery, loading control, and the registry of what plugins provide.

Where plugins come from, in the order they are registered:

1. the core's own hooks (:mod:`upsell_rules.builtin`), always;
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
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from upsell_rules import __version__
from upsell_rules.errors import PluginError
from upsell_rules.plugin import hookspecs
from upsell_rules.plugin.checks import requirement_problem
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
from upsell_rules.plugin.watchdog import LOADING, alive

if TYPE_CHECKING:  # annotations only: the ruleset layer sits above this one
    from upsell_rules.ruleset.model import Ruleset

ENTRY_POINT_GROUP = "upsell_rules"
#: The core's own plugins, registered first by module name (as pytest's
#: ``default_plugins``): the built-in engines and the built-in sinks. Every hook
#: implementation in them is ``trylast``, so a plugin registering the same name wins.
CORE_PLUGINS = ("upsell_rules.engine.engines", "upsell_rules.io.sinks")
#: The name the core plugins answer to in ``-p no:NAME`` (which they refuse).
BUILTIN_NAME = "core"
#: The distribution whose entry points are the bundled plugins.
FIRST_PARTY_DIST = "upsell-rules"
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



def failure_text(exc: BaseException) -> str:
    """``TypeError: message`` (the class name alone when the message is empty)."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


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


class _Manager(pluggy.PluginManager):
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


# --- locating problems ----------------------------------------------------------------


def _display_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def _code_location(obj: Any) -> str:
    """``file:line`` of a function or module, or empty when unknown."""
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        return ""
    if not source:
        return ""
    line = 1
    code = getattr(obj, "__code__", None)
    if code is not None:
        line = code.co_firstlineno
    return f"{_display_path(source)}:{line}"


def _source_dir(obj: Any) -> str:
    """The folder of the file an object was defined in, or empty."""
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        return ""
    return os.path.dirname(os.path.abspath(source)) if source else ""


def _exception_location(exc: BaseException, near: str = "") -> str:
    """Where an exception was raised: the innermost frame in the plugin's own files
    (below ``near``) when there is one, else the innermost frame outside importlib."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{_display_path(exc.filename)}:{exc.lineno or 1}"
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<") and "importlib" not in frame.filename
    ]
    if near:
        own = [f for f in frames if os.path.abspath(f.filename).startswith(near)]
        frames = own or frames
    if not frames:
        return ""
    return f"{_display_path(frames[-1].filename)}:{frames[-1].lineno}"


def _located(location: str, message: str) -> str:
    return f"{location}: {message}" if location else message


def _package_dir(module_name: str) -> str:
    """The folder holding a module's files (its package folder), or empty."""
    try:
        spec = importlib.util.find_spec(module_name.split(":")[0].split(".")[0])
    except (ImportError, ValueError):
        return ""
    if spec is None or not spec.origin:
        return ""
    return os.path.dirname(os.path.abspath(spec.origin))


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _is_first_party(entry: importlib.metadata.EntryPoint) -> bool:
    dist = entry.dist
    return dist is not None and _normalise(dist.name) == FIRST_PARTY_DIST


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution_of(module: ModuleType) -> tuple[str, str]:
    """(distribution, version) that installed ``module``'s top-level package, if any."""
    top = module.__name__.split(".")[0]
    try:
        names = importlib.metadata.packages_distributions().get(top, [])
    except Exception:  # broken metadata of some other package must not stop us
        names = []
    for name in names:
        try:
            return name, importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "", str(getattr(module, "__version__", "") or "")


# --- loading -------------------------------------------------------------------------


class _Loader:
    """Loads plugins into one manager and records what happened in one registry."""

    def __init__(self, registry: Registry, selection: PluginSelection) -> None:
        self.registry = registry
        self.selection = selection
        self.pm = _Manager(hookspecs.PROJECT)
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
            self.leave_out(name, info.origin, _validation_message(exc, name, plugin))
            return False
        except Exception as exc:
            location = _exception_location(exc, near)
            self.leave_out(name, info.origin, _located(
                location, f"plugin '{name}' could not be registered: {failure_text(exc)}"
            ))
            return False
        requirement = requirement_problem(info.distribution, FIRST_PARTY_DIST, __version__)
        if requirement is not None and info.distribution != FIRST_PARTY_DIST:
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
        location = _exception_location(exc, near)
        self.leave_out(name, what, _located(
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
                _display_path(module.__file__ or ""),
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
        near = _package_dir(module_name)
        LOADING[module_name] = module_name
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # a broken plugin must not take the others down
            self.import_failed(module_name, f"{origin} {module_name}", exc, near)
            return
        distribution, version = _distribution_of(module)
        info = PluginInfo(
            module_name, origin, version, distribution, module_name,
            _display_path(getattr(module, "__file__", "") or ""),
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
            module_name, _display_path(path),
        )
        self.register(module, name, info, near=near)

    def load_entry_point(self, entry: importlib.metadata.EntryPoint, origin: str) -> None:
        if self.pm.has_plugin(entry.name) or self.pm.is_blocked(entry.name):
            return
        near = _package_dir(entry.value)
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
        dist = entry.dist
        info = PluginInfo(
            entry.name,
            origin,
            dist.version if dist else "",
            dist.name if dist else "",
            entry.value,
            _display_path(getattr(plugin, "__file__", "") or ""),
        )
        self.register(plugin, entry.name, info, near=near)

    def load_entry_points(self) -> None:
        for entry in self.entry_points:
            first_party = _is_first_party(entry)
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
                unknown.append((impl.plugin_name, _located(
                    _code_location(impl.function),
                    f"plugin '{impl.plugin_name}' implements unknown hook "
                    f"'{name}'{_did_you_mean(name, spec_names)} (a misspelling, or a hook "
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
                    f"name{_did_you_mean(name, known)}"
                )


def _validation_message(exc: pluggy.PluginValidationError, name: str, plugin: object) -> str:
    """One located line for a hook implementation whose arguments do not fit its hook."""
    text = str(exc)
    match = re.search(r"for hook '(\w+)'", text)
    location = ""
    if match:
        function = getattr(plugin, match.group(1), None)
        if function is not None:
            location = _code_location(function)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = lines[-1] if lines else text
    hook = f" implements {match.group(1)}" if match else ""
    return _located(location or _code_location(plugin), f"plugin '{name}'{hook} wrongly: {reason}")


__all__ = [
    "BUILTIN_NAME",
    "CORE_PLUGINS",
    "ENTRY_POINT_GROUP",
    "ENV_DISABLE",
    "ENV_PLUGINS",
    "LifecycleHooks",
    "PluginInfo",
    "PluginRequest",
    "PluginSelection",
    "Registry",
]
