"""Derived signals: which derivations a ruleset runs, in order, as one generated function.

:func:`build_derivations` lists a ruleset's derived signals (a plugin's derivation or a
``when:`` condition) in dependency order; :class:`DerivationChain` runs them all as one
straight-line generated function and, when one fails, names it from the traceback
without running any of them again. :func:`inputs_used` says which input signals the
rules read, directly or through derived signals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import MappingProxyType, TracebackType
from typing import Any, NamedTuple

from upsell_rules.errors import PluginError
from upsell_rules.expr.nodes import names_in
from upsell_rules.plugin.guard import EXACT, describe_value, failure_text, quick_fits
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import DeriveFn, Engine, Predicate
from upsell_rules.ruleset.model import Condition, Ruleset, SignalDef

#: The file name the generated chain is compiled under; a traceback frame with this
#: name is the chain itself, and its line number says which derivation was running.
CHAIN_FILENAME = "<upsell-rules derivations>"

#: The provider named for a derived signal the ruleset defines with ``when:``.
RULESET_PROVIDER = "ruleset"


class Derivation(NamedTuple):
    """One derived signal: its name, the function computing it, who provides it."""

    name: str
    compute: DeriveFn
    provider: str


def resolved_params(registry: Registry, sig: SignalDef) -> dict[str, Any]:
    """A derived signal's parameters with the derivation's defaults filled in."""
    assert sig.derive is not None
    derivation = registry.derivations[sig.derive]
    params = {k: v.default for k, v in derivation.params.items() if v.default is not None}
    params.update(sig.params)
    return params


def build_derivations(ruleset: Ruleset, registry: Registry, engine: Engine) -> list[Derivation]:
    """Every derived signal of ``ruleset``, in the order the ruleset declares them."""
    types = {name: sig.type for name, sig in ruleset.signals.items()}
    derivations: list[Derivation] = []
    for sig in ruleset.signals.values():
        if sig.derive is not None:
            built = registry.derivations[sig.derive].build(resolved_params(registry, sig))
            provider = registry.provider("derivation", sig.derive)
            derivations.append(Derivation(sig.name, built, provider))
        elif sig.when is not None:
            single = engine.prepare([sig.when.node], types)
            derivations.append(Derivation(sig.name, _first(single), RULESET_PROVIDER))
    return derivations


class DerivationChain:
    """All derivations as one function: ``chain(signals, as_of)`` fills ``signals`` in.

    The function is generated as unrolled straight-line calls (each derivation a local,
    each name a constant), so there is no per-step loop overhead. A derived signal a
    plugin computes is checked against its declared type as it is computed: a value of
    another type raises :class:`PluginError` naming the plugin (a wrong type would make
    conditions silently wrong). Each derivation sees the signals through a read-only
    view: one that writes another signal fails, instead of changing what every later
    rule reads. While the chain runs, the ruleset's list signals (``lists``) are tuples,
    so a derivation that appends to or sorts a list fails the same way instead of
    changing the account's own list; afterwards the record holds lists again.
    """

    def __init__(self, derivations: list[Derivation], declared: dict[str, str],
                 lists: tuple[str, ...] = ()) -> None:
        self.derivations = derivations
        #: Line of the generated source -> index of the derivation running on it.
        self._line_owner: dict[int, int] = {}
        self.run: Callable[[dict[str, Any], date], None] = self._generate(declared, lists)

    def _generate(
        self, declared: dict[str, str], lists: tuple[str, ...]
    ) -> Callable[[dict[str, Any], date], None]:
        if not self.derivations:
            return _nothing_to_derive
        derived = {d.name for d in self.derivations}
        inputs = [name for name in lists if name not in derived]
        # While the chain runs, the record's lists are tuples (the originals are put back
        # after it); without list signals there is nothing to freeze.
        lines = ["def derive(s, as_of):", "    r = view(s)", "    g = s.get"]
        for index, name in enumerate(inputs):
            lines += [f"    o{index} = g({name!r})",
                      f"    if type(o{index}) is list: s[{name!r}] = tuple(o{index})"]
        indent = "        " if lists else "    "
        if lists:
            lines.append("    try:")
        namespace: dict[str, Any] = {"__builtins__": {"type": type, "list": list, "tuple": tuple},
                                     "view": MappingProxyType}
        for index, (name, compute, provider) in enumerate(self.derivations):
            namespace[f"f{index}"] = compute
            kind = declared.get(name)
            self._line_owner[len(lines) + 1] = index
            lines.append(f"{indent}v = f{index}(r, as_of)")
            if kind is not None:
                namespace[f"t{index}"] = EXACT.get(kind, frozenset())
                namespace[f"c{index}"] = _type_check(name, provider, kind)
                lines.append(f"{indent}if v is not None and type(v) not in t{index}: c{index}(v)")
            if name in lists:
                lines.append(f"{indent}s[{name!r}] = tuple(v) if type(v) is list else v")
            else:
                lines.append(f"{indent}s[{name!r}] = v")
        if lists:
            lines += ["    finally:", *_thawed(inputs, [n for n in lists if n in derived])]
        exec(compile("\n".join(lines) + "\n", CHAIN_FILENAME, "exec"), namespace)
        derive: Callable[[dict[str, Any], date], None] = namespace["derive"]
        return derive

    def failed(self, exc: Exception) -> PluginError | None:
        """The error naming the derivation that raised ``exc``, found from its traceback.

        ``None`` when ``exc`` is already a :class:`PluginError` (it names the plugin) or
        did not come from a derivation's call.
        """
        if isinstance(exc, PluginError):
            return None
        index = self._running_at(exc.__traceback__)
        if index is None:
            return None
        name, _compute, provider = self.derivations[index]
        return PluginError(
            f"derived signal '{name}' (plugin '{provider}') failed: {failure_text(exc)}"
        )

    def _running_at(self, tb: TracebackType | None) -> int | None:
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == CHAIN_FILENAME:
                return self._line_owner.get(tb.tb_lineno)
            tb = tb.tb_next
        return None


def inputs_used(ruleset: Ruleset, registry: Registry) -> tuple[str, ...]:
    """Input signals the rules read, directly or through derived signals (sorted)."""
    rs = ruleset
    wanted: set[str] = set()
    for cond in all_conditions(rs):
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


def all_conditions(ruleset: Ruleset) -> list[Condition]:
    """Every condition a decision reads (named conditions are read through these)."""
    return [
        *(t.when for c in ruleset.categories for t in c.tiers),
        *(g.require for g in ruleset.gates),
        *(f.when for f in ruleset.red_flags),
        *(t.when for t in ruleset.triggers),
        *(r.when for rules in ruleset.owners.values() for r in rules if r.when is not None),
    ]


def _thawed(inputs: list[str], derived: list[str]) -> list[str]:
    """Generated lines putting the record's lists back once the chain has run: the input
    lists as they were, the derived ones as lists."""
    lines = []
    for index, name in enumerate(inputs):
        lines.append(f"        if type(o{index}) is list: s[{name!r}] = o{index}")
    for name in derived:
        lines += [f"        w = g({name!r})", f"        if type(w) is tuple: s[{name!r}] = list(w)"]
    return lines or ["        pass"]


def _nothing_to_derive(signals: dict[str, Any], as_of: date) -> None:
    return None


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


def _first(predicate: Predicate) -> DeriveFn:
    def named_condition(signals: Any, _as_of: date) -> bool:
        return predicate(signals)[0]

    return named_condition
