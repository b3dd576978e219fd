"""The ruleset compiled to Spark SQL, run by a local Spark: the Python engine's columns."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from tests.sql.compare import differences, python_rows
from tests.support import AS_OF, ROOT
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import load_ruleset
from upsell_rules.sql import compile_ruleset
from upsell_rules.sql.core import core_of_record, core_of_row

from .test_decide import RULESET, python_engine


def test_compiled_spark_sql_gives_the_python_engines_decision_columns(spark: Any) -> None:
    from upsell_rules.spark import decide_sql

    ruleset = load_ruleset(RULESET)
    lines, _ = python_engine("samples/accounts.csv")
    expected = {k: core_of_record(ruleset, json.loads(v)) for k, v in lines.items()}
    # Text columns (lists as a|b|c, dates as text) are cast to the contract's types; one
    # query only: planning the compiled query costs Spark most of a minute here.
    accounts = spark.read.csv(str(ROOT / "samples" / "accounts.csv"), header=True)
    rows = decide_sql(accounts, RULESET, as_of=AS_OF).collect()
    got = {row["account_id"]: core_of_row(ruleset, tuple(row)) for row in rows}
    assert got == expected


def test_the_databricks_query_runs_on_spark_and_agrees(spark: Any) -> None:
    """Databricks SQL is Spark SQL: the query compiled for databricks (the other bundled
    ruleset, list-heavy) runs on the local Spark and gives the Python engine's columns.
    This is the evidence for databricks short of a Databricks workspace (docs/sql.md)."""
    from upsell_rules.spark.compiled import contract_frame

    registry = default_registry()
    ruleset = load_ruleset(str(ROOT / "rulesets" / "expansion_triggers.yaml"), registry)
    reader = AccountReader(registry, ruleset.input_types(), signals=ruleset.signals)
    accounts = [a for a in reader.read(str(ROOT / "samples" / "accounts.csv"))
                if isinstance(a, Account)]
    as_of = date.fromisoformat(AS_OF)
    expected = python_rows(ruleset, registry, accounts, as_of)
    query = compile_ruleset(ruleset, registry, dialect="databricks", as_of=as_of,
                            table="databricks_accounts", pretty=False)
    frame = spark.read.csv(str(ROOT / "samples" / "accounts.csv"), header=True)
    contract_frame(frame, ruleset).createOrReplaceTempView("databricks_accounts")
    got = {row["account_id"]: core_of_row(ruleset, tuple(row))
           for row in spark.sql(query).collect()}
    assert differences(expected, got) == []
    assert len(got) == 50
