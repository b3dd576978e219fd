"""Turn accounts into decision records: signals -> engine outcomes -> decision.

The engine only says which conditions hold. This module derives the signals, asks the
engine, and assembles the decision the same way for every engine: category scores, the
weighted score, caps, the band, gates, red flags, triggers, the action and a narrative.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.engines import Engine, Predicate
from upsell_rules.errors import PluginError, RecordError, UpsellRulesError
from upsell_rules.expr.nodes import names_in
from upsell_rules.extensions import DeriveFn
from upsell_rules.model import Band, Play, Ruleset
from upsell_rules.records import Account
from upsell_rules.registry import Registry, default_registry

BAND_ORDER = ("act_now", "warming", "monitor", "wait")


class EngineUnavailable(UpsellRulesError):
    """The chosen engine is not installed or cannot run on this machine."""


@dataclass
class Summary:
    """Counts for one run: records read, decided, failed (they always add up)."""

    read: int = 0
    decided: int = 0
    failed: int = 0
    bands: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """The one-line summary printed after a run."""
        bands = ", ".join(f"{k} {v}" for k, v in self.bands.items())
        text = f"read {self.read}, decided {self.decided}, failed {self.failed}"
        return f"{text} ({bands})" if bands else text


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
        self.derivations: list[tuple[str, DeriveFn, str]] = []
        for sig in rs.signals.values():
            if sig.derive is not None:
                derivation = self.registry.derivations[sig.derive]
                params = {
                    k: v.default for k, v in derivation.params.items() if v.default is not None
                }
                params.update(sig.params)
                fn = derivation.build(params)
                self.derivations.append((sig.name, fn, self.registry.provider("derivation", sig.derive)))
            elif sig.when is not None:
                single = self.engine.prepare([sig.when.node], self._types())
                self.derivations.append((sig.name, _first(single), "ruleset"))
        # One flat list of conditions, in a fixed order the assembly below relies on.
        conditions = []
        self.tier_slices: list[tuple[int, int]] = []
        for category in rs.categories:
            start = len(conditions)
            conditions.extend(t.when.node for t in category.tiers)
            self.tier_slices.append((start, len(conditions)))
        self.gate_start = len(conditions)
        conditions.extend(g.require.node for g in rs.gates)
        self.flag_start = len(conditions)
        conditions.extend(f.when.node for f in rs.red_flags)
        self.trigger_start = len(conditions)
        conditions.extend(t.when.node for t in rs.triggers)
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
        self.predicate: Predicate = self.engine.prepare(conditions, self._types())
        self.inputs_used = self._inputs_used()
        self.bands = rs.bands
        self.identity = rs.identity()

    def _types(self) -> dict[str, str]:
        return {name: sig.type for name, sig in self.ruleset.signals.items()}

    def _inputs_used(self) -> tuple[str, ...]:
        """Input signals the rules read, directly or through derived signals."""
        rs = self.ruleset
        wanted: set[str] = set()
        conditions = [
            *(t.when for c in rs.categories for t in c.tiers),
            *(g.require for g in rs.gates),
            *(f.when for f in rs.red_flags),
            *(t.when for t in rs.triggers),
        ]
        for cond in conditions:
            wanted.update(names_in(cond.node))
        stack = list(wanted)
        while stack:
            name = stack.pop()
            sig = rs.signals.get(name)
            if sig is None:
                continue
            reads: list[str] = []
            if sig.derive is not None:
                reads = list(self.registry.derivations[sig.derive].reads(_params(self, name)))
            elif sig.when is not None:
                reads = names_in(sig.when.node)
            for dep in reads:
                if dep not in wanted:
                    wanted.add(dep)
                    stack.append(dep)
        return tuple(sorted(n for n in wanted if n in rs.signals and rs.signals[n].is_input))

    # --- per account ------------------------------------------------------------------

    def signals(self, account: Account, as_of: date) -> dict[str, Any]:
        """The account's input values plus every derived signal, in dependency order."""
        s: dict[str, Any] = dict(account.values)
        s["_as_of"] = as_of
        for name, fn, provider in self.derivations:
            try:
                s[name] = fn(s, as_of)
            except Exception as exc:  # a plugin bug must name the plugin, not crash the run
                raise PluginError(
                    f"derived signal '{name}' (plugin '{provider}') failed: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        return s

    def band_for(self, score: float) -> Band:
        """The band a score falls in (bands are sorted high to low)."""
        for band in self.bands:
            if score >= band.min:
                return band
        return self.bands[-1]

    def decide(self, account: Account, as_of: date) -> dict[str, Any]:
        """The decision record for one account."""
        s = self.signals(account, as_of)
        outcome = self.predicate(s)
        return self.assemble(account, s, outcome, as_of)

    def assemble(
        self, account: Account, s: dict[str, Any], outcome: tuple[bool, ...], as_of: date
    ) -> dict[str, Any]:
        """Build the decision record from the engine's outcomes."""
        rs = self.ruleset
        category_scores: dict[str, float] = {}
        weighted = 0.0
        for category, (start, end) in zip(rs.categories, self.tier_slices, strict=True):
            best = category.otherwise
            for tier, hit in zip(category.tiers, outcome[start:end], strict=True):
                if hit and tier.score > best:
                    best = tier.score
            category_scores[category.name] = best
            weighted += best * category.weight
        raw_score = round(weighted * rs.scale, 2)

        gates: list[dict[str, Any]] = []
        blockers: list[str] = []
        prepare: list[str] = []
        flag_blockers: list[str] = []
        red_flags: list[dict[str, Any]] = []
        cap: float | None = None
        base = self.flag_start
        for index, flag in enumerate(rs.red_flags):
            if not outcome[base + index]:
                continue
            red_flags.append({"id": flag.id, "effect": flag.effect, "play": flag.play})
            if flag.effect == "block" and flag.play:
                flag_blockers.append(flag.play)
            elif flag.effect == "cap" and flag.cap is not None:
                cap = flag.cap if cap is None else min(cap, flag.cap)
            elif flag.effect == "prepare" and flag.play:
                prepare.append(flag.play)
        base = self.gate_start
        for index, gate in enumerate(rs.gates):
            passed = outcome[base + index]
            gates.append({"id": gate.id, "passed": passed, "play": gate.play})
            if not passed:
                if gate.severity == "hard":
                    blockers.append(gate.play)
                else:
                    prepare.append(gate.play)
        blockers = flag_blockers + blockers

        score = raw_score if cap is None else min(raw_score, cap)
        band = self.band_for(score)

        triggers: list[dict[str, Any]] = []
        upsell_types: list[str] = []
        base = self.trigger_start
        render_values = None
        for index, trigger in enumerate(rs.triggers):
            if not outcome[base + index]:
                continue
            if render_values is None:
                render_values = self._render_values(account, s, score, band, as_of)
            evidence = self._evidence(trigger.evidence, trigger.upsell_type, render_values)
            triggers.append(
                {"id": trigger.id, "upsell_type": trigger.upsell_type, "evidence": evidence}
            )
            if trigger.upsell_type not in upsell_types:
                upsell_types.append(trigger.upsell_type)

        blocked = bool(blockers)
        if blocked:
            play_id = blockers[0]
        elif band.outreach and triggers:
            play_id = rs.triggers[[t.id for t in rs.triggers].index(triggers[0]["id"])].play
        else:
            play_id = band.play
        if render_values is None:
            render_values = self._render_values(account, s, score, band, as_of)
        play = rs.plays[play_id]
        action: dict[str, Any] = {
            "play": play_id,
            "title": play.title,
            "owner": self._owner(play, outcome),
            "window": play.window.render(render_values),
        }
        prepare = list(dict.fromkeys(p for p in prepare if p != play_id))
        if prepare and not blocked:
            action["prepare"] = prepare

        decision: dict[str, Any] = {
            "account_id": account.account_id,
            "account_name": account.account_name,
            "owner": account.owner,
            "as_of": as_of.isoformat(),
            "score": score,
            "raw_score": raw_score,
            "band": band.id,
            "blocked": blocked,
            "category_scores": category_scores,
            "upsell_types": upsell_types,
            "triggers": triggers,
            "gates": gates,
            "red_flags": red_flags,
            "capped_at": cap,
            "action": action,
            "narrative": "",
            "missing_signals": [n for n in self.inputs_used if n not in account.values],
            "ruleset": self.identity,
        }
        decision["narrative"] = self._narrative(decision, band, play, render_values)
        return decision

    def _render_values(
        self, account: Account, s: dict[str, Any], score: float, band: Band, as_of: date
    ) -> dict[str, Any]:
        values = dict(self.ruleset.constants)
        values.update(s)
        values["account_id"] = account.account_id
        values["account_name"] = account.account_name or account.account_id
        values["owner"] = account.owner
        values["score"] = score
        values["band"] = band.title
        values["as_of"] = as_of
        return values

    def _evidence(self, template: Any, upsell_type: str, values: dict[str, Any]) -> str:
        if template is not None:
            text: str = template.render(values)
            return text
        kind = self.registry.upsell_types.get(upsell_type)
        if kind is not None and kind.describe is not None:
            described = kind.describe(values)
            if described:
                return described
        return ""

    def _owner(self, play: Play, outcome: tuple[bool, ...]) -> str:
        rules = self.owner_index.get(play.owner)
        if rules is None:
            return play.owner or "unassigned"
        for index, role in rules:
            if index is None or outcome[index]:
                return role
        return "unassigned"

    def _narrative(
        self, decision: dict[str, Any], band: Band, play: Play, values: dict[str, Any]
    ) -> str:
        parts = [f"{band.title} at {_num(decision['score'])}/100"]
        if decision["capped_at"] is not None and decision["raw_score"] > decision["score"]:
            parts[0] += f" (capped from {_num(decision['raw_score'])})"
        parts[0] += "."
        evidence = [t["evidence"] for t in decision["triggers"] if t["evidence"]]
        if evidence:
            parts.append("Signals: " + "; ".join(evidence) + ".")
        rs = self.ruleset
        if decision["blocked"]:
            reasons = [f["id"] for f in decision["red_flags"] if f["effect"] == "block"]
            reasons += [g["id"] for g in decision["gates"] if not g["passed"] and _hard(rs, g["id"])]
            parts.append(f"Blocked by {', '.join(reasons)}: {play.title.lower()} first.")
        elif decision["action"].get("prepare"):
            steps = [rs.plays[p].title.lower() for p in decision["action"]["prepare"]]
            parts.append("Before outreach: " + "; ".join(steps) + ".")
        if play.message is not None:
            parts.append(play.message.render(values))
        return " ".join(parts)

    def evaluate(
        self, items: Iterable[Account | RecordError], as_of: date, summary: Summary | None = None
    ) -> Iterator[dict[str, Any] | RecordError]:
        """Decide every account in ``items``; pass record errors through, counted."""
        summary = summary if summary is not None else Summary()
        failed_at: set[Any] = set()
        for item in items:
            if isinstance(item, RecordError):
                if item.location not in failed_at:
                    failed_at.add(item.location)
                    summary.read += 1
                    summary.failed += 1
                yield item
                continue
            summary.read += 1
            try:
                decision = self.decide(item, as_of)
            except PluginError as exc:
                summary.failed += 1
                yield RecordError(item.location, str(exc), account_id=item.account_id)
                continue
            summary.decided += 1
            summary.bands[decision["band"]] = summary.bands.get(decision["band"], 0) + 1
            yield decision


def _hard(ruleset: Ruleset, gate_id: str) -> bool:
    return any(g.id == gate_id and g.severity == "hard" for g in ruleset.gates)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _params(evaluator: Evaluator, name: str) -> dict[str, Any]:
    sig = evaluator.ruleset.signals[name]
    assert sig.derive is not None
    derivation = evaluator.registry.derivations[sig.derive]
    params = {k: v.default for k, v in derivation.params.items() if v.default is not None}
    params.update(sig.params)
    return params


def _first(predicate: Predicate) -> DeriveFn:
    def named_condition(signals: Any, _as_of: date) -> bool:
        return predicate(signals)[0]

    return named_condition
