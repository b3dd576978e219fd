"""``upsell-rules watch``: decide again when the inputs change, and deliver transitions."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from upsell_rules.cli.exits import EXIT_OK, EXIT_USAGE, usage_error
from upsell_rules.cli.loading import (
    account_reader,
    load_or_exit,
    print_diagnostics,
    registry_with_report,
)
from upsell_rules.cli.options import (
    DataInput,
    IsoDate,
    encoding_option,
    engine_option,
    ruleset_argument,
)
from upsell_rules.cli.state_common import open_store, required_state_option
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.stream import decide_all
from upsell_rules.errors import InputError, PluginError, RecordError, UpsellRulesError
from upsell_rules.io.delivery import SinkConfigError, SinkTarget, resolve_sinks
from upsell_rules.io.records import Account
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.state.codec import encode_account
from upsell_rules.state.daily import drain, run_with_state
from upsell_rules.state.history import latest_digests
from upsell_rules.state.store import StateError, StateStore, write_failure
from upsell_rules.state.watch import Clock, SystemClock, WatchLoop, file_signature, parse_interval


@contextlib.contextmanager
def _combined(folder: str | None, source: str) -> Iterator[list[str]]:
    """The folder's exports, in name order, as one input for ``source`` (a temp file)."""
    if folder is None:
        yield []
        return
    names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    extension = os.path.splitext(names[0])[1] if names else ".jsonl"
    fd, path = tempfile.mkstemp(prefix=".upsell-rules-watch-", suffix=extension)
    try:
        with os.fdopen(fd, "wb") as out:
            for name in names:
                with open(os.path.join(folder, name), "rb") as handle:
                    shutil.copyfileobj(handle, out)
        yield [f"{source}:{path}" if source else path]
    finally:
        os.unlink(path)


class Watcher:
    """One watch: what to read, how to decide, where to deliver, the store to use."""

    def __init__(self, rules: Ruleset, registry: Registry, engine: str, data: Sequence[str],
                 folder: str | None, folder_source: str, targets: Sequence[SinkTarget],
                 store: StateStore, sinks: Sequence[str] = ()) -> None:
        self.rules, self.registry, self.engine = rules, registry, engine
        self.data, self.folder, self.folder_source = list(data), folder, folder_source
        self.targets, self.store, self.sinks = targets, store, list(sinks)
        self.evaluator = Evaluator(rules, registry, engine)
        with open(rules.path, "rb") as handle:
            #: The text of the ruleset deciding (the log keeps it), and the last text read.
            self.text = self.seen = handle.read()
        self.digests = latest_digests(store)
        self.last_day: date | None = None

    def signature(self) -> Any:
        """The inputs' and the ruleset's file signature (see :func:`file_signature`)."""
        return file_signature([*(d.split(":", 1)[-1] if ":" in d and not os.path.exists(d)
                                 else d for d in self.data), self.rules.path], self.folder)

    def reload(self) -> bool:
        """Take up an edited ruleset; True when it changed and loads cleanly. One with
        errors is reported and the last good one keeps deciding."""
        try:
            with open(self.rules.path, "rb") as handle:
                text = handle.read()
        except OSError as exc:
            click.echo(f"upsell-rules: error: {self.rules.path}: {exc.strerror}; still "
                       "deciding with the ruleset read before", err=True)
            return False
        if text == self.seen:
            return False
        self.seen = text  # a broken text is reported once, not at every look
        try:
            decoded: str | None = text.decode("utf-8")
        except UnicodeDecodeError:
            decoded = None  # the loader reads the file itself and says what is wrong
        rules, findings = check_ruleset(self.rules.path, self.registry, text=decoded)
        try:
            if rules is None or any(f.is_error for f in findings):
                raise UpsellRulesError("the edited ruleset has errors (listed above)")
            evaluator = Evaluator(rules, self.registry, self.engine)
            targets = resolve_sinks(self.registry, rules, self.sinks)
        except (SinkConfigError, UpsellRulesError) as exc:
            print_diagnostics([f for f in findings if f.is_error], sys.stderr)
            click.echo(f"upsell-rules: error: {self.rules.path}: {exc}; still deciding with "
                       f"version {self.rules.version} (sha256 "
                       f"{str(self.rules.identity()['sha256'])[:12]})", err=True)
            return False
        self.rules, self.evaluator, self.targets, self.text = rules, evaluator, targets, text
        click.echo(f"watch: {rules.path} changed: deciding with version {rules.version}",
                   err=True)
        return True

    def tick(self, as_of: date) -> None:
        """Read, re-decide the accounts whose inputs changed, record and deliver."""
        everything = self.reload() or as_of != self.last_day
        reader = account_reader(self.rules, self.registry, as_of=as_of)
        changed: list[Account] = []
        inputs: dict[str, tuple[str, bytes]] = {}
        try:
            with _combined(self.folder, self.folder_source) as extra:
                for item in reader.read_all([*self.data, *extra]):
                    if isinstance(item, RecordError):
                        click.echo(f"upsell-rules: error: {item}", err=True)
                        continue
                    digest, blob = encode_account(item.account_id, item.account_name,
                                                  item.owner, item.values)
                    if everything or self.digests.get(item.account_id) != digest:
                        changed.append(item)
                        inputs[item.account_id] = (digest, blob)
        except InputError as exc:
            # Nothing was recorded: the store keeps the last good state. The next change
            # of the inputs is read again.
            click.echo(f"upsell-rules: error: {exc}; nothing decided at this look, "
                       "watching on", err=True)
            return
        decisions = [d for d in decide_all(self.evaluator, iter(changed), as_of)
                     if not isinstance(d, RecordError)]
        with self.store.lock(30.0):
            result = run_with_state(self.store, self.rules, decisions, inputs, self.targets,
                                    as_of, engine=self.evaluator.engine.name, data=self.data,
                                    ruleset_text=self.text)
        self.digests.update({a: d for a, (d, _) in inputs.items()})
        self.last_day = as_of
        sent = sum(r.count("delivered") for _, r in result.outcomes)
        failed = sum(r.count("failed") for _, r in result.outcomes)
        click.echo(f"watch {as_of.isoformat()}: run {result.run_id}: {len(decisions)} "
                   f"re-decided, {sent} delivered" + (f", {failed} failed" if failed else ""),
                   err=True)


    def idle(self, as_of: date) -> None:
        """Retry deliveries still waiting in the outbox (a sink that failed earlier)."""
        labels = [t.label for t in self.targets]
        if not self.store.pending(labels):
            return
        with self.store.lock(30.0):
            outcomes = drain(self.store, self.targets, self.rules.identity(), as_of)
        sent = sum(r.count("delivered") for _, r in outcomes)
        failed = sum(r.count("failed") for _, r in outcomes)
        click.echo(f"watch {as_of.isoformat()}: retried waiting deliveries: {sent} delivered"
                   + (f", {failed} failed" if failed else ""), err=True)


