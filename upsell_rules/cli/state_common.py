"""Options and helpers for the commands that use the state store (``--state``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import click

from upsell_rules.cli.exits import usage_error
from upsell_rules.engine.stream import decide_all
from upsell_rules.io.delivery import SinkTarget
from upsell_rules.plugin.types import DeliveryReport
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.safetext import printable
from upsell_rules.state.errors import DEFAULT_STATE, StateError

if TYPE_CHECKING:
    from upsell_rules.state.store import StateStore

F = TypeVar("F", bound=Callable[..., Any])

#: ``--state`` falls back to this environment variable.
STATE_ENV = "UPSELL_RULES_STATE"

STATE_HELP = (
    "State store: a SQLite file (created if missing) or a SQLAlchemy URL "
    "(postgresql://...). Given without a value: .upsell-rules/state.db, which is also "
    "run's default (dry-run and explain only read it, when it exists). Also "
    f"${STATE_ENV}."
)


def state_option(func: F) -> F:
    """``--state [PATH|URL]``."""
    return click.option(
        "--state", "state", is_flag=False, flag_value=DEFAULT_STATE, default=None,
        envvar=STATE_ENV, metavar="PATH|URL", help=STATE_HELP,
    )(func)


def no_state_option(func: F) -> F:
    """``--no-state``: no store (it wins over ``--state`` and ``$UPSELL_RULES_STATE``)."""
    return click.option(
        "--no-state", "no_state", is_flag=True, default=False,
        help="Use no state store: run decides and delivers every decision and logs nothing; "
        "dry-run and explain show no statuses.",
    )(func)


def run_state(state: str | None, no_state: bool) -> str | None:
    """The store ``run`` uses: ``--state``, else ``$UPSELL_RULES_STATE``, else the default
    ``.upsell-rules/state.db``; None with ``--no-state``."""
    if no_state:
        return None
    return state if state is not None else DEFAULT_STATE


def read_state(state: str | None, no_state: bool) -> str | None:
    """The store ``dry-run`` and ``explain`` read: the one named, else the default one
    if it exists (they never create a store); None with ``--no-state``."""
    if no_state:
        return None
    if state is not None:
        return state
    return DEFAULT_STATE if os.path.exists(DEFAULT_STATE) else None


def required_state_option(func: F) -> F:
    """``--state PATH|URL`` for commands that only work on a store (default
    ``.upsell-rules/state.db``)."""
    return click.option(
        "--state", "state", default=DEFAULT_STATE, show_default=True, envvar=STATE_ENV,
        metavar="PATH|URL", help="State store: a SQLite file or a SQLAlchemy URL.",
    )(func)


def open_store(spec: str, *, create: bool = True) -> StateStore:
    """Open the store or exit with status 2 and a clear message."""
    from upsell_rules.state.store import StateStore  # SQLAlchemy: only with a store

    try:
        return StateStore.open(spec, create=create)
    except StateError as exc:
        usage_error(str(exc))


@contextlib.contextmanager
def changing(store: StateStore, leaves: str) -> Iterator[None]:
    """Exit 2 with a clear message, saying what is left (``leaves``), when a command
    cannot write the store (a read-only or full disk) instead of a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from upsell_rules.state.store import write_failure

    try:
        yield
    except SQLAlchemyError as exc:
        usage_error(str(write_failure(store.shown, exc, leaves)))


def read_only_store(spec: str) -> StateStore | None:
    """The store for ``dry-run``: opened without writing; None when it does not exist yet."""
    if "://" not in spec and not os.path.exists(spec):
        return None
    return open_store(spec, create=False)


