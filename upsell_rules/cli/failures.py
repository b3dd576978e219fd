"""How every command reports plugin failures: one line each, grouped, no traceback.

- :func:`guarded_invoke` runs a command under the command-wide plugin watchdog
  (``--plugin-timeout``, ``UPSELL_RULES_PLUGIN_TIMEOUT``; registration hooks included)
  and turns a failure in plugin code that reaches the top into one line naming the
  plugin, exit 2 (the run could not be done). ``--debug`` (or
  ``UPSELL_RULES_DEBUG=1``) shows the traceback instead.
- :class:`ErrorPrinter` prints record errors; identical plugin failures are grouped:
  the first few in full, then one line with the count and the first account ids.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from upsell_rules import limits
from upsell_rules.cli.exits import usage_error
from upsell_rules.errors import PluginError, PluginTimeout, RecordError
from upsell_rules.safetext import printable

T = TypeVar("T")


ENV_DEBUG = "UPSELL_RULES_DEBUG"
_DEBUG_META = "upsell_rules.debug"
_TIMEOUT: list[float | None] = [None]
#: Record errors of one kind printed in full before the rest are only counted.
SHOWN_PER_KIND = 3
#: Account ids listed in a group's summary line.
IDS_SHOWN = 5


def debug_enabled(ctx: click.Context | None = None) -> bool:
    """True with ``--debug`` or ``UPSELL_RULES_DEBUG=1``."""
    if os.environ.get(ENV_DEBUG, "").strip().lower() in ("1", "true", "yes"):
        return True
    ctx = ctx or click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().meta.get(_DEBUG_META))


def debug_callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """``--debug``: remember it for the whole invocation."""
    if value:
        ctx.find_root().meta[_DEBUG_META] = True


def timeout_callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """``--plugin-timeout``: the command-wide watchdog takes it at once (plugins are
    loaded after options are read, and registration hooks are watched too)."""
    if value is not None:
        _TIMEOUT[0] = float(value)
        from upsell_rules.plugin.watchdog import retune

        retune()
    return value


def plugin_timeout() -> float:
    """The budget: ``--plugin-timeout``, else ``UPSELL_RULES_PLUGIN_TIMEOUT``, else the
    default (a malformed variable is reported by the group; the default applies)."""
    if _TIMEOUT[0] is not None:
        return _TIMEOUT[0]
    try:
        return limits.from_env().plugin_timeout
    except limits.LimitSettingError:
        return limits.DEFAULT_PLUGIN_TIMEOUT


def guarded_invoke(invoke: Callable[[], T], ctx: click.Context) -> T:
    """Run ``invoke()`` (a command) under the watchdog; report plugin failures."""
    from upsell_rules.plugin.watchdog import current_packages, global_progress, watchdog

    _TIMEOUT[0] = None
    try:
        with watchdog(plugin_timeout, global_progress, current_packages, tick=1.0):
            return invoke()
    except PluginTimeout as exc:
        if debug_enabled(ctx):
            raise
        _fail(str(exc))
    except PluginError as exc:
        if debug_enabled(ctx):
            raise
        _fail(str(exc))
    except Exception as exc:
        from upsell_rules.plugin.build import current_registry
        from upsell_rules.plugin.guard import blame, failure_text

        culprit = blame(exc, current_registry())
        if culprit is None or debug_enabled(ctx):
            raise
        _fail(f"{culprit} failed: {failure_text(exc)}")


def _fail(message: str) -> NoReturn:
    click.echo(f"upsell-rules: error: {message}", err=True)
    usage_error("the run could not be done (a plugin failed, see above); --debug shows the "
                "traceback", prefix="")


# --- record errors, grouped -----------------------------------------------------------

_PLUGIN_NAMED = re.compile(r"\(plugin '[^']*'\)|plugin '[^']*'")


class ErrorPrinter:
    """Prints record errors to stderr; groups identical plugin failures.

    An error whose message names a plugin is a *kind*: the first
    :data:`SHOWN_PER_KIND` of each kind are printed in full, the rest are counted, and
    :meth:`finish` prints one line per kind with more: the count and the first account
    ids. Other errors (a bad cell, a duplicate id) are each printed, as before.
    """

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        # Messages carry values from the data: no terminal escape reaches the screen.
        self._echo = echo or (lambda line: click.echo(printable(line), err=True))
        self._kinds: dict[str, list[Any]] = {}

    def __call__(self, error: RecordError, text: str | None = None) -> None:
        """Print (or count) one error; ``text`` is its printable form."""
        line = text if text is not None else str(error)
        if not _PLUGIN_NAMED.search(error.message):
            self._echo(f"upsell-rules: error: {line}")
            return
        if error.account_id and error.account_id not in error.message:
            head, sep, rest = line.partition(": ")
            line = f"{head}: account {error.account_id}{sep}{rest}" if sep else line
        kind = self._kinds.setdefault(error.message, [0, []])
        kind[0] += 1
        if error.account_id and len(kind[1]) < IDS_SHOWN:
            kind[1].append(error.account_id)
        if kind[0] <= SHOWN_PER_KIND:
            self._echo(f"upsell-rules: error: {line}")

    def finish(self) -> None:
        """One line per kind of error seen more often than shown."""
        for message, (count, ids) in self._kinds.items():
            if count <= SHOWN_PER_KIND:
                continue
            shown = ", ".join(ids)
            more = f" and {count - len(ids)} more" if count > len(ids) else ""
            accounts = f" (accounts {shown}{more})" if ids else ""
            self._echo(
                f"upsell-rules: error: {count} records in all failed with: "
                f"{message}{accounts}; {SHOWN_PER_KIND} shown above"
            )


_PRINTER_META = "upsell_rules.error_printer"


def report_record_error(error: RecordError) -> None:
    """Print one record error through the command's :class:`ErrorPrinter` (made on first
    use; its group lines are printed when the command ends)."""
    ctx = click.get_current_context(silent=True)
    printer = ctx.meta.get(_PRINTER_META) if ctx is not None else None
    if printer is None:
        printer = ErrorPrinter()
        if ctx is not None:
            ctx.meta[_PRINTER_META] = printer
            ctx.call_on_close(printer.finish)
    printer(error)


__all__ = [
    "ErrorPrinter", "debug_enabled", "guarded_invoke", "plugin_timeout", "report_record_error",
]
