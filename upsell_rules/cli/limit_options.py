"""Resource limits from options and environment variables, and the plugin watchdog around a run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from upsell_rules import limits
from upsell_rules.cli.exits import usage_error
from upsell_rules.cli.options import F
from upsell_rules.plugin.registry import Registry


def limit_options(func: F) -> F:
    """``--max-input-mb``, ``--max-records``, ``--max-line-bytes``, ``--plugin-timeout``.

    Each defaults to its environment variable, then to the built-in default (see
    :mod:`upsell_rules.limits`); 0 turns a limit off.
    """
    specs: list[tuple[str, str, type[Any], str, str]] = [
        ("--max-input-mb", "max_input_mb", float, "MB", "input_mb"),
        ("--max-records", "max_records", int, "N", "records"),
        ("--max-line-bytes", "max_line_bytes", int, "BYTES", "line_bytes"),
        ("--plugin-timeout", "plugin_timeout", float, "SECONDS", "plugin_timeout"),
    ]
    helps = {
        "input_mb": "Largest data file accepted (JSON arrays, read whole, are also capped "
        f"at {limits.DEFAULT_JSON_MB} MB). Default {limits.DEFAULT_INPUT_MB} MB.",
        "records": f"Most records read from one data file. Default {limits.DEFAULT_RECORDS:,}.",
        "line_bytes": "Longest CSV row or JSON Lines line; a longer one is reported and "
        f"skipped. Default {limits.DEFAULT_LINE_BYTES:,}.",
        "plugin_timeout": "Stop the run, naming the plugin, when a plugin makes no progress "
        f"for this long. Default {limits.DEFAULT_PLUGIN_TIMEOUT:g} s.",
    }
    from upsell_rules.cli.failures import timeout_callback

    for flag, name, kind, metavar, field_name in reversed(specs):
        func = click.option(
            flag,
            name,
            type=click.FloatRange(min=0) if kind is float else click.IntRange(min=0),
            default=None,
            metavar=metavar,
            help=f"{helps[field_name]} Env: {limits.ENV[field_name]}. 0: no limit.",
            callback=timeout_callback if name == "plugin_timeout" else None,
            is_eager=name == "plugin_timeout",
        )(func)
    return func


def check_limit_settings() -> None:
    """Exit 2 with a clear message when a ``UPSELL_RULES_MAX_*`` variable is malformed.

    Every command reads rulesets under these limits, so the group checks them first.
    """
    try:
        limits.from_env()
    except limits.LimitSettingError as exc:
        usage_error(str(exc))


def resolve_limits(
    max_input_mb: float | None,
    max_records: int | None,
    max_line_bytes: int | None,
    plugin_timeout: float | None,
) -> limits.Limits:
    """The run's limits: options over environment variables over defaults.

    A malformed environment variable is a usage error (exit 2).
    """
    try:
        base = limits.from_env()
    except limits.LimitSettingError as exc:
        usage_error(str(exc))
    return base.with_overrides(
        input_mb=max_input_mb,
        records=max_records,
        line_bytes=max_line_bytes,
        plugin_timeout=plugin_timeout,
    )


@contextmanager
def run_guard(
    limit: limits.Limits, registry: Registry, progress: Callable[[], int]
) -> Iterator[None]:
    """Run the block with ``limit`` as the current limits, under the plugin watchdog.

    ``progress()`` must change as the run moves on (records read, decided, failed). A
    plugin that stalls longer than ``limit.plugin_timeout`` raises
    :class:`~upsell_rules.errors.PluginTimeout` naming it; the command reports it.
    """
    from upsell_rules.plugin.watchdog import plugin_packages, watchdog

    with limits.using(limit), watchdog(
        limit.plugin_timeout, progress, plugin_packages(registry)
    ):
        yield
