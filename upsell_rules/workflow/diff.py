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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.explain import Check, explain
from upsell_rules.errors import PluginError, RecordError
from upsell_rules.io.queue import status_of
from upsell_rules.io.records import Account
from upsell_rules.workflow.diff_detail import detail_lines, differs, moved_signals
from upsell_rules.workflow.diff_reasons import SCORING_KINDS, Reason, reasons_for

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


@dataclass(frozen=True)
class _Sides:
    """The two sides of a comparison: evaluators and dates, and the edits between them."""

    old: Evaluator
    new: Evaluator
    as_of: date
    #: The new side's date: ``new_as_of``, or ``as_of`` when both sides share it.
    later: date
    changes: list[Change]
    min_delta: float | None


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
    sides = _Sides(old, new, as_of, new_as_of or as_of, changes, min_delta)
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
        _compare_account(sides, account, counterpart, result)
    if new_accounts is not None:
        result.only_new = [i for i in new_accounts if i not in seen]
    return result


def _compare_account(
    sides: _Sides, account: Account, counterpart: Account, result: DiffResult
) -> None:
    """Decide one account on both sides and add it to ``result``: counted, and listed
    when its decision differs enough."""
    try:
        before = sides.old.decide(account, sides.as_of)
        after = sides.new.decide(counterpart, sides.later)
    except PluginError as exc:  # costs this account only, as in dry-run
        result.failed.append(
            RecordError(account.location, str(exc), account_id=account.account_id)
        )
        return
    result.accounts += 1
    result.matrix[before["band"]][after["band"]] += 1
    major = before["band"] != after["band"] or before["blocked"] != after["blocked"]
    if not major and before["score"] != after["score"]:
        result.score_only += 1
    if not major and not differs(before, after, sides.min_delta):
        return
    change = _account_change(sides, account, counterpart, before, after)
    (result.changed if major else result.moved).append(change)


def _account_change(
    sides: _Sides,
    account: Account,
    counterpart: Account,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AccountChange:
    """Why ``account``'s decision went from ``before`` to ``after``: rule by rule, the
    details that differ, and (two exports or dates) the signals that moved."""
    reasons = reasons_for(outcome(sides.old, account, sides.as_of),
                          outcome(sides.new, counterpart, sides.later),
                          sides.old.ruleset, sides.new.ruleset, sides.changes)
    if before["band"] != after["band"]:
        # What moved the score or the boundaries explains a band change best.
        reasons.sort(key=lambda r: r.kind not in SCORING_KINDS)
    moved = (moved_signals(sides.old, sides.new, account, counterpart, sides.as_of, sides.later)
             if counterpart is not account or sides.later != sides.as_of else [])
    return AccountChange(account.account_id, account.account_name, before, after, reasons,
                         detail_lines(before, after), moved)
