"""The header check: does the data carry the signals the ruleset reads?

A signal that no record carries is missing for every account, and a condition on a
missing signal is false: a gate on it fails for everyone, a red flag on it never fires.
Nothing about that is an error in one record, so without this check the run looks
clean. :func:`check_columns` compares the fields the inputs carry with the input signals
the rules read and says, per signal that no record carries, what that silences and
which unmatched column looks like it (``'Health Score' looks like health_score``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from upsell_rules.errors import RecordError, UpsellRulesError
from upsell_rules.expr.nodes import (
    And,
    Arith,
    Bool,
    Compare,
    In,
    IsMissing,
    Name,
    Neg,
    Node,
    Not,
    Or,
    names_in,
)
from upsell_rules.io.records import AccountReader, pick_source
from upsell_rules.limits import using
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import RawRecord
from upsell_rules.ruleset.model import Condition, Ruleset

#: Three-valued outcome of a condition when one signal is missing: always false,
#: always true, or it depends on other values.
FALSE, TRUE, DEPENDS = "false", "true", "depends"


def effects_text(silences: Sequence[str]) -> str:
    """What a signal no account has does to the rules, as one phrase (:func:`silenced`'s
    phrases joined; "the rules read it" when it changes no outcome there)."""
    return "; ".join(silences) if silences else "the rules read it"


@dataclass(frozen=True)
class ColumnWarning:
    """A signal the rules read that no record of the inputs carries."""

    signal: str
    #: What it silences, one phrase per rule ("gate health_floor fails for every account").
    silences: tuple[str, ...]
    #: An unmatched column that looks like the signal, or "".
    looks_like: str = ""

    @property
    def message(self) -> str:
        """One line: the signal, what it silences and the did-you-mean."""
        text = f"no record carries '{self.signal}': {effects_text(self.silences)}"
        if self.looks_like:
            text += (f" ('{self.looks_like}' looks like {self.signal}: rename the column "
                     f"or map it, see docs/data.md)")
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "signal": self.signal,
            "silences": list(self.silences),
            "looks_like": self.looks_like or None,
            "message": self.message,
        }


@dataclass
class ColumnReport:
    """The outcome of the header check over all inputs."""

    warnings: list[ColumnWarning] = field(default_factory=list)
    #: Columns (keys) of the inputs that no field of the ruleset or contract reads.
    unmatched: list[str] = field(default_factory=list)

    def lines(self, limit: int = 20) -> list[str]:
        """Human-readable lines: one per warning, then the unmatched columns once."""
        out = [w.message for w in self.warnings]
        if self.warnings and self.unmatched:
            shown = ", ".join(f"'{c}'" for c in self.unmatched[:limit])
            more = f" and {len(self.unmatched) - limit} more" if len(self.unmatched) > limit else ""
            out.append(f"columns no signal reads: {shown}{more}")
        return out

    def suffix(self) -> str:
        """What the run summary line adds: ``; 2 signals in no record`` (or nothing)."""
        count = len(self.warnings)
        if not count:
            return ""
        return f"; {count} signal{'s' if count > 1 else ''} in no record (see warnings)"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "warnings": [w.to_dict() for w in self.warnings],
            "unmatched_columns": list(self.unmatched),
        }


def normalise(name: str) -> str:
    """A column name as a field name would be written: ``'Health Score'`` -> health_score."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def looks_like(signal: str, columns: Iterable[str]) -> str:
    """The column that most plausibly means ``signal``, or ``""``."""
    by_norm: dict[str, str] = {}
    for column in columns:
        by_norm.setdefault(normalise(column), column)
    if signal in by_norm:
        return by_norm[signal]
    close = difflib.get_close_matches(signal, list(by_norm), n=1, cutoff=0.8)
    if close:
        return by_norm[close[0]]
    # The same words in another order: 'Licensed Seats' for seats_licensed.
    words = sorted(signal.split("_"))
    for norm, column in by_norm.items():
        if sorted(norm.split("_")) == words:
            return column
    # A CRM label that holds the signal's words in order: 'Customer Health Score',
    # 'Health Score (0-100)'. The shortest such label is the likeliest.
    holding = [norm for norm in by_norm if f"_{signal}_" in f"_{norm}_"]
    return by_norm[min(holding, key=len)] if holding else ""


def _outcome(node: Node, tainted: set[str], named: Mapping[str, str]) -> str:
    """What ``node`` is when the signals in ``tainted`` are missing (see FALSE/TRUE)."""
    if isinstance(node, Name):
        if node.name in tainted:
            return FALSE
        return named.get(node.name, DEPENDS)
    if isinstance(node, Compare | In):
        operands = (node.left, node.right) if isinstance(node, Compare) else (
            node.item, node.container)
        return FALSE if any(_reads_missing(o, tainted) for o in operands) else DEPENDS
    if isinstance(node, IsMissing):
        if _reads_missing(node.operand, tainted):
            return FALSE if node.negated else TRUE
        return DEPENDS
    if isinstance(node, Not):
        inner = _outcome(node.operand, tainted, named)
        return {FALSE: TRUE, TRUE: FALSE}.get(inner, DEPENDS)
    if isinstance(node, And | Or):
        parts = [_outcome(item, tainted, named) for item in node.items]
        decisive, other = (FALSE, TRUE) if isinstance(node, And) else (TRUE, FALSE)
        if decisive in parts:
            return decisive
        return other if all(p == other for p in parts) else DEPENDS
    if isinstance(node, Bool):
        return TRUE if node.value else FALSE
    return DEPENDS


