"""The signals of a ruleset in SQL: typed input columns, then derived signals by level.

Inputs are read from the accounts table, cast to their declared type (values outside a
signal's ``min:``/``max:`` become missing, as the reader makes them). A derived signal
is computed in the first layer after everything it reads; one that gives a list stays
an expression its readers expand (a list cannot be a column in every dialect).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlglot import exp

from upsell_rules.expr.nodes import names_in
from upsell_rules.io.coercion import SERIES
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.model import Ruleset, SignalDef
from upsell_rules.sql.errors import NotCompilable
from upsell_rules.sql.expressions import Conditions, SqlValue
from upsell_rules.sql.lists import ListValue, count_where
from upsell_rules.sql.values import any_of, case, col, holds, is_null, lit

#: SQL types of the signal types (SQLGlot renders them per dialect).
SQL_TYPES = {
    "number": "DOUBLE",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
    "string": "VARCHAR",
    "date": "DATE",
    "number_list": "ARRAY<DOUBLE>",
    "integer_list": "ARRAY<BIGINT>",
    "string_list": "ARRAY<VARCHAR>",
    "date_list": "ARRAY<DATE>",
}


def sql_type(signal_type: str) -> exp.DataType:
    """The SQL type a signal of ``signal_type`` is held in."""
    return exp.DataType.build(SQL_TYPES[signal_type])


@dataclass
class SignalScope:
    """The signals visible while compiling: what plugins' SQL forms read."""

    ruleset: Ruleset
    registry: Registry
    dialect: str
    as_of: date
    values: dict[str, SqlValue] = field(default_factory=dict)

    def signal(self, name: str) -> Any:
        """The SQL value of a signal."""
        try:
            return self.values[name]
        except KeyError:
            raise NotCompilable(f"signal '{name}' is not known in SQL") from None

    def type_of(self, name: str) -> str:
        """The declared type of a signal."""
        sig = self.ruleset.signals.get(name)
        return sig.type if sig is not None else ""


def input_column(sig: SignalDef) -> exp.Expr:
    """An input column, cast to its type, with out-of-range values missing; so is a
    per-cycle series with a NULL item, as the reader leaves it out."""
    value: exp.Expr = exp.cast(col(sig.name), sql_type(sig.type))
    low, high = sig.minimum, sig.maximum
    gaps: list[exp.Expr] = []
    if sig.type in SERIES:
        gaps.append(exp.GT(this=count_where(ListValue(value), is_null), expression=lit(0)))
    if low is None and high is None:
        return case([(holds(gaps[0]), exp.null())], value) if gaps else value

    def outside(v: exp.Expr) -> exp.Expr:
        tests: list[exp.Expr] = []
        if low is not None:
            tests.append(exp.LT(this=v, expression=lit(float(low))))
        if high is not None:
            tests.append(exp.GT(this=v, expression=lit(float(high))))
        return any_of(tests)

    if sig.type.endswith("_list"):
        bad = exp.GT(this=count_where(ListValue(value), outside), expression=lit(0))
        return case([(holds(any_of([bad, *gaps])), exp.null())], value)
    return case([(outside(value), exp.null())], value)


def levels(ruleset: Ruleset, registry: Registry) -> list[list[SignalDef]]:
    """Derived signals grouped by level: each reads only inputs and lower levels."""
    level: dict[str, int] = {n: 0 for n, s in ruleset.signals.items() if s.is_input}
    pending = [s for s in ruleset.signals.values() if not s.is_input]
    while pending:
        progressed = False
        for sig in list(pending):
            reads = _reads(sig, registry)
            if all(r in level or r not in ruleset.signals for r in reads):
                level[sig.name] = 1 + max((level.get(r, 0) for r in reads), default=0)
                pending.remove(sig)
                progressed = True
        if not progressed:
            names = ", ".join(s.name for s in pending)
            raise NotCompilable(f"derived signals read each other in a loop: {names}")
    grouped: dict[int, list[SignalDef]] = {}
    for name, sig in ruleset.signals.items():
        if not sig.is_input:
            grouped.setdefault(level[name], []).append(sig)
    return [grouped[k] for k in sorted(grouped)]


def _reads(sig: SignalDef, registry: Registry) -> list[str]:
    return names_read(sig, params_of(registry, sig), registry)


def params_of(registry: Registry, sig: SignalDef) -> dict[str, Any]:
    """A derived signal's parameters with the derivation's defaults filled in (as the
    engine resolves them)."""
    if sig.derive is None:
        return {}
    derivation = registry.derivations[sig.derive]
    params = {k: v.default for k, v in derivation.params.items() if v.default is not None}
    params.update(sig.params)
    return params


def derived_value(scope: SignalScope, sig: SignalDef, params: Mapping[str, Any]) -> SqlValue:
    """The SQL value of one derived signal (a named condition or a derivation)."""
    if sig.when is not None:
        where = f" (in signal '{sig.name}')"
        return holds(Conditions(scope, where).truth(sig.when.node))
    assert sig.derive is not None
    derivation = scope.registry.derivations[sig.derive]
    if derivation.sql is None:
        provider = scope.registry.provider("derivation", sig.derive)
        raise NotCompilable(
            f"signal '{sig.name}': derivation '{sig.derive}' (plugin '{provider}') has no "
            "SQL form"
        )
    value: SqlValue = derivation.sql(params, scope)
    return value


def names_read(sig: SignalDef, params: Mapping[str, Any], registry: Registry) -> list[str]:
    """The signals a derived signal reads."""
    if sig.when is not None:
        return names_in(sig.when.node)
    assert sig.derive is not None
    return list(registry.derivations[sig.derive].reads(params))
