"""The compiled ruleset on embedded DuckDB against the Python engine, in one run.

Measures, on generated accounts (the same generator and seed as run_all.py):

1. 100,000 accounts, JSON Lines in and out: ``json.loads`` of every line (the floor),
   ``upsell-rules dry-run --format jsonl`` (the python engine, full decision records),
   and the compiled query on DuckDB reading the file with its own JSON reader and
   writing the decision columns as JSON Lines (``COPY ... (FORMAT JSON)``). Ratios to
   ``json.loads`` are of the same run.
2. That the DuckDB rows equal the Python engine's on every one of those accounts
   (score, raw score, band, blocked, cap, category scores, triggers, upsell types,
   gates, red flags, play, owner).
3. 1,000,000 accounts: wall time and peak memory of the compiled query from Parquet and
   from JSON Lines, each in a fresh process (``/usr/bin/time``).

    python bench/engines.py [--accounts 100000] [--big 1000000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from upsell_rules.engine.evaluate import Evaluator  # noqa: E402
from upsell_rules.io.records import Account, AccountReader  # noqa: E402
from upsell_rules.io.synthetic import generate_accounts, write_jsonl  # noqa: E402
from upsell_rules.plugin.build import default_registry  # noqa: E402
from upsell_rules.ruleset.loader import load_ruleset  # noqa: E402
from upsell_rules.sql import compile_ruleset  # noqa: E402
from upsell_rules.sql.core import core_of_record, core_of_row  # noqa: E402
from upsell_rules.sql.ddl import table_columns  # noqa: E402
from upsell_rules.sql.signals import SQL_TYPES  # noqa: E402

AS_OF = date(2026, 11, 2)
SEED = 7
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
DATA = ROOT / "bench" / "data"
DUCK_TYPES = {k: v.replace("ARRAY<", "").rstrip(">") + ("[]" if v.startswith("ARRAY") else "")
              for k, v in SQL_TYPES.items()}


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs and its result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def data_file(n: int) -> Path:
    """The generated JSONL file with ``n`` accounts (written once, then reused)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"accounts-{n}-{SEED}.jsonl"
    if not path.exists():
        print(f"generating {n:,} accounts -> {path}", file=sys.stderr)
        tmp = path.with_suffix(".tmp")
        write_jsonl(tmp, generate_accounts(n, SEED, AS_OF))
        tmp.replace(path)
    return path


def json_reader(path: Path, rules: Any) -> str:
    """DuckDB's JSON Lines reader over ``path``, typed as the contract says."""
    columns = ", ".join(f"'{name}': '{DUCK_TYPES[kind]}'" for name, kind in table_columns(rules))
    return (f"read_json('{path}', format = 'newline_delimited', columns = {{{columns}}})")


def query_for(rules: Any, registry: Any) -> str:
    """The compiled duckdb query of the default ruleset."""
    return compile_ruleset(rules, registry, dialect="duckdb", as_of=AS_OF)


def duckdb_jsonl(path: Path, query: str, rules: Any, out: Path) -> int:
    """JSON Lines in, decision columns out as JSON Lines; returns the row count."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW accounts AS SELECT * FROM {json_reader(path, rules)}")
    con.execute(f"COPY ({query}) TO '{out}' (FORMAT JSON)")
    count = con.execute(f"SELECT count(*) FROM read_json_auto('{out}')").fetchone()
    con.close()
    return int(count[0]) if count else 0


def json_parse_seconds(path: Path, repeat: int) -> float:
    """The floor: the standard json module parsing every line."""

    def parse_all() -> int:
        count = 0
        loads = json.loads
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                loads(line)
                count += 1
        return count

    return best_of(repeat, parse_all)[0]


def cli_dry_run(path: Path) -> float:
    """Wall seconds of ``upsell-rules dry-run`` JSONL in -> JSONL out (python engine)."""
    out = DATA / "out-python.jsonl"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "upsell_rules", "dry-run", str(RULESET), "--data",
                    str(path), "--as-of", AS_OF.isoformat(), "--format", "jsonl",
                    "--output", str(out)], capture_output=True, check=False)
    seconds = time.perf_counter() - start
    out.unlink(missing_ok=True)
    return seconds


def same_decisions(path: Path, rules: Any, registry: Any, query: str) -> tuple[int, int]:
    """(accounts compared, mismatches): DuckDB's rows against the Python engine's."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW accounts AS SELECT * FROM {json_reader(path, rules)}")
    got = {r[0]: core_of_row(rules, r) for r in con.execute(query).fetchall()}
    con.close()
    evaluator = Evaluator(rules, registry)
    reader = AccountReader(registry, rules.input_types(), signals=rules.signals)
    compared = bad = 0
    for account in reader.read(str(path)):
        if not isinstance(account, Account):
            continue
        compared += 1
        if got.get(account.account_id) != core_of_record(rules, evaluator.decide(account, AS_OF)):
            bad += 1
    return compared, bad