def _reads_missing(node: Node, tainted: set[str]) -> bool:
    """True when the value of ``node`` is missing (a name, or arithmetic on one)."""
    if isinstance(node, Name):
        return node.name in tainted
    if isinstance(node, Arith):
        return _reads_missing(node.left, tainted) or _reads_missing(node.right, tainted)
    if isinstance(node, Neg):
        return _reads_missing(node.operand, tainted)
    return False


def _reads(ruleset: Ruleset, registry: Registry, name: str) -> set[str]:
    """Input signals ``name`` reads, itself included when it is one."""
    out: set[str] = set()
    stack, seen = [name], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        sig = ruleset.signals.get(current)
        if sig is None:
            continue
        if sig.is_input:
            out.add(current)
        elif sig.derive is not None and sig.derive in registry.derivations:
            stack.extend(registry.derivations[sig.derive].reads(sig.params))
        elif sig.when is not None:
            stack.extend(names_in(sig.when.node))
    return out


def _rules(ruleset: Ruleset) -> list[tuple[str, str, Condition]]:
    """(kind, label, condition) for every rule condition."""
    rs = ruleset
    out: list[tuple[str, str, Condition]] = []
    out += [("tier", f"{c.name}/{t.id}", t.when) for c in rs.categories for t in c.tiers]
    out += [("gate", g.id, g.require) for g in rs.gates]
    out += [("red flag", f.id, f.when) for f in rs.red_flags]
    out += [("trigger", t.id, t.when) for t in rs.triggers]
    out += [
        ("owner rule", f"{group}/{r.role}", r.when)
        for group, rules in rs.owners.items() for r in rules if r.when is not None
    ]
    return out


_EFFECT = {
    ("gate", FALSE): "gate {} fails for every account",
    ("tier", FALSE): "tier {} can never match",
    ("red flag", FALSE): "red flag {} can never fire",
    ("red flag", TRUE): "red flag {} fires for every account",
    ("trigger", FALSE): "trigger {} can never fire",
    ("owner rule", FALSE): "owner rule {} never applies",
}


def silenced(ruleset: Ruleset, registry: Registry, signal: str) -> tuple[str, ...]:
    """What a missing ``signal`` does to the rules, one phrase per rule it changes."""
    tainted = {signal}
    named: dict[str, str] = {}
    # Signals computed from the missing one: named conditions get their outcome,
    # derived signals (plugins) are taken as missing too when they read nothing else.
    for name, sig in ruleset.signals.items():
        if sig.when is not None:
            named[name] = _outcome(sig.when.node, tainted, named)
        elif sig.derive is not None and _reads(ruleset, registry, name) == {signal}:
            tainted.add(name)
    out: list[str] = []
    for kind, label, cond in _rules(ruleset):
        names = set(names_in(cond.node))
        if not names & (tainted | set(named)):
            continue
        effect = _EFFECT.get((kind, _outcome(cond.node, tainted, named)))
        if effect is None:
            if any(signal in _reads(ruleset, registry, n) for n in names):
                effect = f"{kind} {{}} reads it"
            else:
                continue
        out.append(effect.format(label))
    return tuple(dict.fromkeys(out))


def signals_read(ruleset: Ruleset, registry: Registry) -> list[str]:
    """Input signals the rules read, directly or through derived signals (sorted)."""
    wanted: set[str] = set()
    for _, _, cond in _rules(ruleset):
        for name in names_in(cond.node):
            wanted |= _reads(ruleset, registry, name)
    return sorted(wanted)


def check_columns(
    ruleset: Ruleset, registry: Registry, carried: Iterable[str], also_read: Iterable[str] = ()
) -> ColumnReport:
    """Compare the fields the inputs carry with the signals the ruleset reads.

    ``also_read`` names columns the command itself reads (a snapshot's date), which are
    never listed as unmatched.
    """
    carried = list(dict.fromkeys(carried))
    have = set(carried)
    known = set(ruleset.signals) | set(registry.fields) | set(also_read)
    unmatched = [c for c in carried if c not in known]
    report = ColumnReport(unmatched=unmatched)
    for signal in signals_read(ruleset, registry):
        if signal in have:
            continue
        report.warnings.append(
            ColumnWarning(signal, silenced(ruleset, registry, signal),
                          looks_like(signal, unmatched))
        )
    return report


def carried_fields(
    reader: AccountReader,
    data: Sequence[str],
    wanted: Iterable[str],
    progress: list[int] | None = None,
) -> list[str] | None:
    """The fields some record of the inputs carries (non-empty), in order of first sight.

    Reads raw records through each input's source, stopping as soon as every ``wanted``
    field was seen (a file that carries them all costs a few records). An input that
    cannot be read gives ``None`` (no check): reading it for real reports the problem.
    ``progress[0]`` counts the records seen (for a watchdog).
    """
    seen = progress if progress is not None else [0]
    keys: dict[str, None] = {}
    remaining = set(wanted)
    for spec in data:
        try:
            source, target = pick_source(reader.registry, spec)
            with using(reader.limits):
                if source.read_with_context is not None:
                    raw = source.read_with_context(target, reader.context(source))
                else:
                    raw = source.read(target)
                mapping = reader.mapping_for(source)
                counted = mapping.missing_read  # a peek: the summary counts the real read
                try:
                    for item in raw:
                        seen[0] += 1
                        if isinstance(item, RecordError):
                            continue
                        if mapping:
                            item = RawRecord(mapping.apply(item.values), item.location)
                        keys.update(dict.fromkeys(item.values))
                        remaining.difference_update(item.values)
                        if not remaining:
                            break
                finally:
                    mapping.missing_read = counted
                    close = getattr(raw, "close", None)
                    if close is not None:
                        close()
        except UpsellRulesError:
            return None
        except Exception:  # plugin code failed: the real read names the plugin and says how
            return None
        if not remaining:
            break
    return list(keys)
