"""The options and arguments several commands share: dates, inputs, engine, --set, --errors."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click

from upsell_rules.cli.bundled_names import RulesetPath, StrParam, near_file, resolve_data_path
from upsell_rules.io.coercion import date_advice

F = TypeVar("F", bound=Callable[..., Any])


if TYPE_CHECKING:
    DateParam = click.ParamType[date]
else:
    DateParam = click.ParamType


class IsoDate(DateParam):
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
            self.fail(f"{value!r} is not a date {date_advice(str(value))}", param, ctx)


def as_of_option(func: F) -> F:
    """``--as-of DATE``: the evaluation date (default: today)."""
    return click.option(
        "--as-of",
        type=IsoDate(),
        default=None,
        help="Evaluate as of this date (YYYY-MM-DD). Default: today. Pass it for "
        "reproducible output.",
    )(func)


class DataInput(StrParam):
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
            hint = near_file(text) if bundled is None and not os.path.exists(text) else ""
            if hint:
                self.fail(f"File {text!r} does not exist{hint}.", param, ctx)
            return bundled or str(self._FILE.convert(text, param, ctx))
        return text


DATA_HELP = (
    "Accounts input: a CSV, JSON or JSONL file in the data contract, SOURCE:PATH to name "
    "the source that reads it (events:export.jsonl, tickets:tickets.csv), or a database "
    "URL (sqlite:///accounts.db?table=accounts). See docs/plugins.md."
)


_ENCODING_META = "upsell_rules.encoding"


def _remember_encoding(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    from upsell_rules.io.encoding import EncodingNameError, codec_name

    if value is None:
        return
    try:
        ctx.meta[_ENCODING_META] = codec_name(value)
    except EncodingNameError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def encoding_option(func: F) -> F:
    """``--encoding NAME``: the text encoding of the input files (see :func:`input_encoding`)."""
    return click.option(
        "--encoding",
        metavar="NAME",
        default=None,
        expose_value=False,
        callback=_remember_encoding,
        help="Text encoding of the data files (CSV, JSON, JSON Lines): utf-8 (the default), "
        "cp1252 (Excel's plain CSV on Windows), latin-1, utf-16 (Excel's Unicode Text)... "
        "Wins over encoding: in the ruleset's sources: section; never guessed.",
    )(func)


def input_encoding() -> str | None:
    """The codec ``--encoding`` named for this command (``None``: the ruleset's, else UTF-8)."""
    ctx = click.get_current_context(silent=True)
    found = ctx.meta.get(_ENCODING_META) if ctx is not None else None
    return str(found) if found else None


def data_option(func: F) -> F:
    """``--data INPUT``: the accounts input (one), and ``--encoding``."""
    func = encoding_option(func)
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

    Also ``--allow-ruleset-query``: the operator lets the ruleset's SQL query run, and
    ``--encoding``.
    """
    func = encoding_option(func)
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
        default="auto",
        show_default=True,
        help="Engine that decides: auto (duckdb for a large JSON Lines file it can read "
        "and decide exactly as python would, else python), python, duckdb (conditions "
        "on embedded DuckDB; a whole JSON Lines file where it can), interpreter, or one a "
        "plugin provides (upsell-rules plugins lists them). The summary line names the "
        "engine that ran; see docs/cli.md.",
    )(func)


def ruleset_argument(func: F) -> F:
    """The RULESET argument."""
    return click.argument("ruleset", type=RulesetPath())(func)


def resolve_as_of(value: date | None) -> date:
    """The given date, or today's."""
    return value if value is not None else date.today()


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


def text_or_json_option(help_text: str | None = None) -> Callable[[F], F]:
    """``--format text|json`` (default ``text``), into the ``fmt`` parameter;
    ``help_text`` says what each form shows."""

    def decorate(func: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
            help=help_text,
        )(func)

    return decorate