BIG_SCRIPT = """
import duckdb, sys, time
query, source = open(sys.argv[1]).read(), sys.argv[2]
start = time.perf_counter()
con = duckdb.connect()
con.execute("CREATE VIEW accounts AS SELECT * FROM " + source)
con.execute("COPY (" + query + ") TO '" + sys.argv[3] + "' (FORMAT JSON)")
print(time.perf_counter() - start)
"""


def big_run(source: str, query: str) -> tuple[float, int]:
    """Seconds and peak memory (KB) of the query over ``source`` in a fresh process."""
    qfile, out = DATA / "query.sql", DATA / "out-big.jsonl"
    qfile.write_text(query)
    timed = ["/usr/bin/time", "-f", "%M"] if os.path.exists("/usr/bin/time") else []
    start = time.perf_counter()
    done = subprocess.run([*timed, sys.executable, "-c", BIG_SCRIPT, str(qfile), source,
                           str(out)], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    peak = int(done.stderr.strip().splitlines()[-1]) if timed else 0
    out.unlink(missing_ok=True)
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    registry = default_registry()
    rules = load_ruleset(str(RULESET), registry)
    query = query_for(rules, registry)
    path = data_file(args.accounts)
    n = args.accounts

    t_json = json_parse_seconds(path, args.repeat)
    t_python = min(cli_dry_run(path) for _ in range(2))
    out = DATA / "out-duckdb.jsonl"
    t_duck, rows = best_of(args.repeat, lambda: duckdb_jsonl(path, query, rules, out))
    out.unlink(missing_ok=True)
    assert rows == n, rows
    compared, bad = same_decisions(path, rules, registry, query)

    print(f"## {n:,} accounts, JSON Lines in and out (best of {args.repeat}; python: of 2)\n")
    print("| what | seconds | us/account | vs json.loads |")
    print("|---|---:|---:|---:|")
    for name, t in (("json.loads of every line (floor)", t_json),
                    ("python engine: `dry-run --format jsonl`, full records", t_python),
                    ("compiled query on DuckDB: read_json -> decision columns as JSONL",
                     t_duck)):
        print(f"| {name} | {t:.2f} | {t / n * 1e6:.1f} | {t / t_json:.2f}x |")
    print(f"\nDuckDB rows equal to the Python engine's: {compared - bad:,} of {compared:,} "
          f"accounts ({bad} differ).\n")

    if args.big:
        big = data_file(args.big)
        parquet = DATA / f"accounts-{args.big}-{SEED}.parquet"
        if not parquet.exists():
            con = duckdb.connect()
            con.execute(f"COPY (SELECT * FROM {json_reader(big, rules)}) TO '{parquet}' "
                        "(FORMAT PARQUET)")
            con.close()
        print(f"## {args.big:,} accounts, compiled query on DuckDB, fresh process\n")
        print("| input | seconds | us/account | peak memory |")
        print("|---|---:|---:|---:|")
        for name, source in (("Parquet", f"read_parquet('{parquet}')"),
                             ("JSON Lines", json_reader(big, rules))):
            seconds, peak = big_run(source, query)
            print(f"| {name} | {seconds:.1f} | {seconds / args.big * 1e6:.1f} | "
                  f"{peak / 1024:.0f} MB |")


if __name__ == "__main__":
    main()
