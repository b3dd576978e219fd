"""The compiled postgres query, run on the real PostgreSQL server the suite starts,
decides like the Python engine (the contract table created with the compiled DDL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sql.compare import differences, python_rows, row_of
from tests.sql.test_derivations_conformance import (
    N_CONDS,
    SCORES,
    WEIGHTS,
    _ruleset,
    accounts,
    condition,
)
from upsell_rules.errors import Location
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.loader import check_ruleset, load_ruleset
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.sql import compile_ruleset
from upsell_rules.sql.core import core_of_row
from upsell_rules.sql.ddl import create_table, table_columns

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 2)
REGISTRY = default_registry()


def postgres_rows(url: str, ruleset: Ruleset, registry: Registry,
                  items: Sequence[Account], as_of: date) -> dict[str, dict[str, Any]]:
    """Create the contract table in a fresh schema, load ``items``, run the query."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
        try:
            con.execute(f"SET search_path TO {schema}")
            con.execute(create_table("postgres", ruleset=ruleset))
            columns = table_columns(ruleset)
            marks = ", ".join("%s" for _ in columns)
            with con.cursor() as cur:
                cur.executemany(f"INSERT INTO accounts VALUES ({marks})",
                                [row_of(a, columns) for a in items])
            query = compile_ruleset(ruleset, registry, dialect="postgres", as_of=as_of)
            rows = con.execute(query).fetchall()
        finally:
            con.execute(f"DROP SCHEMA {schema} CASCADE")
    return {r[0]: core_of_row(ruleset, tuple(r)) for r in rows}


def test_compiled_postgres_query_agrees_on_the_samples(postgres_url: str) -> None:
    for name in ("upsell_timing", "expansion_triggers"):
        rules = load_ruleset(str(ROOT / "rulesets" / f"{name}.yaml"), REGISTRY)
        reader = AccountReader(REGISTRY, rules.input_types(), signals=rules.signals)
        items = [a for a in reader.read(str(ROOT / "samples" / "accounts.csv"))
                 if isinstance(a, Account)]
        assert len(items) >= 40
        expected = python_rows(rules, REGISTRY, items, AS_OF)
        got = postgres_rows(postgres_url, rules, REGISTRY, items, AS_OF)
        assert differences(expected, got) == []


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(st.lists(condition, min_size=N_CONDS, max_size=N_CONDS), st.sampled_from(WEIGHTS),
       st.lists(st.sampled_from(SCORES), min_size=9, max_size=9),
       st.lists(accounts, min_size=1, max_size=10))
def test_compiled_postgres_query_agrees_on_generated_series(
    postgres_url: str, conds: list[str], weights: tuple[float, ...], scores: list[float],
    values: list[dict[str, Any]],
) -> None:
    rules, findings = check_ruleset("series.yaml", REGISTRY,
                                    text=_ruleset(conds, weights, scores, 33.35))
    assert rules is not None and not [f for f in findings if f.is_error]
    items = [Account(f"S-{i}", "", "", {k: v for k, v in row.items() if v is not None},
                     Location("generated", i + 1)) for i, row in enumerate(values)]
    expected = python_rows(rules, REGISTRY, items, AS_OF)
    assert differences(expected, postgres_rows(postgres_url, rules, REGISTRY, items,
                                               AS_OF)) == []
