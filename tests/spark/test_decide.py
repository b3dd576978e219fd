"""upsell_rules.spark.decide on a local Spark: the same records as the Python engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.errors import RulesetError
from upsell_rules.io.rows import decision_row

RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")


def python_engine(data: str, failed: int = 0) -> tuple[dict[str, str], str]:
    """The Python engine's JSON Lines per account, and what it printed on stderr."""
    result = run_cli("dry-run", RULESET, "--data", data, "--as-of", AS_OF, "--format", "jsonl")
    assert result.returncode == (1 if failed else 0), result.stderr
    assert f"failed {failed} " in result.stderr
    lines = {json.loads(line)["account_id"]: line for line in result.stdout.splitlines()}
    return lines, result.stderr


def unlocated(line: str) -> dict[str, Any]:
    record = json.loads(line)
    for warning in record.get("data_warnings", []):
        warning.pop("location")
    return record


def rows_of(frame: Any) -> list[dict[str, Any]]:
    return [row.asDict() for row in frame.collect()]


def test_text_columns_give_the_python_engines_records_and_columns(spark: Any) -> None:
    from upsell_rules.spark import decide, spark_schema

    accounts = spark.read.csv(str(ROOT / "samples" / "accounts.csv"), header=True)
    frame = decide(accounts.repartition(4), RULESET, as_of=AS_OF)
    assert frame.schema == spark_schema()
    rows = rows_of(frame)
    expected, _ = python_engine("samples/accounts.csv")
    assert len(rows) == len(expected) == 50
    for row in rows:
        line = expected[row["account_id"]]
        assert row["record"] == line and row["error"] is None
        core = decision_row(json.loads(line), AS_OF)
        assert {**row, "as_of": row["as_of"].isoformat()} == {**core, "error": None}


def test_typed_columns_arrays_and_numbers_decide_alike(spark: Any) -> None:
    from upsell_rules.spark import decide

    accounts = spark.read.json(str(ROOT / "samples" / "accounts.jsonl"))
    assert dict(accounts.dtypes)["seats_active_history"] == "array<bigint>"
    rows = rows_of(decide(accounts, Path(RULESET), as_of=AS_OF))
    expected, _ = python_engine("samples/accounts.jsonl")
    assert {r["account_id"]: r["record"] for r in rows} == expected


def test_a_bad_record_costs_only_its_row_and_says_where(spark: Any) -> None:
    from upsell_rules.spark import decide

    accounts = spark.read.csv(str(ROOT / "samples" / "bad_accounts.csv"), header=True)
    rows = rows_of(decide(accounts.coalesce(1), RULESET, as_of=AS_OF))
    expected, stderr = python_engine("samples/bad_accounts.csv", failed=1)
    failed = [r for r in rows if r["error"] is not None]
    decided = {r["account_id"]: r["record"] for r in rows if r["error"] is None}
    # A bad cell is a warning in the record, located where the record came from.
    assert {k: unlocated(v) for k, v in decided.items()} == {
        k: unlocated(v) for k, v in expected.items()}
    assert '"location":"spark partition 0:3"' in decided["ACC-2003"]
    assert len(rows) == len(decided) + len(failed) == 6 and len(failed) == 1
    for row in failed:
        assert row["error"].startswith("spark partition 0:")
        assert row["score"] is None and row["band"] is None
        problem = json.loads(row["record"])["error"]
        # The Python engine reports the same field and message for the same record.
        message = problem["message"].split(" (first at")[0]
        assert f"{problem['field']}: {message}" in stderr
        assert "duplicate account_id 'ACC-2002'" in row["error"]


def test_a_ruleset_with_errors_fails_on_the_driver(spark: Any, tmp_path: Path) -> None:
    from upsell_rules.spark import decide

    broken = tmp_path / "broken.yaml"
    broken.write_text(Path(RULESET).read_text(encoding="utf-8").replace(
        "health_score", "health_scroe", 1), encoding="utf-8")
    accounts = spark.createDataFrame([("A1",)], "account_id string")
    with pytest.raises(RulesetError) as caught:
        decide(accounts, broken, as_of=AS_OF)
    assert str(broken) in str(caught.value)


def test_without_pyspark_the_import_says_what_to_install() -> None:
    code = ("import sys\nsys.modules['pyspark'] = None\n"
            "import upsell_rules.spark\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 1
    assert "upsell_rules.spark needs PySpark and PyArrow" in done.stderr
    assert "pip install 'upsell-rules[spark]'" in done.stderr


def test_duplicate_ids_in_different_partitions_fail_as_in_the_cli(
    spark: Any, tmp_path: Path
) -> None:
    from pyspark.sql import functions as F

    from upsell_rules.spark import decide

    accounts = spark.read.csv(str(ROOT / "samples" / "accounts.csv"), header=True)
    # The same two accounts again, with another health score, as a second partition.
    again = accounts.filter(F.col("account_id").isin("ACC-1003", "ACC-1010")).withColumn(
        "health_score", F.lit("41"))
    # Partition 0: the samples in file order; partition 1: the two repeats.
    both = (accounts.coalesce(1).withColumn("part", F.lit(0))
            .withColumn("n", F.monotonically_increasing_id())
            .union(again.coalesce(1).withColumn("part", F.lit(1))
                   .withColumn("n", F.monotonically_increasing_id()))
            .repartitionByRange(2, "part").sortWithinPartitions("n").drop("part", "n"))
    partitions: dict[str, list[int]] = {}
    for r in both.select("account_id", F.spark_partition_id().alias("p")).collect():
        partitions.setdefault(r["account_id"], []).append(r["p"])
    assert {k: v for k, v in partitions.items() if len(v) > 1} == {
        "ACC-1003": [0, 1], "ACC-1010": [0, 1]}
    # The CLI on the same rows in the same order: the first of each id wins.
    data = tmp_path / "twice.csv"
    lines = (ROOT / "samples" / "accounts.csv").read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join([*lines, *(x for x in lines if x.startswith(
        ("ACC-1003,", "ACC-1010,")))]) + "\n", encoding="utf-8")
    expected, stderr = python_engine(str(data), failed=2)
    assert "duplicate account_id 'ACC-1003' (first at line 4)" in stderr

    rows = rows_of(decide(both, RULESET, as_of=AS_OF))
    assert len(rows) == 52
    decided = {r["account_id"]: r["record"] for r in rows if r["error"] is None}
    assert decided == expected
    failed = sorted(r["error"] for r in rows if r["error"] is not None)
    assert failed == [
        "spark partition 1:1: account_id: duplicate account_id 'ACC-1003' "
        "(first at spark partition 0:3)",
        "spark partition 1:2: account_id: duplicate account_id 'ACC-1010' "
        "(first at spark partition 0:10)",
    ]
    # Without the check (ids known unique) each partition only looks at its own rows.
    unchecked = rows_of(decide(both, RULESET, as_of=AS_OF, check_duplicates=False))
    assert len(unchecked) == 52 and all(r["error"] is None for r in unchecked)
