"""Options and helpers shared by the commands."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, TextIO, TypeVar

import click

from upsell_rules import limits
from upsell_rules.cli.bundled_names import RulesetPath, resolve_data_path
from upsell_rules.errors import Diagnostic, RulesetError
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.ruleset.overrides import OverrideError, OverrideSet
from upsell_rules.safetext import printable

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes: 0 clean, 1 findings or failed records, 2 usage error / cannot run.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class IsoDate(click.ParamType):
    """A ``YYYY-MM-DD`` date."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value), re.ASCII):
                raise ValueError
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date (expected YYYY-MM-DD)", param, ctx)


def as_of_option(func: F) -> F:
    """``--as-of DATE``: the evaluation date (default: today)."""
    return click.option(
        "--as-of",
        type=IsoDate(),
        default=None,
        help="Evaluate as of this date (YYYY-MM-DD). Default: today. Pass it for "
        "reproducible output.",
    )(func)


class DataInput(click.ParamType):
    """A ``--data`` value: a file, ``SOURCE:PATH`` naming the source that reads it, or a
    URL a source claims (``sqlite:///accounts.db?table=accounts``).

    Plain paths must exist (checked like ``click.Path``); ``NAME:VALUE`` and URLs go to
    the source unchanged (VALUE may be a path, a URL or an API's account id: the source
    validates it, and says what is wrong when it cannot use it).
    """

    name = "INPUT"
    _PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9_+.-]+):(.+)$")
    _FILE = click.Path(exists=True, dir_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        match = self._PREFIX.match(text)
        if match is None:
            bundled = resolve_data_path(text)
            return bundled or str(self._FILE.convert(text, param, ctx))
        return text


DATA_HELP = (
    "Accounts input: a CSV, JSON or JSONL file in the data contract, SOURCE:PATH to name "
    "the source that reads it (events:export.jsonl, tickets:tickets.csv), or a database "
    "URL (sqlite:///accounts.db?table=accounts). See docs/plugins.md."
)


def data_option(func: F) -> F:
    """``--data INPUT``: the accounts input (one)."""
    return click.option(
        "--data",
        "data",
        required=True,
        type=DataInput(),
        help=DATA_HELP,
    )(func)


def _allow_ruleset_query(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    # Read by the SQL source plugin (and inherited by --jobs workers) for this run only.
    if value:
        os.environ["UPSELL_RULES_ALLOW_RULESET_QUERY"] = "1"


def data_inputs_option(func: F) -> F:
    """``--data INPUT`` (repeatable): inputs joined into one record per account.

    Also ``--allow-ruleset-query``: the operator lets the ruleset's SQL query run.
    """
    func = click.option(
        "--allow-ruleset-query",
        is_flag=True,
        expose_value=False,
        callback=_allow_ruleset_query,
        help="Let the ruleset's sources.sql.query run (still one read-only SELECT). "
        "Without it only a query given in --data runs.",
    )(func)
    return click.option(
        "--data",
        "data",
        required=True,
        multiple=True,
        type=DataInput(),
        help=DATA_HELP + " Repeat it to join several inputs by account_id.",
    )(func)


def engine_option(func: F) -> F:
    """``--engine NAME``."""
    return click.option(
        "--engine",
        default="python",
        show_default=True,
        help="Engine that evaluates conditions: python (the fastest that passes the "
        "conformance suite), interpreter, or one a plugin provides (upsell-rules plugins "
        "lists them; see docs/cli.md).",
    )(func)


def ruleset_argument(func: F) -> F:
    """The RULESET argument."""
    return click.argument("ruleset", type=RulesetPath())(func)


def resolve_as_of(value: date | None) -> date:
    """The given date, or today's."""
    return value if value is not None else date.today()


def registry_with_report() -> Registry:
    """The plugin registry; plugin problems go to stderr, one line each.

    A plugin left out because it is broken is one error line each, and the command goes
    on; a fatal problem (two plugins registering one name) stops the command with exit
    status 2.
    """
    registry = default_registry()
    left_out = {why for _origin, why in registry.failed.values()}
    for problem in registry.problems:
        level = "error" if problem in left_out else "warning"
        click.echo(f"upsell-rules: {level}: {problem}", err=True)
    if registry.fatal:
        for problem in registry.fatal:
            click.echo(f"upsell-rules: error: {problem}", err=True)
        click.echo(
            "upsell-rules: a plugin is broken (see above); fix it, or leave it out with "
            "-p no:NAME, then run again",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)
    return registry


def report_join(reader: Any) -> None:
    """Print how several ``--data`` inputs lined up (nothing for a single input)."""
    join = getattr(reader, "join", None)
    if join is not None:
        for line in join.lines():
            click.echo(f"upsell-rules: note: {line}", err=True)


def print_diagnostics(findings: list[Diagnostic], out: TextIO | None = None) -> None:
    """Print findings as ``path:line:col: CODE message``."""
    for finding in findings:
        click.echo(printable(str(finding)), file=out or sys.stdout)


def set_option(func: F) -> F:
    """``--set path=value`` (repeatable): what-if overrides of the ruleset."""
    return click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="PATH=VALUE",
        help="What-if: override one value of the ruleset for this run, e.g. "
        "--set constants.health_floor=70 or --set gates.health_floor.severity=soft "
        "(list items by id). Repeatable; checked like the file itself.",
    )(func)


def parse_overrides(texts: tuple[str, ...]) -> OverrideSet:
    """Parse ``--set`` values; a malformed one is a usage error (exit 2)."""
    try:
        return OverrideSet.parse(texts)
    except OverrideError as exc:
        click.echo(f"upsell-rules: error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None


def load_or_exit(
    path: str, registry: Registry, overrides: OverrideSet | None = None,
    *, text: str | None = None,
) -> Ruleset:
    """Load a ruleset for running; print its findings and exit 2 if it has errors.

    ``overrides`` (from ``--set``) are applied before the checks; ``text`` replaces the
    file's contents (a ruleset read from git).
    """
    try:
        ruleset, findings = check_ruleset(
            path, registry, text=text, patch=overrides.patch if overrides else None
        )
    except OverrideError as exc:
        click.echo(f"upsell-rules: error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    if overrides is not None:
        findings = overrides.annotate(findings)
        for note in overrides.notes:
            click.echo(f"upsell-rules: note: {note}", err=True)
    errors = [f for f in findings if f.is_error]
    if ruleset is None or errors:
        print_diagnostics(findings, sys.stderr)
        if overrides is not None and overrides.overrides:
            sets = ", ".join(f"--set {o.text}" for o in overrides.overrides)
            click.echo(
                f"upsell-rules: {path} with {sets}: {len(errors) or len(findings)} "
                "error(s) (listed above); check the --set values",
                err=True,
            )
        else:
            click.echo(
                f"upsell-rules: {path}: the ruleset has {len(errors) or len(findings)} "
                "error(s) (listed above); fix them and run again",
                err=True,
            )
        raise SystemExit(EXIT_USAGE)
    for warning in findings:
        click.echo(printable(f"upsell-rules: warning: {warning}"), err=True)
    if overrides is not None:
        ruleset = overrides.identify(ruleset)
    return ruleset


@contextmanager
def output_stream(path: str | None) -> Iterator[TextIO]:
    """Write to ``path`` atomically, or to stdout.

    The output goes to a temporary file in the same folder (a rename never crosses file
    systems), is flushed to disk, and is then renamed over ``path`` in one step: anyone
    reading ``path`` sees the previous file or the new one, never a part of one. When the
    run stops early (an error, Ctrl-C, SIGTERM) the temporary file is removed and
    ``path`` is left as it was. Only SIGKILL or a crash of the machine can leave a
    ``.upsell-rules-*.tmp`` file behind, and still never a partial ``path``. The new
    file gets the permissions of the one it replaces (or the usual ones for a new file).
    """
    if path is None:
        yield sys.stdout
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        click.echo(f"upsell-rules: error: --output {path}: folder {directory} does not exist",
                   err=True)
        raise SystemExit(EXIT_USAGE)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".upsell-rules-", suffix=".tmp", dir=directory)
    except OSError as exc:
        click.echo(f"upsell-rules: error: --output {path}: cannot write in {directory}: "
                   f"{exc.strerror or exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    try:
        with _sigterm_as_exit(), os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in _FULL:
            click.echo(f"upsell-rules: error: --output {path}: cannot write: "
                       f"{exc.strerror or exc}; the previous file (if any) was kept", err=True)
            raise SystemExit(EXIT_USAGE) from None
        raise


#: Errors of a full disk, a quota or a file-size limit (ulimit -f): exit 2, not a traceback.
_FULL = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def refuse_output_over_input(output: str | None, inputs: Sequence[str]) -> None:
    """Exit 2 when ``--output`` names one of the input files: it would be overwritten."""
    if output is None or not os.path.exists(output):
        return
    for spec in inputs:
        for candidate in (spec, spec.partition(":")[2]):
            try:
                same = bool(candidate) and os.path.samefile(candidate, output)
            except OSError:
                same = False
            if same:
                click.echo(f"upsell-rules: error: --output {output} is the input {spec}: "
                           "writing it would destroy the input; choose another file", err=True)
                raise SystemExit(EXIT_USAGE)


def _mode_for(path: str) -> int:
    """The permissions ``path`` has, or those a new file gets (mkstemp makes it 0600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit(143)`` inside the block, so cleanup code runs.

    The default action of SIGTERM ends the process on the spot; a temporary output file
    would then stay behind. Only the main thread can set signal handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- resource limits and failed records: dry-run, explain ----------------------------


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
        click.echo(f"upsell-rules: error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None


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
        click.echo(f"upsell-rules: error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    return base.with_overrides(
        input_mb=max_input_mb,
        records=max_records,
        line_bytes=max_line_bytes,
        plugin_timeout=plugin_timeout,
    )


def errors_option(func: F) -> F:
    """``--errors stderr|include``: where records that fail go."""
    return click.option(
        "--errors",
        "errors_to",
        type=click.Choice(["stderr", "include"]),
        default="stderr",
        show_default=True,
        help="stderr: report records that cannot be read or decided on the error output "
        "only. include: also write each one into the output as an error row, so every "
        "input account appears in it.",
    )(func)


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


# --- plugin control: -p NAME, -p no:NAME, --plugin FILE on every command --------------

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


__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "RulesetError"]
