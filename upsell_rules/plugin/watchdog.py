"""Stop a run that is stuck inside a plugin, and say which plugin.

A derivation, source or function that never returns would hang a run forever. The
watchdog catches that without costing normal evaluation anything: no thread, and no
call per account. A POSIX interval timer (``signal.setitimer``) ticks four times per
budget; at each tick the ``SIGALRM`` handler reads a progress counter the caller keeps
anyway (records read plus decided plus failed). When the counter has not moved for the
whole budget, the handler looks at the interrupted call stack: if a plugin's code is on
it, it raises :class:`~upsell_rules.errors.PluginTimeout` right there, naming the plugin
and the line it is stuck on. Without a plugin frame on the stack (the run waits for a
full pipe, say) it lets the run wait.

Worker processes (``--jobs``) do not inherit the parent's timer; each task a worker runs
gets a watchdog of its own (:func:`batch_watchdog`) with the whole budget.

Limits, on purpose: it works in the main thread of a POSIX process (elsewhere it does
nothing), and Python runs signal handlers between bytecodes, so code stuck inside one
C call that never returns to the interpreter (a runaway regular expression, a C
extension's loop) is not interrupted. ``PluginTimeout`` derives from ``BaseException``
so that a plugin's ``except Exception`` cannot swallow it.
"""

from __future__ import annotations

import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, NamedTuple

from upsell_rules import limits
from upsell_rules.errors import PluginError, PluginTimeout

#: Attributes of registered objects that hold a plugin's code.
_CODE_ATTRIBUTES = (
    "read", "read_with_context", "matches", "build", "call", "describe", "prepare", "deliver",
)

if TYPE_CHECKING:
    from upsell_rules.plugin.registry import Registry

#: Module name -> plugin name of every plugin module being (or once) imported, so the
#: watchdog can name a plugin that hangs while it is imported (the loader fills it).
LOADING: dict[str, str] = {}


def _no_registry() -> Registry | None:
    return None


_registry_source: Callable[[], Registry | None] = _no_registry


def set_registry_source(source: Callable[[], Registry | None]) -> None:
    """Tell the watchdog how to find the registry in use (the registry builder does)."""
    global _registry_source
    _registry_source = source


def plugin_packages(registry: Registry) -> dict[str, str]:
    """Module name -> plugin name, for every plugin module outside the core.

    Found from the plugin modules pluggy holds and from the functions each registered
    object carries (a plugin may register code that lives in another module). A
    module's submodules belong to the same plugin.
    """
    packages: dict[str, str] = {}

    def add(module: object, plugin: str) -> None:
        if isinstance(module, str) and module and module.split(".")[0] != "upsell_rules":
            packages.setdefault(module, plugin)

    manager = getattr(registry, "manager", None)
    if manager is not None:
        for name, plugin in manager.list_name_plugin():
            add(getattr(plugin, "__name__", None), name)
    for (kind, name), plugin in registry.providers.items():
        table = _table(registry, kind)
        item = table.get(name) if table is not None else None
        for attribute in _CODE_ATTRIBUTES:
            add(getattr(getattr(item, attribute, None), "__module__", None), plugin)
    return packages


def current_packages() -> dict[str, str]:
    """:func:`plugin_packages` of the registry in use (or being built), plus every
    plugin module being imported: what a command-wide watchdog blames."""
    packages = {module: plugin for module, plugin in LOADING.items() if module}
    registry = _registry_source()
    if registry is not None:
        packages.update(plugin_packages(registry))
    return packages


def _table(registry: Registry, kind: str) -> Mapping[str, Any] | None:
    attribute = {"upsell type": "upsell_types"}.get(kind, kind + "s")
    table = getattr(registry, attribute, None)
    return table if isinstance(table, Mapping) else None


def _owner(module: str, packages: Mapping[str, str]) -> str | None:
    """The plugin ``module`` belongs to: its own entry, or its nearest package's."""
    while module:
        if module in packages:
            return packages[module]
        module = module.rpartition(".")[0]
    return None


