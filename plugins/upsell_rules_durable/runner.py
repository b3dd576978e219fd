"""Run translated conditions as durable-rules rulesets, one fact per account.

Design points, each answering a measured behaviour of durable-rules 2.0.28:

- Accounts are *facts* (``assert_fact``), never events: an event is consumed by the
  first rule it matches, so the account would not reach its other rules.
- Every fact carries a unique ``id``: durable drops messages whose 32-bit hash it has
  seen, so two accounts with equal values could otherwise be lost.
- A ruleset holds at most 1024 live sessions. Each account gets the next of 1024
  session ids and its session is deleted as soon as its outcomes are read, so no state
  survives from one account (or one run) to the next.
- A ruleset fails at about 512 rules, and (measured here) the process crashes once one
  fact matches 64 rules of one ruleset. The rules are split across several rulesets of
  at most :data:`RULES_PER_RULESET`, which keeps both far away.
- durable swallows exceptions raised in actions (it writes them into the session
  state). Our actions record their errors and the predicate raises them.
- Each ruleset also has a rule that matches every fact. Deleting the session of a fact
  that matched nothing crashed durable in our tests, and the rule proves the fact was
  seen (an account that no rule saw would otherwise pass for one that matched nothing).
- We drive :class:`durable.engine.Ruleset` directly, without durable's global host: the
  host runs background timer threads that would dispatch our actions from another
  thread, and its timers use the wall clock, not the evaluation date.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from upsell_rules.errors import PluginError
from upsell_rules.expr.nodes import Node

from .translate import ALWAYS, Formula, translate

#: Rules per durable ruleset (plus the match-everything rule). durable fails at about
#: 512 rules, and crashes when one fact matches 64 rules of a ruleset.
RULES_PER_RULESET = 40

#: Live sessions per ruleset; durable raises MemoryError on the 1025th.
SESSIONS = 1024

_SEEN = -1  # the rule index of the match-everything rule
_fact_ids = itertools.count(1)
_ruleset_ids = itertools.count(1)


class DurableError(PluginError):
    """durable-rules failed, or an action raised (durable would have hidden it)."""


class _Host:
    """What :class:`durable.engine.Ruleset` needs from a host: nothing, for plain
    Python actions (named actions are looked up here, and we use none)."""

    def get_action(self, action_name: str) -> Any:
        raise LookupError(f"no durable action named {action_name!r}")


class DurablePredicate:
    """``predicate(signals) -> tuple[bool, ...]`` evaluated by durable-rules."""

    def __init__(
        self,
        conditions: Sequence[Node],
        types: Mapping[str, str],
        chunk: int = RULES_PER_RULESET,
        record: Callable[[DurablePredicate, int, Any], None] | None = None,
    ) -> None:
        from durable import engine

        self._engine = engine
        translation = translate(conditions, types)
        self.size = len(conditions)
        self.translation = translation
        self._build_fact = translation.fact_builder()
        self._record = record or DurablePredicate._default_record
        self._lock = threading.Lock()
        self._sids = itertools.cycle([str(i) for i in range(SESSIONS)])
        # Per account: the fact durable is matching and what its rules recorded.
        self._fact_id = 0
        self._hits: list[int] = []
        self._errors: list[str] = []
        rules = [(index, f) for index, f in enumerate(translation.formulas) if f is not False]
        self.rulesets: list[Any] = []
        for start in range(0, max(len(rules), 1), chunk):
            part = rules[start : start + chunk]
            self.rulesets.append(self._ruleset(part))

    @staticmethod
    def _default_record(self: DurablePredicate, index: int, c: Any) -> None:
        self._hits.append(index)

    def _action(self, index: int) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            try:
                fact_id = c.m["id"]
                if fact_id != self._fact_id:
                    raise DurableError(
                        f"durable matched fact {fact_id} while fact {self._fact_id} "
                        "was being decided (state leaked between accounts)"
                    )
                self._record(self, index, c)
            except BaseException as exc:  # durable would swallow it: keep it for later
                self._errors.append(f"{type(exc).__name__}: {exc}")

        return action

    def _ruleset(self, rules: list[tuple[int, Formula]]) -> Any:
        definition: dict[str, Any] = {
            f"r{index}": {"all": [{"m": _document(formula)}], "run": self._action(index)}
            for index, formula in rules
        }
        definition["seen"] = {"all": [{"m": {ALWAYS: True}}], "run": self._action(_SEEN)}
        name = f"upsell_rules_{next(_ruleset_ids)}"
        ruleset = self._engine.Ruleset(name, _Host(), definition)
        import durable_rules_engine

        weakref.finalize(self, durable_rules_engine.delete_ruleset, ruleset._handle)
        return ruleset

    def __call__(self, signals: Mapping[str, Any]) -> tuple[bool, ...]:
        fact = self._build_fact(signals)
        outcome = [False] * self.size
        with self._lock:
            for ruleset in self.rulesets:
                for index in self._match(ruleset, fact):
                    outcome[index] = True
        return tuple(outcome)

    def _match(self, ruleset: Any, fact: dict[str, Any]) -> list[int]:
        fact_id = next(_fact_ids)
        sid = next(self._sids)
        fact["id"] = fact_id
        fact["sid"] = sid
        self._fact_id = fact_id
        self._hits = []
        self._errors = []
        failure: list[BaseException] = []

        def complete(error: BaseException | None, _state: Any) -> None:
            if error is not None:
                failure.append(error)

        try:
            handle = ruleset.assert_fact(fact)
            ruleset.do_actions(handle, complete)
        except self._engine.MessageNotHandledException:
            raise DurableError("durable-rules did not match the fact at all") from None
        except Exception as exc:
            raise DurableError(f"durable-rules failed: {type(exc).__name__}: {exc}") from exc
        finally:
            ruleset.delete_state(sid)
        if failure:
            raise DurableError(f"durable-rules failed in an action: {failure[0]}")
        if self._errors:
            raise DurableError(f"a durable action raised {self._errors[0]}")
        hits = self._hits
        if _SEEN not in hits:
            raise DurableError("durable-rules did not see the account's fact")
        return [index for index in hits if index != _SEEN]


def _document(formula: Formula) -> dict[str, Any]:
    """A rule's condition: a formula that is always true matches every fact."""
    if formula is True:
        return {ALWAYS: True}
    assert isinstance(formula, dict)
    return formula
