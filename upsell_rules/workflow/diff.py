"""What a ruleset change does to real accounts: band transitions and the reason for each move.

Both versions decide the same accounts on the same date. Every account whose band or
blocked state differs is explained by comparing the two decisions rule by rule: which
category tier won, which gates passed, which red flags fired, which cap applied. Each
difference is tied back to the edits that can cause it (a constant named in the rule's
condition, the rule's own settings, band boundaries, weights), found by a structural diff
of the two files that names list items by id, in the same notation ``--set`` takes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.explain import Check, explain
from upsell_rules.errors import PluginError, RecordError
from upsell_rules.io.queue import status_of
from upsell_rules.io.records import Account
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.workflow.diff_detail import detail_lines, differs, moved_signals

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MISSING = object()


# --- structural diff of the two files ------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One edit between the two rulesets, at a dotted path (``constants.health_floor``)."""

    path: str
    before: Any
    after: Any

    def __str__(self) -> str:
        if self.before is _MISSING:
            return f"{self.path}: added" + (
                f" ({_show(self.after)})" if not isinstance(self.after, dict | list) else ""
            )
        if self.after is _MISSING:
            return f"{self.path}: removed"
        return f"{self.path}: {_show(self.before)} -> {_show(self.after)}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``null`` for the side where the path does not exist)."""
        return {
            "path": self.path,
            "before": None if self.before is _MISSING else self.before,
            "after": None if self.after is _MISSING else self.after,
            "text": str(self),
        }


def _show(value: Any) -> str:
    if isinstance(value, str):
        text = " ".join(value.split())
        return repr(text if len(text) <= 70 else text[:67] + "...")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)[:70]
    return str(value).lower() if isinstance(value, bool) else str(value)


def _by_id(items: list[Any]) -> dict[str, Any] | None:
    if not items or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        return None
    keyed = {i["id"]: i for i in items}
    return keyed if len(keyed) == len(items) else None


def structural_changes(old: Any, new: Any, prefix: str = "") -> list[Change]:
    """Every difference between two loaded documents, list items matched by ``id``."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for key in [*old, *(k for k in new if k not in old)]:
            path = f"{prefix}.{key}" if prefix else str(key)
            out += structural_changes(old.get(key, _MISSING), new.get(key, _MISSING), path)
        return out
    if isinstance(old, list) and isinstance(new, list):
        old_ids, new_ids = _by_id(old), _by_id(new)
        if old_ids is not None and new_ids is not None:
            out = []
            for key in [*old_ids, *(k for k in new_ids if k not in old_ids)]:
                out += structural_changes(
                    old_ids.get(key, _MISSING), new_ids.get(key, _MISSING), f"{prefix}.{key}"
                )
            return out
        if len(old) == len(new):
            out = []
            for index, (a, b) in enumerate(zip(old, new, strict=True)):
                out += structural_changes(a, b, f"{prefix}.{index}")
            return out
    if old is _MISSING and new is _MISSING:
        return []
    same_type = type(old) is type(new) or (
        isinstance(old, int | float) and isinstance(new, int | float)
        and not isinstance(old, bool) and not isinstance(new, bool)
    )
    if same_type and old == new:
        return []
    return [Change(prefix, old, new)]


# --- per-account outcomes ------------------------------------------------------------------


@dataclass
class Outcome:
    """What each rule did for one account under one ruleset."""

    decision: dict[str, Any]
    winners: dict[str, tuple[str | None, float]]
    tiers: dict[tuple[str, str], bool | None]
    gates: dict[str, bool]
    flags: dict[str, bool]


def outcome(evaluator: Evaluator, account: Account, as_of: date) -> Outcome:
    """Decide ``account`` and record every rule's result (through ``explain``, without
    the clearing dates diff does not show)."""
    ex = explain(evaluator, account, as_of, dates=False)
    winners: dict[str, tuple[str | None, float]] = {}
    tiers: dict[tuple[str, str], bool | None] = {}
    by_category: dict[str, list[Check]] = {}
    for check in ex.checks:
        if check.kind == "tier":
            by_category.setdefault(check.detail["category"], []).append(check)
            tiers[(check.detail["category"], check.id)] = check.result
    for category in evaluator.ruleset.categories:
        matched = [c for c in by_category.get(category.name, []) if c.result is True]
        best = max(matched, key=lambda c: c.detail["score"], default=None)
        if best is None:
            winners[category.name] = (None, category.otherwise)
        else:
            winners[category.name] = (best.id, float(best.detail["score"]))
    gates = {c.id: c.result is True for c in ex.checks if c.kind == "gate"}
    flags = {c.id: c.result is True for c in ex.checks if c.kind == "red_flag"}
    return Outcome(ex.decision, winners, tiers, gates, flags)


@dataclass(frozen=True)
class Reason:
    """One rule whose outcome differs, and the edits that can explain it."""

    kind: str
    id: str
    text: str
    because: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"kind": self.kind, "id": self.id, "text": self.text,
                "because": list(self.because)}


@dataclass
class AccountChange:
    """An account whose band or blocked state differs between the two rulesets."""

    account_id: str
    account_name: str
    before: dict[str, Any]
    after: dict[str, Any]
    reasons: list[Reason]
    #: Score, triggers, play, flags and gates that differ (:func:`detail_lines`).
    details: list[str] = field(default_factory=list)
    #: With two exports or dates: the account's signals that moved.
    signals: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "account_id": self.account_id,
            "account_name": self.account_name,
            "before": _brief(self.before),
            "after": _brief(self.after),
            "reasons": [r.to_dict() for r in self.reasons],
            "details": self.details,
            "signals_moved": self.signals,
        }


def _brief(decision: dict[str, Any]) -> dict[str, Any]:
    return {
        "score": decision["score"],
        "band": decision["band"],
        "blocked": decision["blocked"],
        "status": status(decision),
        "play": decision["action"]["play"],
        "capped_at": decision["capped_at"],
    }


def status(decision: dict[str, Any]) -> str:
    """``blocked``, ``prep``, ``ready`` or ``-``: the queue's status column."""
    return status_of(decision)


