"""The ruleset compiled to Spark SQL, run by a local Spark: the Python engine's columns."""

from __future__ import annotations

import json
from typing import Any

from tests.support import AS_OF, ROOT
from upsell_rules.ruleset.loader import load_ruleset
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