def _blame(frame: FrameType | None, packages: Mapping[str, str]) -> str | None:
    """``plugin 'x' (stuck in module:line, in function)`` for the innermost plugin frame."""
    while frame is not None:
        module = frame.f_globals.get("__name__")
        plugin = _owner(module, packages) if isinstance(module, str) else None
        if plugin is not None:
            code = frame.f_code
            return f"plugin '{plugin}' (stuck in {module}:{frame.f_lineno}, in {code.co_name})"
        frame = frame.f_back
    return None


def available() -> bool:
    """True where the watchdog can work: POSIX timers, in the main thread."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


#: A process-wide progress counter: the core moves it as a run moves on (a record
#: read, an account decided, a registration hook called), and a plugin doing long,
#: legitimate work may move it too with :func:`alive`.
PROGRESS = [0]
#: How many budgets the current step may take (a sink delivering N decisions gets N).
_ALLOWANCE = [1]


#: Handlers of the watchdogs in effect, innermost last, and of those that have ended.
_LIVE: list[_StallDetector] = []
_ENDED: weakref.WeakSet[_StallDetector] = weakref.WeakSet()


_RETUNE: list[Callable[[], None]] = []


def retune() -> None:
    """Re-read the budget of the watchdogs in effect (``--plugin-timeout`` was just read)."""
    for rearm in list(_RETUNE):
        rearm()


def alive() -> None:
    """Tell the watchdog the run is moving on (for a plugin doing long, real work)."""
    PROGRESS[0] += 1


def global_progress() -> int:
    """The value of the process-wide progress counter."""
    return PROGRESS[0]


@contextmanager
def allowance(budgets: int) -> Iterator[None]:
    """Inside the block, a stall is reported only after ``budgets`` whole budgets (a
    sink delivering many decisions, with no progress to show, gets one per decision)."""
    previous = _ALLOWANCE[0]
    _ALLOWANCE[0] = max(1, budgets)
    try:
        yield
    finally:
        _ALLOWANCE[0] = previous
        alive()


class _StallDetector:
    """The ``SIGALRM`` handler of one watchdog: at each tick, has the run moved on?

    The instance itself is the handler that :func:`signal.signal` installs, so the
    watchdogs in effect (``_LIVE``) and those that have ended (``_ENDED``) are told apart
    by identity.
    """

    def __init__(
        self,
        budget: float | Callable[[], float],
        initial: float,
        progress: Callable[[], int],
        packages: Mapping[str, str] | Callable[[], Mapping[str, str]],
        setting: str,
        tick: float | None,
    ) -> None:
        self.budget = budget
        self.progress = progress
        self.packages = packages
        self.setting = setting
        self.tick = tick
        self.tick_seconds = self.interval_for(initial)
        self.last = progress()
        self.moved_at = time.monotonic()

    def limit(self) -> float:
        """The budget in seconds, as it stands now."""
        return self.budget() if callable(self.budget) else self.budget

    def interval_for(self, limit: float) -> float:
        """Seconds between ticks: a quarter of the budget, or ``tick`` when shorter."""
        quarter = max(limit / 4, 0.01) if limit > 0 else 1.0
        return min(quarter, self.tick) if self.tick is not None else quarter

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        current = self.progress()
        if current != self.last:
            self.last, self.moved_at = current, now
            return
        limit = self.limit()
        if limit <= 0 or now - self.moved_at < limit * _ALLOWANCE[0]:
            return
        packages = self.packages() if callable(self.packages) else self.packages
        culprit = _blame(frame, packages)
        if culprit is not None:
            self.moved_at = now  # a caller that carries on gets a whole budget again
            raise PluginTimeout(
                f"{culprit} made no progress for {limit:g} s and was stopped; if it is "
                f"only slow, raise {self.setting} (0 turns the check off)"
            )

    def rearm(self) -> None:
        """Follow a changed budget, when this is the innermost watchdog."""
        wanted = self.interval_for(self.limit())
        if _LIVE and _LIVE[-1] is self and wanted != self.tick_seconds:
            self.tick_seconds = wanted
            signal.setitimer(signal.ITIMER_REAL, wanted, wanted)


class _OuterAlarm(NamedTuple):
    """What was in place before a watchdog armed its timer, to put back when it ends."""

    handler: Any
    #: The pending alarm's delay and interval (0 when none), and when they were read.
    delay: float
    interval: float
    read_at: float


def _arm(detector: _StallDetector) -> _OuterAlarm:
    """Install ``detector`` as the ``SIGALRM`` handler and start its timer."""
    previous = signal.signal(signal.SIGALRM, detector)
    started = time.monotonic()
    tick = detector.tick_seconds
    delay, interval = signal.setitimer(signal.ITIMER_REAL, tick, tick)
    _LIVE.append(detector)
    _RETUNE.append(detector.rearm)
    return _OuterAlarm(previous, delay, interval, started)


def _disarm(detector: _StallDetector, outer: _OuterAlarm) -> None:
    """Stop ``detector``'s timer and put back what was there before."""
    _RETUNE.remove(detector.rearm)
    _LIVE.remove(detector)
    if outer.handler in _ENDED:
        # The watchdog around this one ended first (a generator closed late, at
        # exit): it already disarmed the timer and put its own handler back.
        pass
    else:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, outer.handler)
        if outer.delay:
            # Someone else's alarm (a test runner's timeout, an outer watchdog) was
            # pending: re-arm it.
            remaining = max(outer.delay - (time.monotonic() - outer.read_at), 0.001)
            signal.setitimer(signal.ITIMER_REAL, remaining, outer.interval)
    _ENDED.add(detector)


