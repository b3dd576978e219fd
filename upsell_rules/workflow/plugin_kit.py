"""The plugin author's kit: build a registry with your plugin, run a ruleset, check decisions.

It is also a pytest plugin, registered through the ``pytest11`` entry point, so every
project that has upsell-rules installed gets these fixtures with no setup:

``upsell_registry``
    ``upsell_registry(my_plugin, ...)`` builds a fresh registry with the given plugin
    modules loaded on top of the installed ones (``installed=False`` leaves third-party
    plugins out), and fails the test, naming the plugin, if any plugin did not load.
``upsell_evaluate``
    ``upsell_evaluate(ruleset, records, as_of=...)`` runs a ruleset (a path, or YAML text)
    over account records given as dicts, and returns the decision records.
``upsell_assert_decision``
    :func:`assert_decision`: compare a decision with what you expect, with a readable
    message on failure.

The plain functions (:func:`make_registry`, :func:`load_ruleset_text`,
:func:`evaluate_records`, :func:`minimal_ruleset`, :func:`assert_decision`) work without
pytest too. See ``docs/plugins.md``, "Testing a plugin".
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from upsell_rules.plugin.registry import Registry
    from upsell_rules.ruleset.model import Ruleset

try:  # the kit's functions must work where pytest is not installed
    import pytest
except ImportError:  # pragma: no cover - exercised only without pytest
    pytest = None  # type: ignore[assignment]


class PluginLoadError(AssertionError):
    """A plugin given to :func:`make_registry` (or any installed one) did not load."""


def make_registry(
    *plugins: object,
    installed: bool = True,
    disable: Sequence[str] = (),
    strict: bool = True,
) -> Registry:
    """A fresh registry: the core, the bundled plugins, ``plugins``, and (with
    ``installed``) every other installed plugin.

    With ``strict`` any load problem raises :class:`PluginLoadError` listing every
    problem, each naming its plugin, so a test fails where the plugin is broken.
    """
    from upsell_rules.plugin.build import build_registry
    from upsell_rules.plugin.registry import PluginSelection

    selection = PluginSelection(disabled=tuple(disable), autoload=installed)
    registry = build_registry(plugins, selection=selection)
    if strict and (registry.problems or registry.fatal):
        raise PluginLoadError("plugins did not load cleanly:\n" + "\n".join(
            [*registry.fatal, *registry.problems]
        ))
    return registry


def load_ruleset_text(
    text: str, registry: Registry | None = None, path: str = "ruleset.yaml"
) -> Ruleset:
    """Load a ruleset from YAML text; raise with every finding when it has errors."""
    from upsell_rules.errors import RulesetError
    from upsell_rules.ruleset.loader import check_ruleset

    ruleset, findings = check_ruleset(path, registry, text=text)
    errors = [f for f in findings if f.is_error]
    if ruleset is None or errors:
        raise RulesetError(errors or findings)
    return ruleset


def _ruleset(ruleset: Ruleset | str | os.PathLike[str], registry: Registry) -> Ruleset:
    from upsell_rules.ruleset.loader import load_ruleset
    from upsell_rules.ruleset.model import Ruleset

    if isinstance(ruleset, Ruleset):
        return ruleset
    text = str(ruleset)
    if "\n" in text or not os.path.exists(text):
        return load_ruleset_text(text, registry)
    return load_ruleset(text, registry)


def evaluate_records(
    ruleset: Ruleset | str | os.PathLike[str],
    records: Iterable[Mapping[str, Any]],
    *,
    as_of: date,
    registry: Registry | None = None,
    engine: str | None = None,
    errors: str = "raise",
) -> list[dict[str, Any]]:
    """Decide ``records`` (dicts in the data contract, raw values as in JSON) with a
    ruleset given as a path, YAML text or a loaded :class:`Ruleset`.

    Values are coerced exactly as when read from a file. A record that cannot be read
    raises ``AssertionError`` with its error (``errors="raise"``) or is left out
    (``errors="skip"``).
    """
    from upsell_rules.engine.evaluate import Evaluator
    from upsell_rules.engine.stream import decide_all
    from upsell_rules.errors import Location, RecordError
    from upsell_rules.io.records import AccountReader
    from upsell_rules.plugin.types import RawRecord

    registry = registry or make_registry()
    rules = _ruleset(ruleset, registry)
    reader = AccountReader(
        registry, rules.input_types(), as_of=as_of,
        signals=rules.signals,
    )
    seen: dict[str, Location] = {}
    items: list[Any] = []
    for index, record in enumerate(records, 1):
        raw = RawRecord(dict(record), Location("<records>", index))
        items.extend(reader.coerce_record(raw, seen))
    evaluator = Evaluator(rules, registry, engine)
    out: list[dict[str, Any]] = []
    for item in decide_all(evaluator, items, as_of):
        if isinstance(item, RecordError):
            if errors == "raise":
                raise AssertionError(f"record could not be decided: {item}")
            continue
        out.append(item)
    return out


def minimal_ruleset(
    *,
    signals: Mapping[str, Mapping[str, Any]],
    when: str,
    plugins: Sequence[str] = (),
    sources: Mapping[str, Mapping[str, Any]] | None = None,
    upsell_type: str = "seat",
) -> str:
    """YAML text of the smallest useful ruleset around one condition.

    ``signals`` are declared as given (``{"x": {"type": "number"}}``, derived ones with
    ``derive:``). An account for which ``when`` holds scores 100, lands in ``act_now``
    and fires the trigger ``fires`` (bound to ``upsell_type``); any other lands in
    ``wait`` with no trigger.
    """
    doc: dict[str, Any] = {
        "name": "plugin_test",
        "version": "1.0.0",
        "signals": {name: dict(spec) for name, spec in signals.items()},
        "scoring": {
            "categories": {
                "product": {"weight": 1.0, "tiers": [{"id": "match", "score": 10, "when": when}]}
            }
        },
        "bands": [
            {"id": "act_now", "min": 70, "max": 100, "outreach": True, "play": "reach_out"},
            {"id": "wait", "min": 0, "max": 70, "play": "hold"},
        ],
        "triggers": [
            {"id": "fires", "upsell_type": upsell_type, "when": when, "play": "reach_out"}
        ],
        "plays": {
            "reach_out": {"title": "Reach out", "window": "this week"},
            "hold": {"title": "Hold", "window": "next month"},
        },
    }
    if plugins:
        doc["plugins"] = list(plugins)
    if sources:
        doc["sources"] = {k: dict(v) for k, v in sources.items()}
    # JSON is YAML: no quoting rules to get wrong for conditions with ':' or '#'.
    return json.dumps(doc, indent=2) + "\n"


def decision_for(decisions: Sequence[Mapping[str, Any]], account_id: str) -> dict[str, Any]:
    """The decision for ``account_id``; ``AssertionError`` naming the ids there are."""
    for decision in decisions:
        if decision.get("account_id") == account_id:
            return dict(decision)
    ids = ", ".join(str(d.get("account_id")) for d in decisions) or "none"
    raise AssertionError(f"no decision for account {account_id!r} (decided: {ids})")


_UNSET: Any = object()


def assert_decision(
    decision: Mapping[str, Any],
    *,
    band: str | None = None,
    blocked: bool | None = None,
    score: float | tuple[float, float] | None = None,
    play: str | None = None,
    fired: Sequence[str] = (),
    not_fired: Sequence[str] = (),
    upsell_types: Sequence[str] | None = None,
    missing_signals: Sequence[str] | None = None,
    capped_at: Any = _UNSET,
) -> None:
    """Check a decision; one ``AssertionError`` lists every expectation that failed.

    ``fired`` / ``not_fired`` name triggers, red flags or failed gates by id. ``score``
    is a number or an inclusive ``(low, high)`` range.
    """
    problems: list[str] = []
    fired_ids = {t["id"] for t in decision.get("triggers", [])}
    fired_ids |= {f["id"] for f in decision.get("red_flags", [])}
    fired_ids |= {g["id"] for g in decision.get("gates", []) if not g.get("passed")}
    if band is not None and decision.get("band") != band:
        problems.append(f"band: expected {band!r}, got {decision.get('band')!r}")
    if blocked is not None and decision.get("blocked") != blocked:
        problems.append(f"blocked: expected {blocked}, got {decision.get('blocked')}")
    if score is not None:
        actual = decision.get("score")
        low, high = score if isinstance(score, tuple) else (score, score)
        if not isinstance(actual, int | float) or not low - 1e-9 <= actual <= high + 1e-9:
            problems.append(f"score: expected {score}, got {actual}")
    if play is not None and decision.get("action", {}).get("play") != play:
        problems.append(f"play: expected {play!r}, got {decision.get('action', {}).get('play')!r}")
    for rule in fired:
        if rule not in fired_ids:
            problems.append(f"expected {rule!r} to fire; fired: {sorted(fired_ids) or 'none'}")
    for rule in not_fired:
        if rule in fired_ids:
            problems.append(f"expected {rule!r} not to fire, but it did")
    if upsell_types is not None and list(decision.get("upsell_types", [])) != list(upsell_types):
        problems.append(
            f"upsell_types: expected {list(upsell_types)}, got {decision.get('upsell_types')}"
        )
    if missing_signals is not None and sorted(decision.get("missing_signals", [])) != sorted(
        missing_signals
    ):
        problems.append(
            f"missing_signals: expected {sorted(missing_signals)}, "
            f"got {sorted(decision.get('missing_signals', []))}"
        )
    if capped_at is not _UNSET and decision.get("capped_at") != capped_at:
        problems.append(f"capped_at: expected {capped_at}, got {decision.get('capped_at')}")
    if problems:
        who = decision.get("account_id", "?")
        raise AssertionError(f"decision for {who}:\n  " + "\n  ".join(problems))


if pytest is not None:

    @pytest.fixture
    def upsell_registry() -> Callable[..., Registry]:
        """``upsell_registry(*plugins, installed=True, disable=())`` -> a fresh registry."""
        return make_registry

    @pytest.fixture
    def upsell_evaluate() -> Callable[..., list[dict[str, Any]]]:
        """``upsell_evaluate(ruleset, records, as_of=..., registry=None)`` -> decisions."""
        return evaluate_records

    @pytest.fixture
    def upsell_assert_decision() -> Callable[..., None]:
        """:func:`assert_decision`, as a fixture."""
        return assert_decision


__all__ = [
    "PluginLoadError",
    "assert_decision",
    "decision_for",
    "evaluate_records",
    "load_ruleset_text",
    "make_registry",
    "minimal_ruleset",
]