def deliver_with_state(
    spec: str,
    rules: Ruleset,
    decisions: list[dict[str, Any]],
    inputs: dict[str, tuple[str, bytes]],
    targets: Sequence[SinkTarget],
    when: date,
    *,
    deliver: str,
    bands: Sequence[str],
    engine: str,
    data: Sequence[str],
    lock_wait: float,
    keep_inputs_days: int | None = None,
    keep_log_days: int | None = None,
    shadow: tuple[Ruleset | None, Any, list[Any]] | None = None,
    switch_ruleset: bool = False,
) -> tuple[list[tuple[SinkTarget, DeliveryReport]], dict[str, Any]]:
    """``run --state``: lock the store, record the run, deliver transitions.

    Returns the sink outcomes and the ``state`` block of the report.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from upsell_rules.state.daily import run_with_state
    from upsell_rules.state.store import write_failure

    store = open_store(spec)
    try:
        with store.lock(lock_wait):
            with open(rules.path, "rb") as handle:
                text = handle.read()
            result = run_with_state(
                store, rules, decisions, inputs, targets, when,
                deliver_all=deliver == "all", bands=bands, engine=engine, data=data,
                ruleset_text=text, switch_ruleset=switch_ruleset,
            )
            shadow_id, shadow_failed = None, 0
            if shadow is not None and shadow[0] is not None:
                shadow_id, shadow_failed = _record_shadow(store, shadow, inputs, when, engine,
                                                          data, result.run_id)
            pruned = 0
            if keep_inputs_days is not None:
                pruned = store.prune_inputs((when - timedelta(days=keep_inputs_days)).isoformat())
            log_pruned = None
            if keep_log_days is not None:
                from upsell_rules.state.retention import prune_log

                log_pruned = prune_log(store, (when - timedelta(days=keep_log_days)).isoformat())
    except StateError as exc:
        usage_error(str(exc))
    except SQLAlchemyError as exc:
        usage_error(str(write_failure(store.shown, exc)))
    finally:
        store.close()
    block = {
        "store": store.shown,
        "run_id": result.run_id,
        "statuses": result.counts(),
        "accounts": {k: v.status for k, v in sorted(result.planned.items())},
        "waiting_for_other_sinks": result.elsewhere,
        "not_decided": result.undecided,
        "inputs_pruned": pruned,
    }
    if result.ruleset_changed is not None:
        block["ruleset_changed"] = result.ruleset_changed
    if log_pruned is not None:
        block["log_pruned"] = {"decisions": log_pruned.decisions, "runs": log_pruned.runs,
                               "rulesets": log_pruned.rulesets}
    if shadow_id is not None:
        block["shadow_run_id"] = shadow_id
        block["shadow_failed"] = shadow_failed
    return result.outcomes, block


def _record_shadow(store: StateStore, shadow: tuple[Ruleset | None, Any, list[Any]],
                   inputs: dict[str, tuple[str, bytes]], when: date, engine: str,
                   data: Sequence[str], run_id: int) -> tuple[int, int]:
    """Decide the candidate on the run's accounts and log it as a shadow run.

    Records the candidate cannot decide are logged as the shadow run's failures (and
    counted in shadow-report). Returns the shadow run's id and how many failed.
    """
    from upsell_rules.engine.evaluate import Evaluator
    from upsell_rules.errors import RecordError, UpsellRulesError
    from upsell_rules.state.recorder import RunRecord, record_run

    candidate, registry, accounts = shadow
    assert candidate is not None
    try:
        evaluator = Evaluator(candidate, registry, engine)
    except UpsellRulesError as exc:
        usage_error(f"--shadow {candidate.path}: {exc}")
    decided: list[dict[str, Any]] = []
    failures: list[tuple[str, str, str]] = []
    for item in decide_all(evaluator, iter(accounts), when):
        if isinstance(item, RecordError):
            what = f"{item.field}: {item.message}" if item.field else item.message
            failures.append((item.account_id, str(item.location), what))
        else:
            decided.append(item)
    if failures:
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        click.echo(f"upsell-rules: --shadow {candidate.path}: {len(failures)} record(s) "
                   f"failed under the candidate: {failures[0][0]} ({failures[0][1]}): "
                   f"{failures[0][2]}{more}", err=True)
    with open(candidate.path, "rb") as handle:
        text = handle.read()
    record = RunRecord(
        as_of=when.isoformat(), identity=candidate.identity(), ruleset_text=text,
        ruleset_path=candidate.path, role="shadow", deliver="none", engine=engine,
        data=data, decisions=decided, inputs=inputs, planned={}, shadow_of=run_id,
        failures=failures,
    )
    return record_run(store, record), len(failures)


def state_lines(block: dict[str, Any]) -> list[str]:
    """The text report's lines about the store."""
    counts = ", ".join(f"{n} {word}" for word, n in block["statuses"].items())
    lines = [f"state {block['store']}: run {block['run_id']}: {counts}"]
    if block.get("ruleset_changed"):
        lines.append(f"state: {block['ruleset_changed']}")
    if "shadow_run_id" in block:
        failed = block.get("shadow_failed", 0)
        lines.append(f"state: shadow run {block['shadow_run_id']} logged beside run "
                     f"{block['run_id']} (nothing delivered for it"
                     + (f"; {failed} record(s) failed under the candidate)" if failed else ")"))
    if block.get("log_pruned", {}).get("decisions"):
        gone = block["log_pruned"]
        lines.append(f"state: decision log pruned: {gone['decisions']} rows, {gone['runs']} "
                     "run(s) dropped (--keep-log-days)")
    if block.get("not_decided"):
        gone = block["not_decided"]
        more = f" and {len(gone) - 10} more" if len(gone) > 10 else ""
        named = ", ".join(printable(a) for a in gone[:10])
        lines.append(f"state: {len(gone)} remembered account(s) not decided in this run (not "
                     f"in the data, or failed): {named}{more}; their state is kept and "
                     "nothing was delivered for them")
    for sink, count in block["waiting_for_other_sinks"].items():
        lines.append(f"state: {count} deliveries wait in the outbox for sink '{sink}' "
                     "(not in this run)")
    return lines


