"""Run a compiled ruleset on DuckDB (or PostgreSQL) and hold it to the Python engine."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb

from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.io.records import Account
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.sql import compile_ruleset
from upsell_rules.sql.core import core_of_record, core_of_row
from upsell_rules.sql.ddl import create_table, table_columns


def row_of(account: Account, columns: Sequence[tuple[str, str]]) -> list[Any]:
    """The account as one row of the contract table (absent values NULL).

    A blank name or owner is NULL, as a database holds an absent one: the query gives it
    back blank, as the record does.
    """
    fixed = {"account_id": account.account_id, "account_name": account.account_name or None,
             "owner": account.owner or None}
    return [fixed[name] if name in fixed else _typed(account.values.get(name), kind)
            for name, kind in columns]


def _typed(value: Any, kind: str) -> Any:
    """A number column holds doubles (a driver will not send a list of int and float)."""
    if value is None:
        return None
    if kind == "number":
        return float(value)
    if kind == "number_list":
        return [None if v is None else float(v) for v in value]
    return value


def duckdb_rows(ruleset: Ruleset, registry: Registry, accounts: Sequence[Account],
                as_of: date, native: bool = True) -> dict[str, dict[str, Any]]:
    """The compiled duckdb query's decision columns for ``accounts``, by account id.

    ``native=False`` compiles lists the portable way (as for PostgreSQL and the others).
    """
    con = duckdb.connect()
    try:
        con.execute(create_table("duckdb", ruleset=ruleset))
        columns = table_columns(ruleset)
        if accounts:
            marks = ", ".join("?" for _ in columns)
            con.executemany(f"INSERT INTO accounts VALUES ({marks})",
                            [row_of(a, columns) for a in accounts])
        query = compile_ruleset(ruleset, registry, dialect="duckdb", as_of=as_of, native=native)
        return {r[0]: core_of_row(ruleset, r) for r in con.execute(query).fetchall()}
    finally:
        con.close()


def python_rows(ruleset: Ruleset, registry: Registry, accounts: Sequence[Account],
                as_of: date) -> dict[str, dict[str, Any]]:
    """The Python engine's decisions, cut to the compiled query's columns."""
    evaluator = Evaluator(ruleset, registry)
    return {a.account_id: core_of_record(ruleset, evaluator.decide(a, as_of)) for a in accounts}


def differences(expected: dict[str, dict[str, Any]], got: dict[str, dict[str, Any]]
                ) -> list[str]:
    """One line per account whose columns differ (empty when all agree)."""
    lines = []
    if set(expected) != set(got):
        lines.append(f"accounts differ: {sorted(set(expected) ^ set(got))}")
    for account_id, want in expected.items():
        have = got.get(account_id)
        if have is not None and have != want:
            diff = {k: (want[k], have.get(k)) for k in want if want[k] != have.get(k)}
            lines.append(f"{account_id}: {json.dumps(diff, default=str)}")
    return lines
