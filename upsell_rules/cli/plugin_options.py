"""Plugin control on every command (``-p NAME``, ``-p no:NAME``, ``--plugin FILE``,
``--debug``), and the command group that adds it."""

from __future__ import annotations

from typing import Any

import click

from upsell_rules import limits
from upsell_rules.cli.options import F

_PLUGIN_META = "upsell_rules.plugin_options"


def _plugin_callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Collect ``-p`` / ``--plugin`` values (group and command alike) and point the
    process-wide registry at them before any command body runs."""
    if not value:
        return
    from upsell_rules.plugin.build import configure_default_registry
    from upsell_rules.plugin.registry import PluginSelection

    stored = ctx.find_root().meta.setdefault(_PLUGIN_META, {"-p": [], "--plugin": []})
    key = "--plugin" if param.name == "plugin_files" else "-p"
    stored[key].extend(value)
    configure_default_registry(PluginSelection.from_options(stored["-p"], stored["--plugin"]))


def _plugin_option_specs() -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    from upsell_rules.cli.failures import debug_callback

    return [
        (
            ("--debug", "debug"),
            {
                "is_flag": True,
                "expose_value": False,
                "is_eager": True,
                "callback": debug_callback,
                "help": "Show the Python traceback of a failure (a plugin's, say) instead "
                "of one line. Env: UPSELL_RULES_DEBUG=1.",
            },
        ),
        (
            ("-p", "plugin_names"),
            {
                "multiple": True,
                "metavar": "NAME",
                "expose_value": False,
                "is_eager": True,
                "callback": _plugin_callback,
                "help": "Load plugin NAME for this run: a module path (my_pkg.plugin) or an "
                "installed plugin's name. -p no:NAME leaves plugin NAME out (bundled ones "
                "too). Repeatable.",
            },
        ),
        (
            ("--plugin", "plugin_files"),
            {
                "multiple": True,
                "metavar": "FILE",
                "expose_value": False,
                "is_eager": True,
                "type": click.Path(dir_okay=False),
                "callback": _plugin_callback,
                "help": "Load a plugin from a Python file for this run. Repeatable.",
            },
        ),
    ]


def plugin_params() -> list[click.Parameter]:
    """The ``-p`` and ``--plugin`` options, as parameters to attach to a command."""
    return [click.Option(list(decls), **kwargs) for decls, kwargs in _plugin_option_specs()]


def add_plugin_params(command: click.Command) -> click.Command:
    """Give ``command`` the ``-p`` / ``--plugin`` / ``--debug`` options (once), and
    ``--plugin-timeout`` when it has none: every command runs plugin code (loading)."""
    names = {p.name for p in command.params}
    if "plugin_names" not in names:
        command.params.extend(plugin_params())
    if "plugin_timeout" not in names:
        from upsell_rules.cli.failures import timeout_callback

        command.params.append(click.Option(
            ["--plugin-timeout", "plugin_timeout"], type=click.FloatRange(min=0),
            default=None, metavar="SECONDS", expose_value=False, is_eager=True,
            callback=timeout_callback,
            help="Stop a plugin, naming it, when it makes no progress for this long "
            f"(loading included). Default {limits.DEFAULT_PLUGIN_TIMEOUT:g} s. Env: "
            f"{limits.ENV['plugin_timeout']}. 0: no limit.",
        ))
    return command


def plugin_options(func: F) -> F:
    """Decorator: ``-p NAME`` / ``-p no:NAME`` / ``--plugin FILE`` on a command."""
    for decls, kwargs in reversed(_plugin_option_specs()):
        func = click.option(*decls, **kwargs)(func)
    return func


class PluginGroup(click.Group):
    """A command group that gives every command it holds the plugin options, so a
    command added by anyone, later, takes ``-p`` and ``--plugin`` like the rest.

    ``lazy_commands`` maps command names to ``"module:attribute"``; each is imported
    the first time it is asked for, which keeps start-up to what the command run needs.
    """

    def __init__(
        self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        add_plugin_params(cmd)
        super().add_command(cmd, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            import importlib

            module, _, attribute = self.lazy_commands[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # A new invocation starts from the installed plugins: -p from an earlier
        # invocation in the same process (a test's CliRunner) must not carry over.
        if parent is None:
            from upsell_rules.plugin.build import configure_default_registry

            configure_default_registry(None)
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        from upsell_rules.cli.failures import guarded_invoke

        return guarded_invoke(lambda: super(PluginGroup, self).invoke(ctx), ctx)
