"""``upsell-rules diff``: what a ruleset change does to real accounts, and why."""

from __future__ import annotations

import os
import subprocess
from datetime import date

import click

from upsell_rules.cli.bundled_names import RulesetPath
from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from upsell_rules.cli.failures import ErrorPrinter
from upsell_rules.cli.header_check import header_check, strict_option
from upsell_rules.cli.loading import (
    evaluator_or_exit,
    load_or_exit,
    parse_overrides,
    registry_with_report,
)
from upsell_rules.cli.options import (
    DataInput,
    IsoDate,
    as_of_option,
    data_option,
    engine_option,
    input_encoding,
    resolve_as_of,
    set_option,
)
from upsell_rules.cli.progress import counting, records_total
from upsell_rules.errors import InputError, RecordError
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.ruleset.overrides import OverrideSet
from upsell_rules.safetext import hide_credentials, printable_lines
from upsell_rules.workflow.diff import compare_rulesets, structural_changes
from upsell_rules.workflow.diff_render import render_json, render_markdown, render_text


def _usage(message: str) -> SystemExit:
    click.echo(f"upsell-rules: error: {message}", err=True)
    return SystemExit(EXIT_USAGE)


def git_show(path: str, rev: str) -> str:
    """The text of ``path`` as it was at git revision ``rev`` (``git show REV:./path``)."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        done = subprocess.run(
            ["git", "show", f"{rev}:./{os.path.basename(path)}"],
            cwd=folder,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        raise _usage("--git needs the git command, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise _usage(f"--git {rev}: git did not answer within 60 seconds") from None
    if done.returncode != 0:
        detail = " ".join(done.stderr.split()) or f"git exited with status {done.returncode}"
        raise _usage(f"--git {rev}: cannot read {path} at that revision: {detail}")
    return done.stdout


def _load(
    path: str, registry: Registry, overrides: OverrideSet, text: str | None = None
) -> tuple[Ruleset, OverrideSet]:
    rules = load_or_exit(path, registry, overrides, text=text)
    return rules, overrides


def _accounts(reader: AccountReader, data: str) -> tuple[list[Account], int]:
    accounts: list[Account] = []
    failed: set[object] = set()
    with counting(f"reading {os.path.basename(data)}", records_total([data])) as reading:
        items = list(reading.track(reader.read(data)))
    for item in items:
        if isinstance(item, RecordError):
            click.echo(f"upsell-rules: error: {item}", err=True)
            failed.add(item.location)
            continue
        accounts.append(item)
    return accounts, len(failed)


@click.command("diff")
@click.argument("rulesets", nargs=-1, required=True,
                type=RulesetPath())
@data_option
@as_of_option
@click.option(
    "--git",
    "rev",
    default=None,
    metavar="REV",
    help="Compare the ruleset as it was at this git revision (HEAD, main, a commit) with "
    "the working copy; then give one RULESET only.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="markdown is ready to paste into a pull request.",
)
@click.option(
    "--data-new", "data_new", type=DataInput(), default=None, metavar="INPUT",
    help="Compare two exports with one RULESET: --data is the earlier one, this the later.",
)
@click.option(
    "--as-of-new", "as_of_new", type=IsoDate(), default=None,
    help="Compare two dates with one RULESET: --as-of is the earlier, this the later "
    "(with --data-new, each export is decided as of its own date).",
)
@click.option(
    "--min-delta", "min_delta", type=click.FloatRange(min=0), default=5.0, show_default=True,
    help="Also list accounts that keep band and blocked state when their score moves by "
    "at least this many points (trigger and play changes are always listed).",
)
@click.option("--all", "show_all", is_flag=True,
              help="List every account whose decision differs in any way.")
@set_option
@engine_option
@strict_option
def diff_command(
    rulesets: tuple[str, ...],
    data: str,
    as_of: date | None,
    rev: str | None,
    fmt: str,
    data_new: str | None,
    as_of_new: date | None,
    min_delta: float,
    show_all: bool,
    overrides: tuple[str, ...],
    engine: str,
    strict: bool,
) -> None:
    """Compare two versions of a ruleset on the accounts in --data.

    \b
        upsell-rules diff upsell_timing expansion_triggers --data samples/accounts.csv
        upsell-rules diff upsell_timing --data samples/accounts.csv --set bands.act_now.min=65

    In a git repository, --git main RULESET.yaml compares the working copy with the
    version committed on main. With one RULESET, --data-new LATER.csv (two exports) or
    --as-of-new DATE (two dates) shows why accounts moved since then, with the signals
    that moved.

    Shows what changed in the file, how many accounts move from each band to each other
    band, and every account whose band or blocked state changes, with the rules whose
    outcome differs and the edits behind them; then every account whose triggers or play
    change, or whose score moves by --min-delta or more (--all: any difference).
    --set applies to the new side. Exit
    status: 0 done, 1 some data rows could not be read, 2 usage error.
    """
    registry = registry_with_report()
    new_overrides = parse_overrides(overrides)
    if rev is not None:
        if len(rulesets) != 1:
            raise _usage("with --git give one RULESET (the working copy to compare)")
        path = rulesets[0]
        old_text = git_show(path, rev)
        old, old_doc = _load(f"{path}@{rev}", registry, OverrideSet(()), old_text)
        new, new_doc = _load(path, registry, new_overrides)
        labels = (f"{path} at {rev}", path)
    elif len(rulesets) == 2:
        old, old_doc = _load(rulesets[0], registry, OverrideSet(()))
        new, new_doc = _load(rulesets[1], registry, new_overrides)
        labels = (rulesets[0], rulesets[1])
    elif len(rulesets) == 1 and (overrides or data_new is not None or as_of_new is not None):
        old, old_doc = _load(rulesets[0], registry, OverrideSet(()))
        new, new_doc = _load(rulesets[0], registry, new_overrides)
        labels = (rulesets[0], rulesets[0])
    else:
        raise _usage("give OLD and NEW rulesets, or one RULESET with --git REV, --set, "
                     "--data-new or --as-of-new")
    if overrides:
        labels = (labels[0], f"{labels[1]} with " + " ".join(f"--set {o}" for o in overrides))
    old_eval = evaluator_or_exit(old, registry, engine)
    new_eval = evaluator_or_exit(new, registry, engine)
    types = old.input_types()
    types.update(new.input_types())
    reader = AccountReader(registry, types, source_options=new.sources, signals=new.signals,
                           encoding=input_encoding())
    # Both rulesets, on every input: a column the old one needs is as silent as one the
    # new one needs, and a later export (--data-new) may be headed differently.
    printed: set[str] = set()
    for rules in (new, old):
        for spec in (data, data_new):
            if spec is not None:
                header_check(rules, registry, reader, [spec], strict, printed=printed)
    try:
        accounts, failed = _accounts(reader, data)
        later = None
        if data_new is not None:
            newer, failed_new = _accounts(
                AccountReader(registry, types, source_options=new.sources,
                              signals=new.signals, encoding=input_encoding()), data_new)
            later = {a.account_id: a for a in newer}
            failed += failed_new
    except InputError as exc:
        raise _usage(str(exc)) from None
    before = old_doc.document.data if old_doc.document else {}
    after = new_doc.document.data if new_doc.document else {}
    with counting("deciding every account with both rulesets", len(accounts)) as deciding:
        result = compare_rulesets(
            old_eval,
            new_eval,
            deciding.track(accounts),
            resolve_as_of(as_of),
            structural_changes(before, after),
            labels=labels,
            data=hide_credentials(data),
            new_accounts=later,
            new_as_of=as_of_new,
            new_data=hide_credentials(data_new or ""),
            min_delta=None if show_all else min_delta,
        )
    printer = ErrorPrinter()
    for error in result.failed:
        printer(error)
    printer.finish()
    render = {"text": render_text, "json": render_json, "markdown": render_markdown}[fmt]
    text = render(result)
    # Account names and values are data: no terminal escape reaches the screen.
    click.echo(printable_lines(text) if fmt == "text" else text, nl=False)
    raise SystemExit(EXIT_FINDINGS if failed or result.failed else EXIT_OK)
