"""Turn accounts into decision records: signals -> engine outcomes -> decision.

The engine only says which conditions hold. This module derives the signals, asks the
engine, and assembles the decision the same way for every engine: category scores, the
weighted score, caps, the band, gates, red flags, triggers, the action and a narrative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from upsell_rules.errors import PluginError, PluginTimeout, RecordError, UpsellRulesError
from upsell_rules.expr.nodes import Node, names_in
from upsell_rules.io.records import Account
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.guard import EXACT, blame, describe_value, failure_text, quick_fits
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import BatchPredicate, DeriveFn, Engine, Predicate
from upsell_rules.plugin.watchdog import PROGRESS
from upsell_rules.ruleset.model import Band, Play, RedFlag, Ruleset, SignalDef, Trigger
from upsell_rules.ruleset.templates import RenderLimitError, Template

BAND_ORDER = ("act_now", "warming", "monitor", "wait")


class EngineUnavailable(UpsellRulesError):
    """The chosen engine is not installed or cannot run on this machine."""


#: Outcome patterns whose :class:`Outline` is kept per evaluator, the first ones seen
#: (about 2 KB each, so at most ~32 MB). 100,000 generated accounts show about 14,000
#: patterns; with too few kept, building outlines costs more than it saves.
OUTLINE_CACHE = 16_384


@dataclass(frozen=True)
class Outline:
    """What a decision holds that follows from the condition outcomes alone.

    Shared between the accounts with the same outcomes: :meth:`Evaluator.assemble`
    copies the mutable parts into each record.
    """

    category_scores: dict[str, float]
    raw_score: float
    cap: float | None
    score: float
    band: Band
    blocked: bool
    red_flags: tuple[dict[str, Any], ...]
    gates: tuple[dict[str, Any], ...]
    triggers: tuple[tuple[str, str, Template | None], ...]
    upsell_types: tuple[str, ...]
    play_id: str
    play: Play
    owner: str
    frame: str
    prepare: tuple[str, ...]
    opening: str
    before_outreach: str


def pick_engine(registry: Registry, name: str | None) -> Engine:
    """The engine called ``name`` (default ``python``), or a clear error."""
    wanted = name or "python"
    engine = registry.engines.get(wanted)
    if engine is None:
        known = ", ".join(sorted(registry.engines))
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
        self.engine = engine if isinstance(engine, Engine) else pick_engine(self.registry, engine)
        rs = ruleset
        types = {name: sig.type for name, sig in rs.signals.items()}
        self.derivations: list[tuple[str, DeriveFn, str]] = []
        for sig in rs.signals.values():
            if sig.derive is not None:
                derivation = self.registry.derivations[sig.derive]
                fn = derivation.build(resolved_params(self.registry, sig))
                provider = self.registry.provider("derivation", sig.derive)
                self.derivations.append((sig.name, fn, provider))
            elif sig.when is not None:
                # A batch engine is slow one account at a time: named conditions, which
                # derivations read account by account, go to the python engine.
                named = (self.engine if self.engine.prepare_batch is None
                         else pick_engine(self.registry, "python"))
                single = named.prepare([sig.when.node], types)
                self.derivations.append((sig.name, _first(single), "ruleset"))
        self._derive = _chain(self.derivations, self._declared_types())
        # Constants are visible to templates; inputs and derived signals override nothing.
        self._base: dict[str, Any] = dict(rs.constants)

        # One flat list of conditions, in a fixed order the assembly below relies on.
        conditions: list[Node] = []
        self.categories: list[tuple[str, float, float, list[tuple[int, float]]]] = []
        for category in rs.categories:
            indexed = []
            for tier in category.tiers:
                indexed.append((len(conditions), tier.score))
                conditions.append(tier.when.node)
            # Best score first, so the first matching tier decides.
            indexed.sort(key=lambda pair: -pair[1])
            self.categories.append((category.name, category.weight, category.otherwise, indexed))
        self.gate_info: list[tuple[str, int, str, bool]] = []
        for gate in rs.gates:
            self.gate_info.append((gate.id, len(conditions), gate.play, gate.severity == "hard"))
            conditions.append(gate.require.node)
        self.flag_info: list[tuple[int, RedFlag]] = []
        for flag in rs.red_flags:
            self.flag_info.append((len(conditions), flag))
            conditions.append(flag.when.node)
        self.trigger_info: list[tuple[int, Trigger]] = []
        for trigger in rs.triggers:
            self.trigger_info.append((len(conditions), trigger))
            conditions.append(trigger.when.node)
        self.owner_index: dict[str, list[tuple[int | None, str]]] = {}
        for group, rules in rs.owners.items():
            entries: list[tuple[int | None, str]] = []
            for rule in rules:
                if rule.when is None:
                    entries.append((None, rule.role))
                else:
                    entries.append((len(conditions), rule.role))
                    conditions.append(rule.when.node)
            self.owner_index[group] = entries
        self.predicate: Predicate = self.engine.prepare(conditions, types)
        self.batch_predicate: BatchPredicate | None = (
            None if self.engine.prepare_batch is None
            else self.engine.prepare_batch(conditions, types)
        )
        self.inputs_used = inputs_used(rs, self.registry)
        self._inputs_set = frozenset(self.inputs_used)
        self.bands = rs.bands
        self.identity = rs.identity()
        self.hard_gates = {g.id for g in rs.gates if g.severity == "hard"}
        self._outlines: dict[tuple[bool, ...], Outline] = {}
        #: Accounts stopped by the plugin watchdog so far (the second stops the run).
        self.stalls = 0

    # --- per account ------------------------------------------------------------------

    def signals(self, account: Account, as_of: date) -> dict[str, Any]:
        """The account's input values plus every derived signal, in dependency order.

        Constants are included too (templates may use them); ``_as_of`` holds the date.
        """
        s: dict[str, Any] = {**self._base, **account.values}
        s["_as_of"] = as_of
        try:
            self._derive(s, as_of)
        except Exception:
            self._blame(s, as_of)
            raise
        return s

    def _blame(self, s: dict[str, Any], as_of: date) -> None:
        """Re-run derivations one by one to name the one that failed."""
        for name, fn, provider in self.derivations:
            try:
                s[name] = fn(s, as_of)
            except PluginError:
                raise
            except Exception as exc:  # a plugin bug must name the plugin, not crash the run
                raise PluginError(
                    f"derived signal '{name}' (plugin '{provider}') failed: "
                    f"{failure_text(exc)}"
                ) from exc

    def _declared_types(self) -> dict[str, str]:
        """Signal -> declared type, for the derived signals a plugin computes."""
        return {
            name: self.ruleset.signals[name].type
            for name, _fn, provider in self.derivations
            if provider != "ruleset"
        }

    def band_for(self, score: float) -> Band:
        """The band a score falls in (bands are sorted high to low)."""
        for band in self.bands:
            if score >= band.min:
                return band
        return self.bands[-1]

    def decide(self, account: Account, as_of: date) -> dict[str, Any]:
        """The decision record for one account."""
        PROGRESS[0] += 1
        s = self.signals(account, as_of)
        try:
            return self.assemble(account, s, self.predicate(s), as_of)
        except PluginError:
            raise
        except Exception as exc:  # plugin code deep inside (an engine): name the plugin
            culprit = blame(exc, self.registry)
            if culprit is None:
                raise
            raise PluginError(f"{culprit} failed: {failure_text(exc)}") from exc

    def assemble(
        self, account: Account, s: dict[str, Any], o: tuple[bool, ...], as_of: date
    ) -> dict[str, Any]:
        """Build the decision record from the engine's outcomes ``o``.

        Everything that depends on ``o`` alone (scores, band, gates, red flags, the
        action, the fixed sentences of the narrative) comes from :meth:`outline`, kept
        per outcome pattern; what reads the account's values (evidence, window,
        message, missing signals) is rendered here for each account. Nested parts are
        fresh objects in every record, so changing one record never changes another.
        """
        plan = self.outline_for(o)
        band = plan.band
        s["account_id"] = account.account_id
        s["account_name"] = account.account_name or account.account_id
        s["owner"] = account.owner
        s["score"] = plan.score
        s["band"] = band.title
        s["as_of"] = as_of

        evidence = self._evidence
        triggers = [
            {"id": tid, "upsell_type": kind, "evidence": evidence(template, kind, s)}
            for tid, kind, template in plan.triggers
        ]
        play = plan.play
        action: dict[str, Any] = {
            "play": plan.play_id,
            "title": play.title,
            "owner": plan.owner,
            "window": play.window.render(s),
        }
        if plan.frame:
            action["frame"] = plan.frame
        if plan.prepare:
            action["prepare"] = list(plan.prepare)

        parts = [plan.opening]
        shown = [t["evidence"] for t in triggers if t["evidence"]]
        if shown:
            parts.append("Signals: " + "; ".join(shown) + ".")
        if plan.before_outreach:
            parts.append(plan.before_outreach)
        if play.message is not None:
            parts.append(play.message.render(s))

        record = {
            "account_id": account.account_id,
            "account_name": account.account_name,
            "owner": account.owner,
            "plan": account.values.get("plan"),
            "as_of": as_of.isoformat(),
            "score": plan.score,
            "raw_score": plan.raw_score,
            "band": band.id,
            "blocked": plan.blocked,
            "category_scores": dict(plan.category_scores),
            "upsell_types": list(plan.upsell_types),
            "triggers": triggers,
            "gates": [dict(gate) for gate in plan.gates],
            "red_flags": [dict(flag) for flag in plan.red_flags],
            # Only a cap that lowered the score is recorded (a cap above it changed nothing).
            "capped_at": plan.cap if plan.raw_score > plan.score else None,
            "action": action,
            "narrative": " ".join(parts),
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

    def outline_for(self, o: Sequence[bool]) -> Outline:
        """:meth:`outline`, kept for the first :data:`OUTLINE_CACHE` outcome patterns."""
        key = o if type(o) is tuple else tuple(o)
        plan = self._outlines.get(key)
        if plan is None:
            plan = self.outline(key)
            if len(self._outlines) < OUTLINE_CACHE:
                self._outlines[key] = plan
        return plan

    def outline(self, o: tuple[bool, ...]) -> Outline:
        """The parts of a decision that follow from the outcomes ``o`` alone."""
        rs = self.ruleset
        category_scores: dict[str, float] = {}
        weighted = 0.0
        for name, weight, otherwise, tiers in self.categories:
            best = otherwise
            for index, score in tiers:
                if o[index]:
                    if score > best:
                        best = score
                    break
            category_scores[name] = best
            weighted += best * weight
        raw_score = round(weighted * rs.scale, 2)

        red_flags: list[dict[str, Any]] = []
        blockers: list[str] = []
        prepare: list[str] = []
        cap: float | None = None
        for index, flag in self.flag_info:
            if o[index]:
                red_flags.append({"id": flag.id, "effect": flag.effect, "play": flag.play})
                effect = flag.effect
                if effect == "block" and flag.play:
                    blockers.append(flag.play)
                elif effect == "cap" and flag.cap is not None:
                    cap = flag.cap if cap is None or flag.cap < cap else cap
                elif effect == "prepare" and flag.play:
                    prepare.append(flag.play)
        gates = [
            {"id": gid, "passed": o[index], "severity": "hard" if hard else "soft",
             "play": gate_play}
            for gid, index, gate_play, hard in self.gate_info
        ]
        for _gid, index, gate_play, hard in self.gate_info:
            if not o[index]:
                (blockers if hard else prepare).append(gate_play)

        score = raw_score if cap is None or raw_score <= cap else cap
        band = self.band_for(score)

        triggers: list[tuple[str, str, Template | None]] = []
        upsell_types: list[str] = []
        primary: Trigger | None = None
        for index, trigger in self.trigger_info:
            if o[index]:
                if primary is None:
                    primary = trigger
                kind = trigger.upsell_type
                triggers.append((trigger.id, kind, trigger.evidence))
                if kind not in upsell_types:
                    upsell_types.append(kind)

        blocked = bool(blockers)
        if blocked:
            play_id = blockers[0]
        elif band.outreach and primary is not None:
            play_id = primary.play
        else:
            play_id = band.play
        play = rs.plays[play_id]
        frame = play.frame
        if not frame and not blocked and primary is not None and play_id == primary.play:
            upsell_type = self.registry.upsell_types.get(primary.upsell_type)
            frame = upsell_type.frame if upsell_type is not None else ""
        # Preparatory steps come before outreach, so they matter only in an outreach band.
        steps: tuple[str, ...] = ()
        if prepare and not blocked and band.outreach:
            steps = tuple(p for p in dict.fromkeys(prepare) if p != play_id)

        shown_score = f"{_num(score)}/100"
        if cap is not None and raw_score > score:
            shown_score += f", capped from {_num(raw_score)}"
        if blocked:
            reasons = [flag["id"] for flag in red_flags if flag["effect"] == "block"]
            reasons += [g["id"] for g in gates if not g["passed"] and g["id"] in self.hard_gates]
            opening = (
                f"Blocked by {', '.join(reasons)}: {play.title} first "
                f"(timing score {shown_score}, {band.title} band)."
            )
        else:
            opening = f"{band.title} at {shown_score}."
        before = ""
        if steps:
            before = "Before outreach: " + "; ".join(rs.plays[p].title for p in steps) + "."

        return Outline(
            category_scores=category_scores,
            raw_score=raw_score,
            cap=cap,
            score=score,
            band=band,
            blocked=blocked,
            red_flags=tuple(red_flags),
            gates=tuple(gates),
            triggers=tuple(triggers),
            upsell_types=tuple(upsell_types),
            play_id=play_id,
            play=play,
            owner=self._owner(play, o),
            frame=frame,
            prepare=steps,
            opening=opening,
            before_outreach=before,
        )

    def _evidence(self, template: Template | None, upsell_type: str, values: dict[str, Any]) -> str:
        if template is not None:
            return template.render(values)
        kind = self.registry.upsell_types.get(upsell_type)
        if kind is not None and kind.describe is not None:
            try:
                described = kind.describe(values)
            except Exception as exc:  # a plugin bug costs this account, named
                raise PluginError(
                    f"upsell type '{upsell_type}' (plugin "
                    f"'{self.registry.provider('upsell type', upsell_type)}') failed in "
                    f"describe: {failure_text(exc)}"
                ) from exc
            if described is not None and not isinstance(described, str):
                raise PluginError(
                    f"upsell type '{upsell_type}' (plugin "
                    f"'{self.registry.provider('upsell type', upsell_type)}'): describe "
                    f"returned {describe_value(described)}; expected text or None"
                )
            if described:
                return described
        return ""

    def _owner(self, play: Play, o: tuple[bool, ...]) -> str:
        rules = self.owner_index.get(play.owner)
        if rules is None:
            return play.owner or "unassigned"
        for index, role in rules:
            if index is None or o[index]:
                return role
        return "unassigned"

    def evaluate_batch(
        self, items: Sequence[Account | RecordError], as_of: date
    ) -> list[tuple[bool, dict[str, Any] | RecordError]]:
        """Decide a batch of accounts: one ``(was_read_error, result)`` per item, in order.

        A record error in ``items`` is passed through as ``(True, error)``; an account
        whose derived signals fail (a plugin bug) becomes ``(False, error)``. Nothing is
        counted and no hook runs: :meth:`evaluate` does that around the batches.
        """
        if self.batch_predicate is not None:
            from upsell_rules.engine.batched import evaluate_batched

            return evaluate_batched(self, items, as_of, self.batch_predicate)
        out: list[tuple[bool, dict[str, Any] | RecordError]] = []
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
                s = signals(item, as_of)
                append((False, assemble(item, s, predicate(s), as_of)))
            except (PluginError, RenderLimitError) as exc:
                append((False, RecordError(item.location, str(exc), account_id=item.account_id)))
            except Exception as exc:
                # Plugin code (an engine, a function) failed deep inside: name the plugin.
                culprit = blame(exc, self.registry)
                if culprit is None:
                    raise
                message = f"{culprit} failed: {failure_text(exc)}"
                append((False, RecordError(item.location, message, account_id=item.account_id)))
            except PluginTimeout as exc:
                # A hang costs the account it happened in; a second one stops the run,
                # as every account would then wait the whole budget.
                self.stalls += 1
                if self.stalls > 1:
                    raise
                append((False, RecordError(item.location, str(exc), account_id=item.account_id)))
        return out


def resolved_params(registry: Registry, sig: SignalDef) -> dict[str, Any]:
    """A derived signal's parameters with the derivation's defaults filled in."""
    assert sig.derive is not None
    derivation = registry.derivations[sig.derive]
    params = {k: v.default for k, v in derivation.params.items() if v.default is not None}
    params.update(sig.params)
    return params


def inputs_used(ruleset: Ruleset, registry: Registry) -> tuple[str, ...]:
    """Input signals the rules read, directly or through derived signals (sorted)."""
    rs = ruleset
    wanted: set[str] = set()
    conditions = [
        *(t.when for c in rs.categories for t in c.tiers),
        *(g.require for g in rs.gates),
        *(f.when for f in rs.red_flags),
        *(t.when for t in rs.triggers),
        *(r.when for rules in rs.owners.values() for r in rules if r.when is not None),
    ]
    for cond in conditions:
        wanted.update(names_in(cond.node))
    stack = list(wanted)
    while stack:
        sig = rs.signals.get(stack.pop())
        if sig is None:
            continue
        reads: list[str] = []
        if sig.derive is not None:
            reads = list(registry.derivations[sig.derive].reads(resolved_params(registry, sig)))
        elif sig.when is not None:
            reads = names_in(sig.when.node)
        for dep in reads:
            if dep not in wanted:
                wanted.add(dep)
                stack.append(dep)
    return tuple(sorted(n for n in wanted if n in rs.signals and rs.signals[n].is_input))


def _chain(
    derivations: list[tuple[str, DeriveFn, str]], declared: dict[str, str] | None = None
) -> Callable[[dict[str, Any], date], None]:
    """One function that runs every derivation in order (no per-step loop overhead).

    A derived signal in ``declared`` (name -> type) is checked as it is computed: a
    value of another type raises :class:`PluginError` naming the derivation's plugin
    (a wrong type would make conditions silently wrong).
    """
    declared = declared or {}
    fns = [fn for _, fn, _ in derivations]
    if not fns:
        return lambda s, as_of: None
    # Unrolled straight-line calls: each derivation is a local, each name a constant.
    lines = ["def derive(s, as_of):"]
    namespace: dict[str, Any] = {"__builtins__": {"type": type}}
    for i, (name, _fn, provider) in enumerate(derivations):
        kind = declared.get(name)
        if kind is None:
            lines.append(f"    s[{name!r}] = f{i}(s, as_of)")
            continue
        namespace[f"t{i}"] = EXACT.get(kind, frozenset())
        namespace[f"c{i}"] = _type_check(name, provider, kind)
        lines += [
            f"    v = f{i}(s, as_of)",
            f"    if v is not None and type(v) not in t{i}: c{i}(v)",
            f"    s[{name!r}] = v",
        ]
    namespace.update({f"f{i}": fn for i, fn in enumerate(fns)})
    exec(compile("\n".join(lines) + "\n", "<upsell-rules derivations>", "exec"), namespace)
    derive: Callable[[dict[str, Any], date], None] = namespace["derive"]
    return derive


def _type_check(name: str, provider: str, kind: str) -> Callable[[Any], None]:
    """The slow check of a derived value whose exact type is not the usual one."""

    fits = quick_fits(kind)

    def check(value: Any) -> None:
        if not fits(value):
            raise PluginError(
                f"derived signal '{name}' (plugin '{provider}') returned "
                f"{describe_value(value)}; it declares {kind}"
            )

    return check


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _first(predicate: Predicate) -> DeriveFn:
    def named_condition(signals: Any, _as_of: date) -> bool:
        return predicate(signals)[0]

    return named_condition
