"""Deciding a batch with a batch engine (``Engine.prepare_batch``, e.g. ``duckdb``).

The signals of every account first, then one call for all outcomes, then the records:
the same results as :meth:`Evaluator.evaluate_batch` account by account, errors included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from upsell_rules.errors import PluginError, PluginTimeout, RecordError
from upsell_rules.io.records import Account
from upsell_rules.plugin.guard import blame, failure_text
from upsell_rules.plugin.types import BatchPredicate
from upsell_rules.plugin.watchdog import PROGRESS
from upsell_rules.ruleset.templates import RenderLimitError

if TYPE_CHECKING:
    from upsell_rules.engine.evaluate import Evaluator


def evaluate_batched(
    evaluator: Evaluator, items: Sequence[Account | RecordError], as_of: date, batch: BatchPredicate
) -> list[tuple[bool, dict[str, Any] | RecordError]]:
    """:meth:`Evaluator.evaluate_batch` for a batch engine: signals for every account, one call
    for all outcomes, then the records; the same results, errors included."""
    staged: list[tuple[Account | RecordError, dict[str, Any] | RecordError | None]] = []
    for item in items:
        PROGRESS[0] += 1
        if isinstance(item, RecordError):
            staged.append((item, None))
            continue
        staged.append((item, _guarded(evaluator, item, partial(evaluator.signals, item, as_of))))
    known = [s for _item, s in staged if isinstance(s, dict)]
    outcomes = iter(batch(known))
    out: list[tuple[bool, dict[str, Any] | RecordError]] = []
    for item, s in staged:
        if isinstance(item, RecordError):
            out.append((True, item))
        elif isinstance(s, dict):
            o = next(outcomes)
            record = partial(evaluator.assemble, item, s, o, as_of)
            out.append((False, _guarded(evaluator, item, record)))
        else:
            assert isinstance(s, RecordError)
            out.append((False, s))
    return out

def _guarded(
    evaluator: Evaluator, item: Account, step: Callable[[], dict[str, Any]]
) -> dict[str, Any] | RecordError:
    """``step()``, or the record error :meth:`Evaluator.evaluate_batch` makes of its failure."""
    try:
        return step()
    except (PluginError, RenderLimitError) as exc:
        return RecordError(item.location, str(exc), account_id=item.account_id)
    except Exception as exc:
        culprit = blame(exc, evaluator.registry)
        if culprit is None:
            raise
        message = f"{culprit} failed: {failure_text(exc)}"
        return RecordError(item.location, message, account_id=item.account_id)
    except PluginTimeout as exc:
        evaluator.stalls += 1
        if evaluator.stalls > 1:
            raise
        return RecordError(item.location, str(exc), account_id=item.account_id)