def build_watcher(ruleset: str, data: Sequence[str], folder: str | None, folder_source: str,
                  sinks: Sequence[str], state: str, engine: str = "python") -> Watcher:
    """A :class:`Watcher` from command-line values (exits 2 on anything unusable)."""
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry)
    try:
        targets = resolve_sinks(registry, rules, sinks)
        return Watcher(rules, registry, engine, data, folder, folder_source, targets,
                       open_store(state), sinks)
    except (SinkConfigError, UpsellRulesError) as exc:
        usage_error(str(exc))


def watch_loop(watcher: Watcher, every: float, clock: Clock, as_of: date | None = None,
               max_ticks: int | None = None) -> WatchLoop:
    """The loop for ``watcher``, stopped cleanly by SIGTERM and Ctrl-C; runs it."""
    loop = WatchLoop(watcher.tick, watcher.signature, clock, every, as_of, watcher.idle)
    previous = {sig: signal.signal(sig, lambda *_: loop.stop())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        loop.run(max_ticks)
    except (InputError, PluginError, StateError) as exc:
        usage_error(str(exc))
    except SQLAlchemyError as exc:
        usage_error(str(write_failure(watcher.store.shown, exc)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        watcher.store.close()
    return loop


@click.command("watch")
@ruleset_argument
@click.option("--data", "data", multiple=True, type=DataInput(),
              help="An accounts input (as for run); repeat to join several.")
@click.option("--folder", type=click.Path(exists=True, file_okay=False), default=None,
              help="A folder of exports: a new or appended file triggers a re-decision; "
              "its files, in name order, are read as one input of --folder-source.")
@click.option("--folder-source", default="events", show_default=True,
              help="The source that reads the folder's exports ('' for plain files).")
@click.option("--every", default="15m", show_default=True,
              help="How often to look at the inputs: 30s, 15m, 1h, 1d.")
@click.option("--sink", "sinks", multiple=True, metavar="SINK",
              help="Deliver here (as for run). Default: every sink in the ruleset.")
@click.option("--as-of", type=IsoDate(), default=None,
              help="Decide as of this date (default: the local date at each look, as run).")
@encoding_option
@engine_option
@required_state_option
def watch_command(ruleset: str, data: tuple[str, ...], folder: str | None, folder_source: str,
                  every: str, sinks: tuple[str, ...], as_of: date | None, engine: str,
                  state: str) -> None:
    """Watch the inputs of RULESET; when they change, deliver the transitions.

    Every --every it looks at the --data files and the --folder; when a file is new,
    grown or touched (or the date changed), it re-decides the accounts whose inputs
    changed and delivers their transitions, exactly as run --state would (one
    transaction per look: log, state and outbox). SIGTERM or Ctrl-C stops it after
    the current look; a restart picks up from the store without duplicates or losses.
    """
    if not data and folder is None:
        click.echo("upsell-rules: error: watch needs --data or --folder", err=True)
        raise SystemExit(EXIT_USAGE)
    try:
        seconds = parse_interval(every)
    except ValueError as exc:
        usage_error(f"--every: {exc}")
    watcher = build_watcher(ruleset, data, folder, folder_source, sinks, state, engine)
    click.echo(f"watching {', '.join([*data, *([folder] if folder else [])])} every {every} "
               "(SIGTERM or Ctrl-C stops)", err=True)
    loop = watch_loop(watcher, seconds, SystemClock(), as_of)
    click.echo(f"watch stopped after {loop.ticks} look(s) with changes", err=True)
    raise SystemExit(EXIT_OK)
