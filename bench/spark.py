"""Spark ``local[2]`` throughput of ``upsell_rules.spark`` (both paths) against the Python engine.

Usage::

    pip install -e '.[spark]'          # and a Java runtime (17+)
    python bench/spark.py              # 100k generated accounts
    python bench/spark.py --accounts 20000 --update-docs

Both sides do the same work on the same generated accounts (JSON Lines): read, coerce,
decide, and turn each decision into the table row (core columns + the record as JSON).
The Python engine runs in this process; Spark runs ``decide`` on two local cores
(mapInArrow, one Python worker per core) and ``decide_sql`` (the ruleset compiled to
Spark SQL) from a cached DataFrame and writes to Spark's ``noop`` sink, so the figure
is the deciding, not a file system. Each side is timed best
of ``--repeat`` after one warm-up run; the records are compared for equality afterwards.
``--update-docs`` writes the table into bench/README.md and docs/performance.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from upsell_rules.engine.evaluate import Evaluator  # noqa: E402
from upsell_rules.engine.stream import decide_all  # noqa: E402
from upsell_rules.io.records import AccountReader  # noqa: E402
from upsell_rules.io.rows import decision_row  # noqa: E402
from upsell_rules.io.synthetic import generate_accounts  # noqa: E402
from upsell_rules.io.synthetic import write_jsonl as write_accounts  # noqa: E402
from upsell_rules.plugin.build import default_registry  # noqa: E402
from upsell_rules.ruleset.loader import load_ruleset  # noqa: E402
from upsell_rules.sql.core import core_of_record, core_of_row  # noqa: E402

AS_OF = date(2026, 11, 2)
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
START, END = "<!-- spark: written by bench/spark.py -->", "<!-- /spark -->"


def python_engine(path: Path) -> list[str]:
    """Every account decided in this process; the ``record`` column of each row."""
    registry = default_registry()
    ruleset = load_ruleset(str(RULESET), registry)
    reader = AccountReader(registry, ruleset.input_types(), as_of=AS_OF,
                           signals=ruleset.signals)
    evaluator = Evaluator(ruleset, registry)
    out = []
    for decision in decide_all(evaluator, reader.read(str(path)), AS_OF):
        assert isinstance(decision, dict), decision
        out.append(decision_row(decision, AS_OF.isoformat())["record"])
    return out


def timed(repeat: int, fn: Any) -> tuple[float, Any]:
    fn()  # warm-up: imports, JIT of the JVM, Python workers started
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def digest(records: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(records)).encode()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--update-docs", action="store_true")
    args = parser.parse_args()

    data = ROOT / "bench" / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"accounts-{args.accounts}-{args.seed}.jsonl"
    if not path.exists():
        write_accounts(str(path), generate_accounts(args.accounts, args.seed, AS_OF))

    py_time, py_records = timed(args.repeat, lambda: python_engine(path))
    ruleset = load_ruleset(str(RULESET), default_registry())

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    from upsell_rules.spark import decide, decide_sql

    spark = (SparkSession.builder.master("local[2]").appName("upsell-rules-bench")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "2g")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        accounts = spark.read.json(str(path)).repartition(2).cache()
        accounts.count()
        frame = decide(accounts, RULESET, as_of=AS_OF)
        spark_time, _ = timed(args.repeat, lambda: frame.write.format("noop")
                              .mode("overwrite").save())
        spark_records = [r.record for r in frame.select("record").collect()]
        compiled = decide_sql(accounts, RULESET, as_of=AS_OF)
        sql_time, _ = timed(args.repeat, lambda: compiled.write.format("noop")
                            .mode("overwrite").save())
        sql_rows = {r["account_id"]: core_of_row(ruleset, tuple(r)) for r in compiled.collect()}
        spark_version = spark.version
    finally:
        spark.stop()
    load = os.getloadavg()[0]
    same = digest(py_records) == digest(spark_records) and len(spark_records) == args.accounts
    expected = {}
    for record in py_records:
        decision = json.loads(record)
        expected[decision["account_id"]] = core_of_record(ruleset, decision)
    sql_same = sql_rows == expected

    n = args.accounts
    rows = [
        ("Python engine, one process", n / py_time, py_time, 1.0),
        ("Spark local[2], decide (mapInArrow): full records", n / spark_time, spark_time,
         py_time / spark_time),
        ("Spark local[2], decide_sql (compiled Spark SQL): decision columns", n / sql_time,
         sql_time, py_time / sql_time),
    ]
    lines = [
        START,
        f"Spark `local[2]`, {n:,} generated accounts (JSON Lines), measured "
        f"{date.today().isoformat()} on {os.cpu_count()} shared CPUs (load average "
        f"{load:.1f} at the end), Python "
        f"{platform.python_version()}, Spark {spark_version}, by `python bench/spark.py "
        f"--accounts {n}`. Records identical to the Python engine's: "
        f"{'yes' if same else 'NO'}; compiled decision columns identical: "
        f"{'yes' if sql_same else 'NO'}.",
        "",
        "| path | accounts/s | seconds | vs Python engine |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {rate:,.0f} | {seconds:.1f} | {ratio:.2f}x |"
          for name, rate, seconds, ratio in rows],
        "",
        "The Python engine and `decide` build full decision records (evidence, narrative);",
        "`decide_sql` computes the decision columns only (score, band, gates, red flags,",
        "triggers, play, owner), as the compiled query does everywhere.",
        END,
    ]
    text = "\n".join(lines)
    print(text)
    if args.update_docs:
        for page in (ROOT / "bench" / "README.md", ROOT / "docs" / "performance.md"):
            body = page.read_text(encoding="utf-8")
            pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
            if not pattern.search(body):
                sys.exit(f"{page}: no {START} ... {END} block to replace")
            page.write_text(pattern.sub(lambda _: text, body), encoding="utf-8")
    if not (same and sql_same):
        sys.exit("Spark's results differ from the Python engine's")


if __name__ == "__main__":
    main()
