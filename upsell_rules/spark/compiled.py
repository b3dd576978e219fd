"""The ruleset compiled to Spark SQL and run by Spark itself: no Python workers.

For rulesets that compile (every derivation and function they use has a SQL form,
docs/sql.md), :func:`decide_sql` runs the query ``upsell-rules compile --dialect spark``
prints over a DataFrame of accounts, inside the JVM. It returns the compiled query's
decision columns (score, band, blocked, cap, category scores, triggers, gates, red
flags, play, owner), not the full record: the text of a record (evidence, window,
narrative) needs the Python engine, :func:`upsell_rules.spark.decide`.
"""

from __future__ import annotations

import os
import uuid
from datetime import date
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from upsell_rules.errors import RulesetError
from upsell_rules.plugin.build import default_registry
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.sql import NotCompilable, compilable, compile_ruleset
from upsell_rules.sql.ddl import table_columns
from upsell_rules.sql.signals import sql_type

__all__ = ["compiled_sql", "contract_frame", "decide_sql"]


def _load(ruleset: str | os.PathLike[str]) -> tuple[Ruleset, Any]:
    registry = default_registry()
    loaded, findings = check_ruleset(os.fspath(ruleset), registry)
    errors = [f for f in findings if f.is_error]
    if loaded is None or errors:
        raise RulesetError(errors or findings)
    return loaded, registry


def contract_frame(dataframe: DataFrame, ruleset: Ruleset) -> DataFrame:
    """``dataframe`` with every input column the query reads, in the contract's Spark type.

    A text column is read like a CSV cell (``a|b|c`` for a list, ISO dates); a value that
    is not of its type becomes null (``try_cast``), as a bad cell is a missing signal in
    the Python engine; a column the DataFrame lacks is all null.
    """
    present = {name.lower(): (name, kind) for name, kind in dataframe.dtypes}
    columns = []
    for name, kind in table_columns(ruleset):
        target = sql_type(kind).sql(dialect="spark")
        found = present.get(name.lower())
        if found is None:
            columns.append(F.lit(None).cast(target).alias(name))
            continue
        source = f"`{found[0]}`"
        if found[1] == "string" and target.upper().startswith("ARRAY"):
            source = f"split({source}, '[|]')"
        columns.append(F.expr(f"try_cast({source} AS {target})").alias(name))
    return dataframe.select(*columns)


def compiled_sql(ruleset: Ruleset, registry: Any, as_of: date, table: str) -> str:
    """The Spark SQL query deciding every account of ``table``; :class:`NotCompilable`
    (naming the plugin and the signal) when the ruleset does not compile."""
    reason = compilable(ruleset, registry)
    if reason is not None:
        raise NotCompilable(reason)
    return compile_ruleset(ruleset, registry, dialect="spark", as_of=as_of, table=table,
                           pretty=False)


def decide_sql(
    dataframe: DataFrame,
    ruleset: str | os.PathLike[str],
    as_of: date | str | None = None,
) -> DataFrame:
    """Decide every account of ``dataframe`` with the ruleset compiled to Spark SQL.

    Returns a lazy DataFrame with the compiled query's columns
    (:func:`upsell_rules.sql.output_columns`). ``as_of`` defaults to today, fixed here.
    Raises :class:`~upsell_rules.errors.RulesetError` for a ruleset with errors and
    :class:`~upsell_rules.sql.NotCompilable` for one that does not compile (use
    :func:`upsell_rules.spark.decide` for it).
    """
    loaded, registry = _load(ruleset)
    when = (date.fromisoformat(as_of) if isinstance(as_of, str)
            else as_of if as_of is not None else date.today())
    view = f"upsell_rules_accounts_{uuid.uuid4().hex[:12]}"
    query = compiled_sql(loaded, registry, when, view)
    contract_frame(dataframe, loaded).createOrReplaceTempView(view)
    return dataframe.sparkSession.sql(query)
