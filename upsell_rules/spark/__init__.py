"""Deciding accounts on Spark: the Python engine applied per partition, through Arrow.

For data that outgrows one machine, and for rulesets whose plugins run Python code that
no SQL can express::

    from upsell_rules.spark import decide

    accounts = spark.read.parquet("s3://bucket/accounts/")
    decisions = decide(accounts, "rulesets/upsell_timing.yaml", as_of="2026-11-02")
    decisions.write.mode("overwrite").parquet("s3://bucket/decisions/2026-11-02/")

Each partition is handed to the Python engine as Arrow record batches
(``DataFrame.mapInArrow``); the rows that come back hold the core decision columns and
the whole decision record as JSON, identical to ``upsell-rules dry-run --format jsonl``.
For a ruleset that compiles to SQL, :func:`decide_sql` runs the compiled query in
Spark SQL instead (no Python workers; the decision columns, not the record's text).
PySpark is optional: ``pip install 'upsell-rules[spark]'`` (Spark itself needs a Java
runtime). docs/scale.md says when to use it.
"""

from __future__ import annotations

try:
    import pyarrow  # noqa: F401
    import pyspark  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        f"upsell_rules.spark needs PySpark and PyArrow ({exc.name} is not installed): "
        "pip install 'upsell-rules[spark]'; Spark also needs a Java runtime (17 or newer)"
    ) from exc

from upsell_rules.spark.compiled import decide_sql
from upsell_rules.spark.frame import decide, spark_schema

__all__ = ["decide", "decide_sql", "spark_schema"]