@contextmanager
def watchdog(
    budget: float | Callable[[], float],
    progress: Callable[[], int],
    packages: Mapping[str, str] | Callable[[], Mapping[str, str]],
    *,
    setting: str = "--plugin-timeout",
    tick: float | None = None,
) -> Iterator[None]:
    """Inside the block, raise :class:`PluginTimeout` when a plugin stalls for ``budget`` s.

    ``progress()`` must change whenever the run moves on (it is read only at ticks).
    ``packages`` maps module names to plugin names (:func:`plugin_packages`). A budget
    of 0 (or less), or a place where the watchdog cannot work (:func:`available`),
    makes this a no-op. ``budget`` and ``packages`` may be functions, read at each tick
    (a command learns its ``--plugin-timeout`` and loads its plugins after the watchdog
    is armed): the timer then ticks ``tick`` seconds apart, or a quarter of the budget
    when that is shorter, and :func:`retune` adjusts it when the budget changes.
    """
    initial = budget() if callable(budget) else budget
    if (initial <= 0 and not callable(budget)) or not available():
        yield
        return
    detector = _StallDetector(budget, initial, progress, packages, setting, tick)
    outer = _arm(detector)
    try:
        yield
    finally:
        _disarm(detector, outer)


_WORKER_PACKAGES: dict[int, dict[str, str]] = {}


@contextmanager
def batch_watchdog(registry: Registry) -> Iterator[None]:
    """The watchdog for one batch decided in a worker process.

    A worker has no progress counter to watch (and a forked child does not inherit the
    parent's timer), so the whole batch gets the budget of
    :func:`upsell_rules.limits.current`. A stall becomes a :class:`PluginError`, an
    ordinary exception that the process pool carries back to the parent (a
    ``BaseException`` would kill the worker and leave the pool waiting).
    """
    packages = _WORKER_PACKAGES.get(id(registry))
    if packages is None:
        packages = _WORKER_PACKAGES[id(registry)] = plugin_packages(registry)
    try:
        with watchdog(limits.current().plugin_timeout, lambda: 0, packages):
            yield
    except PluginTimeout as exc:
        raise PluginError(str(exc)) from None
