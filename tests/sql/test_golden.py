"""The compiled SQL of the bundled rulesets in every dialect, held to golden files and
parsed back by SQLGlot in that dialect.

Snowflake and BigQuery cannot run here: these files are what is checked of them
(docs/sql.md says so). Databricks SQL is Spark SQL: its query is the spark one, which
tests/spark runs. Regenerate after an intended change with
``UPSELL_RULES_UPDATE_GOLDEN=1 python -m pytest tests/sql/test_golden.py``.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
import sqlglot

from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import load_ruleset
from upsell_rules.sql import DIALECTS, compile_ruleset
from upsell_rules.sql.ddl import create_table

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "sql"
AS_OF = date(2026, 11, 2)
REGISTRY = default_registry()
RULESETS = ["upsell_timing", "expansion_triggers"]


def _check(path: Path, text: str) -> None:
    if os.environ.get("UPSELL_RULES_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run with UPSELL_RULES_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{path} changed"


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("name", RULESETS)
def test_compiled_query_matches_its_golden_file_and_parses_back(name: str, dialect: str) -> None:
    rules = load_ruleset(str(ROOT / "rulesets" / f"{name}.yaml"), REGISTRY)
    text = compile_ruleset(rules, REGISTRY, dialect=dialect, as_of=AS_OF) + ";\n"
    _check(GOLDEN / dialect / f"{name}.sql", text)
    parsed = sqlglot.parse(text, read=dialect)
    statements = [p for p in parsed if p is not None]
    assert len(statements) == 1
    assert statements[0].find(sqlglot.exp.With) is not None
    # Every decision column is in the outer SELECT, by name.
    names = [e.alias_or_name for e in statements[0].expressions]
    assert names[:8] == ["account_id", "account_name", "owner", "score", "raw_score", "band",
                         "blocked", "capped_at"]
    assert names[-7:] == ["upsell_types", "trigger", "triggers", "failed_gates", "red_flags",
                          "play", "action_owner"]
    assert "'|" in text and "','" not in text  # lists |-joined, as in every other output


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_contract_table_ddl_matches_its_golden_file_and_parses_back(dialect: str) -> None:
    text = create_table(dialect) + "\n"
    _check(GOLDEN / dialect / "accounts_ddl.sql", text)
    create = sqlglot.parse_one(text, read=dialect)
    assert isinstance(create, sqlglot.exp.Create)
    columns = [c.name for c in create.find_all(sqlglot.exp.ColumnDef)]
    assert columns[0] == "account_id" and "usage_history" in columns and len(columns) >= 29


def test_the_same_ruleset_compiles_to_the_same_bytes() -> None:
    rules = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"), REGISTRY)
    first = compile_ruleset(rules, REGISTRY, dialect="postgres", as_of=AS_OF)
    assert compile_ruleset(rules, REGISTRY, dialect="postgres", as_of=AS_OF) == first


@pytest.mark.parametrize("name", RULESETS)
def test_databricks_gets_the_spark_query(name: str) -> None:
    """Databricks SQL is Spark SQL: the same list functions, the same text."""
    rules = load_ruleset(str(ROOT / "rulesets" / f"{name}.yaml"), REGISTRY)
    spark = compile_ruleset(rules, REGISTRY, dialect="spark", as_of=AS_OF)
    assert compile_ruleset(rules, REGISTRY, dialect="databricks", as_of=AS_OF) == spark
    assert "TRANSFORM(" in spark and "UNNEST" not in spark
