"""One query that decides every account of a table: the compiled ruleset.

The query is a chain of common table expressions, each adding columns to the one before:
typed inputs, derived signals by level, one boolean per condition (in the engine's
order), category scores and everything else that follows from the conditions, then the
score, its band, the play and the owner. The last ``SELECT`` keeps the decision columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from upsell_rules.expr.nodes import Node, names_in
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.sql import decisions, scoring
from upsell_rules.sql.expressions import Conditions
from upsell_rules.sql.lists import ListValue, reset_aliases, whole_list
from upsell_rules.sql.signals import (
    SignalScope,
    derived_value,
    input_column,
    levels,
    names_read,
    params_of,
)
from upsell_rules.sql.tables import parse_table_name
from upsell_rules.sql.values import case, col, holds, lit

#: The columns every compiled query returns, before the category scores. ``owner`` is
#: the account's owner (the person) passed through from the table, as the Python
#: engine's record echoes it; ``action_owner`` is the play's owner role.
CORE_COLUMNS = ("account_id", "account_name", "owner", "score", "raw_score", "band", "blocked",
                "capped_at")
#: The columns after the category scores (lists of ids ``|``-joined, NULL when empty).
TAIL_COLUMNS = ("upsell_types", "trigger", "triggers", "failed_gates", "red_flags", "play",
                "action_owner")
#: Text columns of the table passed through to the output (blank when NULL, as the
#: record's), under a name no signal can take in the CTEs between.
_IDENTITY = {"account_name": "_account_name", "owner": "_owner"}


def category_column(name: str) -> str:
    """The output column of a category's score."""
    return f"score_{name}"


def output_columns(ruleset: Ruleset) -> list[str]:
    """The compiled query's columns, in order."""
    return [*CORE_COLUMNS, *(category_column(c.name) for c in ruleset.categories),
            *TAIL_COLUMNS]


@dataclass
class Chain:
    """The common table expressions built so far."""

    ctes: list[tuple[str, exp.Select]]

    def add(self, name: str, columns: Sequence[exp.Expr], star: bool = True) -> None:
        source = self.ctes[-1][0]
        select = exp.select(*([exp.Star()] if star else []), *columns, copy=False).from_(
            exp.to_identifier(source), copy=False)
        self.ctes.append((name, select))

    def query(self) -> exp.Select:
        """``SELECT *`` from the last expression, with every one before as a CTE."""
        final = exp.select(exp.Star()).from_(exp.to_identifier(self.ctes[-1][0]))
        for name, select in self.ctes:
            final = final.with_(name, as_=select, copy=False)
        return final


def conditions_of(ruleset: Ruleset) -> list[Node]:
    """Every condition the decision reads, in the engine's order."""
    return [node for _label, node in labelled_conditions(ruleset)]


def labelled_conditions(ruleset: Ruleset) -> list[tuple[str, Node]]:
    """Every condition with the ruleset path it is written at, in the engine's order."""
    rs = ruleset
    found: list[tuple[str, Node]] = [
        (f"scoring.categories.{c.name}.tiers.{t.id}", t.when.node)
        for c in rs.categories for t in c.tiers
    ]
    found += [(f"gates.{g.id}", g.require.node) for g in rs.gates]
    found += [(f"red_flags.{f.id}", f.when.node) for f in rs.red_flags]
    found += [(f"triggers.{t.id}", t.when.node) for t in rs.triggers]
    found += [(f"owners.{group}", r.when.node) for group, rules in rs.owners.items()
              for r in rules if r.when is not None]
    return found


def _wanted(ruleset: Ruleset, registry: Registry) -> set[str]:
    """The signals the conditions read, directly or through derived signals."""
    wanted: set[str] = set()
    stack = [n for node in conditions_of(ruleset) for n in names_in(node)]
    while stack:
        name = stack.pop()
        sig = ruleset.signals.get(name)
        if sig is None or name in wanted:
            continue
        wanted.add(name)
        if not sig.is_input:
            stack.extend(names_read(sig, params_of(registry, sig), registry))
    return wanted