def annotate(decisions: list[dict[str, Any]], statuses: dict[str, str]) -> None:
    """Give each decision its ``state`` status (for the queue table and JSON output)."""
    for decision in decisions:
        status = statuses.get(str(decision.get("account_id")))
        if status is not None:
            decision["state"] = status


def with_statuses(spec: str, rules: Ruleset, decisions: list[Any], when: date) -> list[Any]:
    """``dry-run --state``: each decision with the status the store gives it, read-only.

    A store that does not exist yet gives every account the status ``new``. A date
    before the store's latest run gets no statuses (the store remembers later days,
    which would colour them), and a note on stderr says so.
    """
    from upsell_rules.state.daily import follows_another, outreach_bands
    from upsell_rules.state.transitions import Snapshot, plan

    store = read_only_store(spec)
    try:
        latest = store.latest_run() if store is not None else None
        if store is not None and latest is not None and when.isoformat() < latest[1]:
            click.echo(f"upsell-rules: note: no statuses from state store {store.shown}: "
                       f"--as-of {when.isoformat()} is before its latest run "
                       f"(run {latest[0]}, as of {latest[1]})", err=True)
            return decisions
        followed = follows_another(store, rules) if store is not None else None
        if store is not None and followed is not None:
            click.echo(f"upsell-rules: note: no statuses from state store {store.shown}: "
                       f"it follows ruleset '{followed[2]}' (run {followed[0]}), not "
                       f"'{rules.name}'", err=True)
            return decisions
        snapshot = store.snapshot() if store is not None else Snapshot()
    except StateError as exc:
        usage_error(str(exc))
    finally:
        if store is not None:
            store.close()
    decided = [d for d in decisions if isinstance(d, dict) and "action" in d]
    planned = plan(decided, snapshot, rules.memory, when, outreach_bands(rules))
    annotate(decided, {k: v.status for k, v in planned.items()})
    return decisions