class _Relevance:
    """Finds the edits that can change one rule's outcome."""

    def __init__(self, changes: list[Change], old: Ruleset, new: Ruleset) -> None:
        self.changes = changes
        self.rulesets = (old, new)

    def words(self, texts: Iterable[str]) -> set[str]:
        """Every name a condition reads, following named conditions and derived signals."""
        seen: set[str] = set()
        stack = [w for text in texts for w in _WORD.findall(text)]
        while stack:
            word = stack.pop()
            if word in seen:
                continue
            seen.add(word)
            for ruleset in self.rulesets:
                sig = ruleset.signals.get(word)
                if sig is None:
                    continue
                if sig.when is not None:
                    stack += _WORD.findall(sig.when.source)
                for value in sig.params.values():
                    items = value if isinstance(value, list) else [value]
                    stack += [str(v) for v in items if isinstance(v, str)]
        return seen

    def because(self, prefix: str, texts: Iterable[str]) -> tuple[str, ...]:
        words = self.words(texts)
        out = []
        for change in self.changes:
            head, _, rest = change.path.partition(".")
            name = rest.split(".")[0]
            if (
                change.path == prefix
                or change.path.startswith(prefix + ".")
                or (head in ("constants", "signals") and name in words)
            ):
                out.append(str(change))
        return tuple(out)