def derive_signals(chain: Chain, scope: SignalScope, inputs: Mapping[str, str],
                   wanted: set[str], lists: list[str] | None = None) -> list[str]:
    """Add the derived signals of ``wanted`` to ``chain``, a layer per level; the names of
    the scalar ones, in order. ``inputs`` (name -> type) are already columns of the chain.

    A list-valued signal stays an expression its readers expand; with ``lists`` (DuckDB
    only) it also becomes a column, and its name is appended there.
    """
    rs, registry = scope.ruleset, scope.registry
    for name, kind in inputs.items():
        scope.values[name] = ListValue(col(name)) if kind.endswith("_list") else col(name)
    names: list[str] = []
    for number, group in enumerate(levels(rs, registry), start=1):
        columns = []
        for sig in group:
            if sig.name not in wanted:
                continue
            value = derived_value(scope, sig, params_of(registry, sig))
            if isinstance(value, ListValue):
                scope.values[sig.name] = value
                if lists is not None:
                    columns.append(whole_list(value).as_(sig.name, quoted=True))
                    lists.append(sig.name)
            else:
                columns.append(value.as_(sig.name, quoted=True))
                names.append(sig.name)
        for column in columns:
            if column.alias not in scope.values:
                scope.values[column.alias] = col(column.alias)
        if columns:
            chain.add(f"derived_{number}", columns)
    return names


def build_query(ruleset: Ruleset, registry: Registry, dialect: str, as_of: date,
                table: str = "accounts", keep: Sequence[str] = (), native: bool = True
                ) -> exp.Expr:
    """The compiled query (a SQLGlot tree); ``keep``: extra input columns to pass through.

    ``native=False`` writes lists the portable way (``UNNEST`` subqueries) even for a
    dialect with list functions of its own (the tests run both on DuckDB).

    ``table`` is read as a name (:func:`~upsell_rules.sql.tables.parse_table_name`),
    never as SQL: ``ValueError`` for anything else. Raises :class:`NotCompilable` naming
    what has no SQL form.
    """
    reset_aliases(dialect if native else "")
    rs = ruleset
    scope = SignalScope(rs, registry, dialect, as_of)
    wanted = _wanted(rs, registry)
    inputs = [s for s in rs.signals.values() if s.is_input and s.name in wanted]
    base = [exp.cast(col("account_id"), exp.DataType.build("VARCHAR")).as_("account_id",
                                                                             quoted=True)]
    base += [exp.Coalesce(this=exp.cast(col(name), exp.DataType.build("VARCHAR")),
                          expressions=[lit("")]).as_(alias, quoted=True)
             for name, alias in _IDENTITY.items()]
    base += [col(k) for k in keep]
    base += [input_column(s).as_(s.name, quoted=True) for s in inputs]
    source = parse_table_name(table).expression()
    chain = Chain([("inputs", exp.select(*base).from_(source))])
    derive_signals(chain, scope, {s.name: s.type for s in inputs}, wanted)
    truths = []
    for index, (label, node) in enumerate(labelled_conditions(rs)):
        compiler = Conditions(scope, f" (in {label})")
        truths.append(holds(compiler.truth(node)).as_(f"_c{index}", quoted=True))
    passed = [col("account_id"), *(col(a) for a in _IDENTITY.values()), *(col(k) for k in keep)]
    chain.add("conditions", [*passed, *truths], star=False)
    add_decision(chain, rs)
    final = exp.select(*(col(c) for c in keep), *(
        col(_IDENTITY[c]).as_(c, quoted=True) if c in _IDENTITY else col(c)
        for c in output_columns(rs))).from_(exp.to_identifier(chain.ctes[-1][0]))
    # PostgreSQL inlines a CTE read once, and each layer reads the one before several
    # times: inlined, the expressions multiply (gigabytes of plan). Materialized, each
    # layer is computed once.
    materialized = True if dialect == "postgres" else None
    for name, select in chain.ctes:
        final = final.with_(name, as_=select, copy=False, materialized=materialized)
    return final


@dataclass(frozen=True)
class ValuesQuery:
    """:func:`build_values_query`: the query and the names of its column groups."""

    sql: str
    derived: list[str]
    lists: list[str]


def values_chain(ruleset: Ruleset, registry: Registry, conditions: Sequence[Node],
                 as_of: date, table: str, inputs: Mapping[str, str]
                 ) -> tuple[Chain, list[str], list[str]]:
    """DuckDB: ``table``'s columns, every derived signal and ``_c0``, ``_c1``... (the
    outcome of each of ``conditions``); with the names of the scalar and the list-valued
    derived signals. Raises :class:`NotCompilable` naming what has no SQL form."""
    reset_aliases("duckdb")
    scope = SignalScope(ruleset, registry, "duckdb", as_of)
    chain = Chain([("inputs", exp.select(exp.Star()).from_(exp.to_table(table)))])
    lists: list[str] = []
    derived = derive_signals(chain, scope, inputs, set(ruleset.signals), lists)
    truths = [holds(Conditions(scope).truth(node)).as_(f"_c{index}", quoted=True)
              for index, node in enumerate(conditions)]
    chain.add("conditions", truths)
    return chain, derived, lists


