"""Turn accounts into decision records: signals -> engine outcomes -> decision.

The engine only says which conditions hold. This module derives the signals
(:mod:`~upsell_rules.engine.derive`), asks the engine, and assembles the decision the
same way for every engine from the outcomes' :class:`~upsell_rules.engine.outline.Outline`
(category scores, the weighted score, caps, the band, gates, red flags, triggers, the
action) plus what reads the account's own values (evidence, window, narrative).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import Any, TypeVar

from upsell_rules.engine.derive import (
    RULESET_PROVIDER,
    DerivationChain,
    build_derivations,
    inputs_used,
    resolved_params,
)
from upsell_rules.engine.outline import Outline, Outliner, band_for, lay_out
from upsell_rules.errors import PluginError, PluginTimeout, RecordError, UpsellRulesError
from upsell_rules.io.records import Account
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.guard import blame, describe_value, failure_text, frozen_view
from upsell_rules.plugin.registry import CORE_PLUGINS, Registry
from upsell_rules.plugin.types import BatchPredicate, Engine, Predicate
from upsell_rules.plugin.watchdog import PROGRESS
from upsell_rules.ruleset.model import Band, Ruleset
from upsell_rules.ruleset.templates import RenderLimitError, Template
from upsell_rules.sql.errors import NotCompilable

__all__ = [
    "AUTO",
    "BAND_ORDER",
    "OUTLINE_CACHE",
    "BatchResult",
    "EngineUnavailable",
    "Evaluator",
    "Outline",
    "inputs_used",
    "pick_engine",
    "resolved_params",
]

BAND_ORDER = ("act_now", "warming", "monitor", "wait")

_T = TypeVar("_T")


class EngineUnavailable(UpsellRulesError):
    """The chosen engine is not installed or cannot run on this machine."""


#: Outcome patterns whose :class:`Outline` is kept per evaluator, the first ones seen
#: (about 2 KB each, so at most ~32 MB). 100,000 generated accounts show about 14,000
#: patterns; with too few kept, building outlines costs more than it saves.
OUTLINE_CACHE = 16_384


#: One item of :meth:`Evaluator.evaluate_batch`: ``(read_error, result)``, the decision
#: or an error, and whether the error was a record that could not be read (rather than
#: an account that failed). A plain tuple on purpose: one is built and unpacked per
#: account, and a ``NamedTuple`` costs about 4,000 more instructions per account (a
#: Python-level ``__new__``, and unpacking a tuple subclass takes the generic iterator
#: path), measured with ``bench/instructions.py``.
BatchResult = tuple[bool, dict[str, Any] | RecordError]


#: The engine name that lets the run pick: the ``duckdb`` engine's columnar path where it
#: applies and pays (a large clean JSON Lines file, see ``engine/columnar.py``), else
#: ``python``.
AUTO = "auto"


def _on_frozen(predicate: Predicate) -> Predicate:
    """A plugin engine's predicate given a read-only view of the signals (lists as
    tuples): one that writes a signal or sorts a list raises, and that account fails
    naming the plugin, instead of changing what the record is made from."""
    return lambda values: predicate(frozen_view(values))


def _on_frozen_batch(predicate: BatchPredicate) -> BatchPredicate:
    """:func:`_on_frozen` for a batch predicate."""
    return lambda batch: predicate([frozen_view(values) for values in batch])


def pick_engine(registry: Registry, name: str | None) -> Engine:
    """The engine called ``name`` (default and ``auto``: ``python``), or a clear error."""
    wanted = name if name and name != AUTO else "python"
    engine = registry.engines.get(wanted)
    if engine is None:
        known = ", ".join(sorted([*registry.engines, AUTO]))
        raise EngineUnavailable(f"unknown engine '{wanted}' (available: {known})")
    reason = engine.available()
    if reason:
        raise EngineUnavailable(f"engine '{wanted}' cannot run here: {reason}")
    return engine


class Evaluator:
    """A ruleset prepared for evaluation by one engine; decides accounts one at a time."""

    def __init__(
        self,
        ruleset: Ruleset,
        registry: Registry | None = None,
        engine: str | Engine | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.registry = registry or default_registry()
        #: ``auto``: a stream of accounts may go to the fastest engine that can decide it.
        self.auto = engine == AUTO
        self.engine = engine if isinstance(engine, Engine) else pick_engine(self.registry, engine)
        # A batch engine is slow one account at a time: named conditions, which the
        # derivations read account by account, go to the python engine.
        named = (self.engine if self.engine.prepare_batch is None
                 else pick_engine(self.registry, "python"))
        self.derivations = build_derivations(ruleset, self.registry, named)
        lists = tuple(n for n, sig in ruleset.signals.items() if sig.type.endswith("_list"))
        self._chain = DerivationChain(self.derivations, self._declared_types(), lists)
        # Constants are visible to templates; inputs and derived signals override nothing.
        self._base: dict[str, Any] = dict(ruleset.constants)
        #: Every condition in one flat list, and where each rule's outcome sits in it.
        self.layout = lay_out(ruleset)
        #: Why the engine asked for did not decide (empty when it did): a ruleset
        #: using a plugin without a SQL form is decided by the python engine instead.
        self.fallback = ""
        self.predicate, self.batch_predicate = self._prepare()
        self._outliner = Outliner(ruleset, self.registry, self.layout)
        self.inputs_used = inputs_used(ruleset, self.registry)
        self._inputs_set = frozenset(self.inputs_used)
        self.bands = ruleset.bands
        self.identity = ruleset.identity()
        self._outlines: dict[tuple[bool, ...], Outline] = {}
        #: Accounts stopped by the plugin watchdog so far (the second stops the run).
        self.stalls = 0

    def _prepare(self) -> tuple[Predicate, BatchPredicate | None]:
        """The engine's predicates; the python engine's when this one cannot compile."""
        types = {name: sig.type for name, sig in self.ruleset.signals.items()}
        conditions = self.layout.conditions
        try:
            batch = (None if self.engine.prepare_batch is None
                     else self.engine.prepare_batch(conditions, types))
            predicate = self.engine.prepare(conditions, types)
        except NotCompilable as exc:
            self.fallback = f"not {self.engine.name}: {exc}"
            self.engine = pick_engine(self.registry, "python")
            return self.engine.prepare(conditions, types), None
        if self.registry.provider("engine", self.engine.name) in CORE_PLUGINS:
            return predicate, batch
        return _on_frozen(predicate), None if batch is None else _on_frozen_batch(batch)

    def _declared_types(self) -> dict[str, str]:
        """Signal -> declared type, for the derived signals a plugin computes."""
        return {
            derivation.name: self.ruleset.signals[derivation.name].type
            for derivation in self.derivations
            if derivation.provider != RULESET_PROVIDER
        }

    # --- per account ------------------------------------------------------------------

    def signals(self, account: Account, as_of: date) -> dict[str, Any]:
        """The account's input values plus every derived signal, in dependency order.

        Constants are included too (templates may use them); ``_as_of`` holds the date.
        A derivation that fails raises :class:`PluginError` naming it.
        """
        values: dict[str, Any] = {**self._base, **account.values}
        values["_as_of"] = as_of
        try:
            self._chain.run(values, as_of)
        except Exception as exc:
            named = self._chain.failed(exc)
            if named is None:
                raise
            raise named from exc
        return values

    def band_for(self, score: float) -> Band:
        """The band a score falls in (bands are sorted high to low)."""
        return band_for(self.bands, score)

    def decide(self, account: Account, as_of: date) -> dict[str, Any]:
        """The decision record for one account."""
        PROGRESS[0] += 1
        values = self.signals(account, as_of)
        return self._blaming(lambda: self.assemble(account, values, self.predicate(values), as_of))

    def outline_on(self, account: Account, as_of: date) -> Outline:
        """What :meth:`decide` would hold that follows from the outcomes alone (blocked,
        cap, gates, red flags...), without building the record."""
        PROGRESS[0] += 1
        values = self.signals(account, as_of)
        return self._blaming(lambda: self.outline_for(self.predicate(values)))

    def _blaming(self, step: Callable[[], _T]) -> _T:
        """``step()``; plugin code failing deep inside (an engine) is named."""
        try:
            return step()
        except PluginError:
            raise
        except Exception as exc:
            culprit = blame(exc, self.registry)
            if culprit is None:
                raise
            raise PluginError(f"{culprit} failed: {failure_text(exc)}") from exc

    def assemble(
        self, account: Account, values: dict[str, Any], outcomes: tuple[bool, ...], as_of: date
    ) -> dict[str, Any]:
        """Build the decision record from the engine's ``outcomes``.

        Everything that depends on the outcomes alone (scores, band, gates, red flags,
        the action, the fixed sentences of the narrative) comes from :meth:`outline`,
        kept per outcome pattern; what reads the account's values (evidence, window,
        message, missing signals) is rendered here for each account. Nested parts are
        fresh objects in every record, so changing one record never changes another.
        """
        plan = self.outline_for(outcomes)
        values["account_id"] = account.account_id
        values["account_name"] = account.account_name or account.account_id
        values["owner"] = account.owner
        values["score"] = plan.score
        values["band"] = plan.band.title
        values["as_of"] = as_of
        evidence = self._evidence
        triggers = [
            {"id": hit.id, "upsell_type": hit.upsell_type,
             "evidence": evidence(hit.evidence, hit.upsell_type, values)}
            for hit in plan.triggers
        ]
        record = {
            "account_id": account.account_id,
            "account_name": account.account_name,
            "owner": account.owner,
            "plan": account.values.get("plan"),
            "as_of": as_of.isoformat(),
            "score": plan.score,
            "raw_score": plan.raw_score,
            "band": plan.band.id,
            "blocked": plan.blocked,
            "category_scores": dict(plan.category_scores),
            "upsell_types": list(plan.upsell_types),
            "triggers": triggers,
            "gates": [dict(gate) for gate in plan.gates],
            "red_flags": [dict(flag) for flag in plan.red_flags],
            "capped_at": plan.capped_at,
            "action": _action(plan, values),
            "narrative": _narrative(plan, triggers, values),
            "missing_signals": sorted(self._inputs_set.difference(account.values)),
            "ruleset": self.identity,
        }
        if account.warnings:
            # Only when there are some, so records of clean data stay as they were.
            where = str(account.location)
            record["data_warnings"] = [
                {**w.to_dict(), "location": where} for w in account.warnings
            ]
        return record

    def base_values(self) -> dict[str, Any]:
        """What every account's values start from (the ruleset's constants), a copy."""
        return dict(self._base)

    def assemble_guarded(
        self, account: Account, values: dict[str, Any], outcomes: tuple[bool, ...],
        as_of: date,
    ) -> dict[str, Any] | RecordError:
        """:meth:`assemble`, with a plugin's failure (an upsell type's ``describe``, a
        template too long) made the account's error as :meth:`evaluate_batch` makes it."""
        return self._guarded(account, partial(self.assemble, account, values, outcomes, as_of))

    def outline_for(self, outcomes: Sequence[bool]) -> Outline:
        """:meth:`outline`, kept for the first :data:`OUTLINE_CACHE` outcome patterns."""
        key = outcomes if type(outcomes) is tuple else tuple(outcomes)
        plan = self._outlines.get(key)
        if plan is None:
            plan = self.outline(key)
            if len(self._outlines) < OUTLINE_CACHE:
                self._outlines[key] = plan
        return plan

    def outline(self, outcomes: tuple[bool, ...]) -> Outline:
        """The parts of a decision that follow from ``outcomes`` alone."""
        return self._outliner.outline(outcomes)

    def _evidence(
        self, template: Template | None, upsell_type: str, values: dict[str, Any]
    ) -> str:
        if template is not None:
            return template.render(values)
        kind = self.registry.upsell_types.get(upsell_type)
        if kind is None or kind.describe is None:
            return ""
        try:
            described = kind.describe(frozen_view(values))
        except Exception as exc:  # a plugin bug costs this account, named
            raise PluginError(
                f"{self._upsell_type_plugin(upsell_type)} failed in describe: "
                f"{failure_text(exc)}"
            ) from exc
        if described is not None and not isinstance(described, str):
            raise PluginError(
                f"{self._upsell_type_plugin(upsell_type)}: describe returned "
                f"{describe_value(described)}; expected text or None"
            )
        return described or ""

    def _upsell_type_plugin(self, upsell_type: str) -> str:
        provider = self.registry.provider("upsell type", upsell_type)
        return f"upsell type '{upsell_type}' (plugin '{provider}')"

    def evaluate_batch(
        self, items: Sequence[Account | RecordError], as_of: date
    ) -> list[BatchResult]:
        """Decide a batch of accounts: one :data:`BatchResult` per item, in order.

        A record error in ``items`` is passed through with ``read_error`` set; an account
        whose derived signals fail (a plugin bug) becomes an error without it. Nothing is
        counted and no hook runs: the stream runner does that around the batches.
        """
        if self.batch_predicate is not None:
            return self._evaluate_batched(items, as_of, self.batch_predicate)
        out: list[BatchResult] = []
        append = out.append
        progress = PROGRESS  # the command-wide watchdog's counter: one step per account
        signals = self.signals
        predicate = self.predicate
        assemble = self.assemble
        for item in items:
            progress[0] += 1
            if isinstance(item, RecordError):
                append((True, item))
                continue
            try:
                values = signals(item, as_of)
                append((False, assemble(item, values, predicate(values), as_of)))
            except (PluginError, RenderLimitError) as exc:
                append((False, _account_error(item, str(exc))))
            except Exception as exc:
                # Plugin code (an engine, a function) failed deep inside: name the plugin.
                culprit = blame(exc, self.registry)
                if culprit is None:
                    raise
                message = f"{culprit} failed: {failure_text(exc)}"
                append((False, _account_error(item, message)))
            except PluginTimeout as exc:
                # A hang costs the account it happened in; a second one stops the run,
                # as every account would then wait the whole budget.
                self.stalls += 1
                if self.stalls > 1:
                    raise
                append((False, _account_error(item, str(exc))))
        return out


    def _evaluate_batched(
        self, items: Sequence[Account | RecordError], as_of: date, batch: BatchPredicate
    ) -> list[BatchResult]:
        """:meth:`evaluate_batch` for a batch engine (``Engine.prepare_batch``): signals
        for every account, one call for all outcomes, then the records; the same
        results, errors included."""
        staged: list[tuple[Account | RecordError, dict[str, Any] | RecordError | None]] = []
        for item in items:
            PROGRESS[0] += 1
            if isinstance(item, RecordError):
                staged.append((item, None))
            else:
                staged.append((item, self._guarded(item, partial(self.signals, item, as_of))))
        outcomes = iter(batch([s for _item, s in staged if isinstance(s, dict)]))
        out: list[BatchResult] = []
        for item, s in staged:
            if isinstance(item, RecordError):
                out.append((True, item))
            elif isinstance(s, dict):
                record = partial(self.assemble, item, s, next(outcomes), as_of)
                out.append((False, self._guarded(item, record)))
            else:
                assert isinstance(s, RecordError)
                out.append((False, s))
        return out

    def _guarded(
        self, item: Account, step: Callable[[], dict[str, Any]]
    ) -> dict[str, Any] | RecordError:
        """``step()``, or the record error :meth:`evaluate_batch` makes of its failure."""
        try:
            return step()
        except (PluginError, RenderLimitError) as exc:
            return _account_error(item, str(exc))
        except Exception as exc:
            culprit = blame(exc, self.registry)
            if culprit is None:
                raise
            return _account_error(item, f"{culprit} failed: {failure_text(exc)}")
        except PluginTimeout as exc:
            self.stalls += 1
            if self.stalls > 1:
                raise
            return _account_error(item, str(exc))


def _account_error(account: Account, message: str) -> RecordError:
    return RecordError(account.location, message, account_id=account.account_id)


def _action(plan: Outline, values: dict[str, Any]) -> dict[str, Any]:
    """The record's ``action``: the play, who owns it, its window and framing."""
    play = plan.play
    action: dict[str, Any] = {
        "play": plan.play_id,
        "title": play.title,
        "owner": plan.owner,
        "window": play.window.render(values),
    }
    if plan.frame:
        action["frame"] = plan.frame
    if plan.prepare:
        action["prepare"] = list(plan.prepare)
    return action


def _narrative(plan: Outline, triggers: list[dict[str, Any]], values: dict[str, Any]) -> str:
    """The record's ``narrative``: opening, the evidence shown, preparation, message."""
    parts = [plan.opening]
    shown = [trigger["evidence"] for trigger in triggers if trigger["evidence"]]
    if shown:
        parts.append("Signals: " + "; ".join(shown) + ".")
    if plan.before_outreach:
        parts.append(plan.before_outreach)
    message = plan.play.message
    if message is not None:
        parts.append(message.render(values))
    return " ".join(parts)