def _score(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def reasons_for(
    before: Outcome, after: Outcome, old: Ruleset, new: Ruleset, changes: list[Change]
) -> list[Reason]:
    """Every rule whose outcome differs for one account, most decisive first."""
    rel = _Relevance(changes, old, new)
    out: list[Reason] = []
    old_gates = {g.id: g for g in old.gates}
    new_gates = {g.id: g for g in new.gates}
    old_flags = {f.id: f for f in old.red_flags}
    new_flags = {f.id: f for f in new.red_flags}

    def conditions(kind: str, rid: str, category: str = "") -> list[str]:
        texts = []
        for ruleset in (old, new):
            if kind == "gate":
                texts += [g.require.source for g in ruleset.gates if g.id == rid]
            elif kind == "red_flag":
                texts += [f.when.source for f in ruleset.red_flags if f.id == rid]
            else:
                texts += [t.when.source for c in ruleset.categories if c.name == category
                          for t in c.tiers if t.id == rid]
        return texts

    for flag_id in [*before.flags, *(f for f in after.flags if f not in before.flags)]:
        was, now = before.flags.get(flag_id, False), after.flags.get(flag_id, False)
        prefix = f"red_flags.{flag_id}"
        if was != now:
            text = f"red flag {flag_id}: {'fired' if was else 'not fired'} -> " \
                   f"{'fired' if now else 'not fired'}"
            out.append(Reason("red_flag", flag_id, text,
                              rel.because(prefix, conditions("red_flag", flag_id))))
        elif now and flag_id in old_flags and flag_id in new_flags:
            fa, fb = old_flags[flag_id], new_flags[flag_id]
            if (fa.effect, fa.cap, fa.play) != (fb.effect, fb.cap, fb.play):
                out.append(Reason("red_flag", flag_id, f"red flag {flag_id} (fired) acts "
                                  "differently", rel.because(prefix, [])))
    for gate_id in [*before.gates, *(g for g in after.gates if g not in before.gates)]:
        passed, passes = before.gates.get(gate_id, True), after.gates.get(gate_id, True)
        prefix = f"gates.{gate_id}"
        if passed != passes:
            text = f"gate {gate_id}: {'passed' if passed else 'failed'} -> " \
                   f"{'passed' if passes else 'failed'}"
            out.append(Reason("gate", gate_id, text,
                              rel.because(prefix, conditions("gate", gate_id))))
        elif not passes and gate_id in old_gates and gate_id in new_gates:
            ga, gb = old_gates[gate_id], new_gates[gate_id]
            if (ga.severity, ga.play) != (gb.severity, gb.play):
                out.append(Reason("gate", gate_id, f"gate {gate_id} (failed): severity "
                                  f"{ga.severity} -> {gb.severity}", rel.because(prefix, [])))
    for category in [*before.winners, *(c for c in after.winners if c not in before.winners)]:
        won = before.winners.get(category, (None, 0.0))
        wins = after.winners.get(category, (None, 0.0))
        if won == wins:
            continue
        text = (f"{category}: {won[0] or 'no tier'} ({_score(won[1])}) -> "
                f"{wins[0] or 'no tier'} ({_score(wins[1])})")
        flipped = [t for (c, t) in {**before.tiers, **after.tiers} if c == category
                   and before.tiers.get((c, t)) != after.tiers.get((c, t))]
        texts = [s for t in flipped for s in conditions("tier", t, category)]
        because = list(rel.because(f"scoring.categories.{category}", texts))
        out.append(Reason("category", category, text, tuple(dict.fromkeys(because))))
    weight_changes = tuple(
        str(c) for c in changes
        if re.fullmatch(r"scoring\.(scale|categories\.[^.]+\.weight)", c.path)
    )
    if weight_changes and before.decision["raw_score"] != after.decision["raw_score"]:
        out.append(Reason("weights", "scoring", "category weights or scale changed",
                          weight_changes))
    if before.decision["capped_at"] != after.decision["capped_at"] and not any(
        r.kind == "red_flag" for r in out
    ):
        out.append(Reason("cap", "capped_at", f"cap: {before.decision['capped_at']} -> "
                          f"{after.decision['capped_at']}", ()))
    band_changes = tuple(str(c) for c in changes if c.path.startswith("bands."))
    if before.decision["band"] != after.decision["band"] and band_changes:
        out.append(Reason("bands", "bands", f"band boundaries moved (score "
                          f"{_score(after.decision['score'])} is {after.decision['band']} now)",
                          band_changes))
    if not out:
        out.append(Reason("other", "", "no single rule outcome differs; the play, owner or "
                          "a setting the rules share changed", tuple(str(c) for c in changes)))
    return out


# --- the whole comparison ------------------------------------------------------------------


@dataclass
class DiffResult:
    """Everything ``upsell-rules diff`` reports."""

    old_label: str
    new_label: str
    old_identity: dict[str, Any]
    new_identity: dict[str, Any]
    data: str
    as_of: str
    bands: list[str]
    changes: list[Change] = field(default_factory=list)
    matrix: dict[str, dict[str, int]] = field(default_factory=dict)
    changed: list[AccountChange] = field(default_factory=list)
    accounts: int = 0
    score_only: int = 0
    #: Accounts a plugin failed on; they are not compared.
    failed: list[RecordError] = field(default_factory=list)
    #: Same band and blocked state, but triggers, play or score moved (see --min-delta).
    moved: list[AccountChange] = field(default_factory=list)
    #: With two exports: accounts in only one of them.
    only_old: list[str] = field(default_factory=list)
    only_new: list[str] = field(default_factory=list)
    new_data: str = ""
    new_as_of: str = ""

    def totals(self) -> tuple[dict[str, int], dict[str, int]]:
        """Accounts per band before and after."""
        before = {b: sum(self.matrix.get(b, {}).values()) for b in self.bands}
        after = {b: sum(row.get(b, 0) for row in self.matrix.values()) for b in self.bands}
        return before, after

    def counts(self) -> tuple[int, int]:
        """How many accounts changed band, and how many changed blocked state."""
        band = sum(1 for c in self.changed if c.before["band"] != c.after["band"])
        blocked = sum(1 for c in self.changed if c.before["blocked"] != c.after["blocked"])
        return band, blocked

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        before, after = self.totals()
        band, blocked = self.counts()
        return {
            "old": {"label": self.old_label, "ruleset": self.old_identity},
            "new": {"label": self.new_label, "ruleset": self.new_identity},
            "data": self.data,
            "as_of": self.as_of,
            "accounts": self.accounts,
            "ruleset_changes": [c.to_dict() for c in self.changes],
            "bands_before": before,
            "bands_after": after,
            "transitions": self.matrix,
            "changed_band": band,
            "changed_blocked": blocked,
            "changed_score_only": self.score_only,
            "changed": [c.to_dict() for c in self.changed],
            "moved": [c.to_dict() for c in self.moved],
            "data_new": self.new_data or self.data,
            "as_of_new": self.new_as_of or self.as_of,
            "only_in_old": self.only_old,
            "only_in_new": self.only_new,
        }


def compare_rulesets(
    old: Evaluator,
    new: Evaluator,
    accounts: Iterable[Account],
    as_of: date,
    changes: list[Change],
    *,
    labels: tuple[str, str],
    data: str,
    new_accounts: Mapping[str, Account] | None = None,
    new_as_of: date | None = None,
    new_data: str = "",
    min_delta: float | None = 5.0,
) -> DiffResult:
    """Decide every account with both evaluators and explain each band or blocked change.

    ``new_accounts`` / ``new_as_of`` compare two exports or two dates (each account is
    matched by id; the moved signals are listed). Accounts whose band and blocked state
    stay but whose triggers or play change, or whose score moves by ``min_delta`` or
    more (any move with ``None``), are listed in ``moved``.
    """
    bands = [b.id for b in new.ruleset.bands]
    bands += [b.id for b in old.ruleset.bands if b.id not in bands]
    result = DiffResult(
        old_label=labels[0],
        new_label=labels[1],
        old_identity=old.ruleset.identity(),
        new_identity=new.ruleset.identity(),
        data=data,
        as_of=as_of.isoformat(),
        bands=bands,
        changes=changes,
        matrix={b: dict.fromkeys(bands, 0) for b in bands},
        new_data=new_data,
        new_as_of=new_as_of.isoformat() if new_as_of else "",
    )
    later = new_as_of or as_of
    seen: set[str] = set()
    for account in accounts:
        seen.add(account.account_id)
        counterpart = account
        if new_accounts is not None:
            found = new_accounts.get(account.account_id)
            if found is None:
                result.only_old.append(account.account_id)
                continue
            counterpart = found
        try:
            a = old.decide(account, as_of)
            b = new.decide(counterpart, later)
        except PluginError as exc:  # costs this account only, as in dry-run
            result.failed.append(
                RecordError(account.location, str(exc), account_id=account.account_id)
            )
            continue
        result.accounts += 1
        result.matrix[a["band"]][b["band"]] += 1
        major = a["band"] != b["band"] or a["blocked"] != b["blocked"]
        if not major and a["score"] != b["score"]:
            result.score_only += 1
        if not major and not differs(a, b, min_delta):
            continue
        before = outcome(old, account, as_of)
        after = outcome(new, counterpart, later)
        reasons = reasons_for(before, after, old.ruleset, new.ruleset, changes)
        if a["band"] != b["band"]:
            # What moved the score or the boundaries explains a band change best.
            scoring = ("category", "weights", "cap", "bands")
            reasons.sort(key=lambda r: r.kind not in scoring)
        moved = (moved_signals(old, new, account, counterpart, as_of, later)
                 if counterpart is not account or later != as_of else [])
        change = AccountChange(account.account_id, account.account_name, a, b, reasons,
                               detail_lines(a, b), moved)
        (result.changed if major else result.moved).append(change)
    if new_accounts is not None:
        result.only_new = [i for i in new_accounts if i not in seen]
    return result