def build_values_query(ruleset: Ruleset, registry: Registry, conditions: Sequence[Node],
                       as_of: date, table: str, inputs: Mapping[str, str],
                       leading: Sequence[str]) -> ValuesQuery:
    """DuckDB: for each row of ``table`` (the typed ``inputs`` plus the ``leading``
    columns, ``_row`` among them), the ``leading`` columns, the inputs, every derived
    signal (lists too) and then the outcome of each of ``conditions``, in ``_row`` order.

    What the columnar path of the ``duckdb`` engine reads back to render records.
    Raises :class:`NotCompilable` naming what has no SQL form.
    """
    chain, derived, lists = values_chain(ruleset, registry, conditions, as_of, table, inputs)
    names = [*leading, *inputs, *derived, *lists,
             *(f"_c{index}" for index in range(len(conditions)))]
    final = exp.select(*(col(n) for n in names)).from_(
        exp.to_identifier(chain.ctes[-1][0])).order_by(col("_row"))
    for name, select in chain.ctes:
        final = final.with_(name, as_=select, copy=False)
    return ValuesQuery(final.sql(dialect="duckdb", copy=False), derived, lists)

def add_decision(chain: Chain, rs: Ruleset) -> None:
    """Add the scores, band, play and owner to the chain of ``conditions``."""
    c = iter(col(f"_c{i}") for i in range(10**9))
    categories = [(cat, [next(c) for _ in cat.tiers]) for cat in rs.categories]
    gates = [(g, next(c)) for g in rs.gates]
    flags = [(f, next(c)) for f in rs.red_flags]
    triggers = [(t, next(c)) for t in rs.triggers]
    owner_rules: dict[str, list[tuple[exp.Expr | None, str]]] = {
        group: [(None if r.when is None else next(c), r.role) for r in rules]
        for group, rules in rs.owners.items()
    }
    names = [category_column(cat.name) for cat in rs.categories]
    chain.add("scored", [
        *(scoring.category_score(cat, conds).as_(name, quoted=True)
          for (cat, conds), name in zip(categories, names, strict=True)),
        scoring.cap(flags).as_("_cap", quoted=True),
        decisions.blocker_play(flags, gates).as_("_blocker_play", quoted=True),
        decisions.first_trigger(triggers, play=True).as_("_trigger_play", quoted=True),
        decisions.first_trigger(triggers, play=False).as_("trigger", quoted=True),
        decisions.fired_ids([(t.id, fired) for t, fired in triggers]).as_(
            "triggers", quoted=True),
        decisions.fired_ids(decisions.kinds_in_order(triggers)).as_("upsell_types",
                                                                    quoted=True),
        decisions.fired_ids([(g.id, exp.Not(this=p)) for g, p in gates]).as_(
            "failed_gates", quoted=True),
        decisions.fired_ids([(f.id, fired) for f, fired in flags]).as_("red_flags", quoted=True),
    ])
    chain.add("weighted", [scoring.weighted(rs, names).as_("_v", quoted=True)])
    chain.add("rounding", [e.as_(n, quoted=True)
                           for n, e in scoring.rounding_parts(col("_v")).items()])
    chain.add("tie", [scoring.rounding_tie(col("_v")).as_("_t", quoted=True)])
    chain.add("rounded", [scoring.round_cents().as_("raw_score", quoted=True)])
    chain.add("capped", [
        scoring.capped_score(col("raw_score"), col("_cap")).as_("score", quoted=True),
        exp.Not(this=exp.Is(this=col("_blocker_play"), expression=exp.null())).as_(
            "blocked", quoted=True),
    ])
    chain.add("banded", [
        scoring.band(rs, col("score")).as_("band", quoted=True),
        case([(exp.GT(this=col("raw_score"), expression=col("score")), col("_cap"))]).as_(
            "capped_at", quoted=True),
    ])
    chain.add("played", [decisions.play(rs).as_("play", quoted=True)])
    chain.add("owned", [decisions.owner(rs, owner_rules).as_("action_owner", quoted=True)])

