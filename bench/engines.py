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

4. ``--engine duckdb`` (its columnar path: DuckDB reads, types, derives and decides the
   file; Python renders the records) against ``--engine python``, ``dry-run --format
   jsonl`` of the 100,000 accounts and of the first 2,000; the records must be
   byte-identical.

``bench/run_all.py`` runs ``measure`` and writes ``section`` into docs/performance.md;
run alone, this prints the section::

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


def cli_engine_run(path: Path, engine: str) -> tuple[float, bytes]:
    """Wall seconds of ``dry-run --format jsonl --engine ENGINE`` on ``path``, and the
    records it wrote."""
    out = DATA / f"out-{engine}.jsonl"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "upsell_rules", "dry-run", str(RULESET),
                           "--data", str(path), "--as-of", AS_OF.isoformat(), "--format",
                           "jsonl", "--engine", engine, "--no-state", "--output", str(out)],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    assert done.returncode == 0 and f"engine {engine}" in done.stderr, done.stderr
    written = out.read_bytes()
    out.unlink(missing_ok=True)
    return seconds, written


def engines_compared(path: Path, runs: int = 2) -> tuple[float, float]:
    """Best wall seconds of the python engine and of the duckdb engine's columnar path on
    ``path``, run in turn; their records must be byte-identical."""
    python, duck = float("inf"), float("inf")
    for _ in range(runs):
        t_python, by_python = cli_engine_run(path, "python")
        t_duck, by_duck = cli_engine_run(path, "duckdb")
        assert by_python == by_duck, "the duckdb engine's records differ from python's"
        python, duck = min(python, t_python), min(duck, t_duck)
    return python, duck


def measure(n: int, big: int, repeat: int, engine_n: int = 2_000) -> dict[str, Any]:
    """Every figure of the "Compiled SQL on DuckDB" section, from this one run."""
    registry = default_registry()
    rules = load_ruleset(str(RULESET), registry)
    query = query_for(rules, registry)
    path = data_file(n)
    engine_n = min(engine_n, n)
    t_json = json_parse_seconds(path, repeat)
    t_python, t_columnar = engines_compared(path)
    out = DATA / "out-duckdb.jsonl"
    t_duck, rows = best_of(repeat, lambda: duckdb_jsonl(path, query, rules, out))
    out.unlink(missing_ok=True)
    assert rows == n, rows
    compared, bad = same_decisions(path, rules, registry, query)
    result: dict[str, Any] = {
        "n": n, "repeat": repeat, "t_json": t_json, "t_python": t_python, "t_duck": t_duck,
        "t_columnar": t_columnar,
        "compared": compared, "bad": bad, "duckdb": duckdb.__version__, "big": big,
        "big_rows": [], "engine_n": engine_n,
    }
    if engine_n:
        small = first_accounts(path, engine_n)
        result["engine_python"], result["engine_duckdb"] = engines_compared(small)
    if big:
        result["big_rows"] = big_rows(big, rules, query)
    return result


def big_rows(big: int, rules: Any, query: str) -> list[tuple[str, float, int]]:
    """(input, seconds, peak KB) of the query over ``big`` accounts, Parquet and JSONL."""
    path = data_file(big)
    parquet = DATA / f"accounts-{big}-{SEED}.parquet"
    if not parquet.exists():
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM {json_reader(path, rules)}) TO '{parquet}' "
                    "(FORMAT PARQUET)")
        con.close()
    rows = []
    for name, source in (("Parquet", f"read_parquet('{parquet}')"),
                         ("JSON Lines", json_reader(path, rules))):
        seconds, peak = big_run(source, query)
        rows.append((name, seconds, peak))
    return rows


def section(r: dict[str, Any], heading: str = "##") -> list[str]:
    """The "Compiled SQL on DuckDB" section of docs/performance.md, as Markdown lines."""
    n, t_json = r["n"], r["t_json"]
    lines = [
        f"{heading} Compiled SQL on DuckDB",
        "",
        f"DuckDB {r['duckdb']}; the same generated accounts (seed {SEED}), the default ruleset "
        "compiled with `upsell-rules compile --dialect duckdb` (measured by "
        "`bench/engines.py`, which `run_all.py` runs). Ratios are to `json.loads` of the same "
        f"file in the same run; best of {r['repeat']} (the python engine: of 2).",
        "",
        f"| {n:,} accounts, JSON Lines in and out | seconds | us/account | vs json.loads |",
        "|---|---:|---:|---:|",
    ]
    for name, t in (("`json.loads` of every line (floor)", t_json),
                    ("python engine: `dry-run --format jsonl --engine python`, full decision "
                     "records", r["t_python"]),
                    ("duckdb engine, columnar path: `dry-run --format jsonl --engine duckdb` "
                     "(DuckDB reads, types, derives and decides; Python renders), the same "
                     "records byte for byte", r["t_columnar"]),
                    ("compiled query on DuckDB: its JSON reader, the query, the decision "
                     "columns written as JSON Lines", r["t_duck"])):
        lines.append(f"| {name} | {t:.2f} | {t / n * 1e6:.1f} | {t / t_json:.2f}x |")
    lines += [
        "",
        f"The DuckDB rows equal the Python engine's on {r['compared'] - r['bad']:,} of "
        f"{r['compared']:,} accounts (score, raw score, band, blocked, cap, category scores, "
        "triggers, upsell types, gates, red flags, play, owner).",
    ]
    if r["big_rows"]:
        lines += [
            "",
            f"| {r['big']:,} accounts, compiled query on DuckDB, fresh process | seconds | "
            "us/account | peak memory |",
            "|---|---:|---:|---:|",
        ]
        for name, seconds, peak in r["big_rows"]:
            lines.append(f"| {name} | {seconds:.1f} | {seconds / r['big'] * 1e6:.1f} | "
                         f"{peak / 1024:.0f} MB |")
    lines += ["", "What this does and does not show:", "",
              f"- The decision columns (everything but the text of a record) of {n:,} accounts "
              f"cost {r['t_duck'] / t_json:.1f}x `json.loads` through the compiled query. The "
              "full decision record still needs per-account text (evidence, window, message, "
              "narrative), which no engine renders outside Python yet."]
    if r["big_rows"]:
        worst = max(s for _, s, _ in r["big_rows"])
        best = min(s for _, s, _ in r["big_rows"])
        peak = max(p for _, _, p in r["big_rows"])
        lines.append(f"- {r['big']:,} accounts in {best:.1f} s to {worst:.1f} s, peak "
                     f"{peak / 1024:.0f} MB.")
    if r["engine_n"]:
        lines.append(
            f"- `--engine duckdb` against `--engine python` on the first {r['engine_n']:,} "
            f"accounts, `dry-run --format jsonl`: {r['engine_duckdb']:.2f} s against "
            f"{r['engine_python']:.2f} s (at {n:,}: {r['t_columnar']:.1f} s against "
            f"{r['t_python']:.1f} s). DuckDB types and checks every field and hands ~100 "
            "columns back to Python; rendering each record's text is the same work either "
            "way. `--engine auto` (the default) therefore runs `python`.")
    return lines


def first_accounts(path: Path, count: int) -> Path:
    """A file with the first ``count`` lines of ``path`` (the same accounts, in order)."""
    target = DATA / f"{path.stem}-first{count}.jsonl"
    if not target.exists():
        with open(path, encoding="utf-8") as src, open(target, "w", encoding="utf-8") as dst:
            for _, line in zip(range(count), src, strict=False):
                dst.write(line)
    return target


def contender(path: Path, rules: Any, registry: Any, count: int,
              repeat: int) -> tuple[float, float, dict[str, dict[str, Any]]]:
    """The compiled query over the first ``count`` accounts of ``path``, as a peer.

    Returns the seconds from the JSON Lines file (DuckDB's reader, the query, the rows
    fetched into Python), the seconds from a DuckDB table already holding the accounts
    (the query and the fetch only), and the rows by account id.
    """
    sample = first_accounts(path, count)
    query = query_for(rules, registry)

    def from_file() -> list[Any]:
        con = duckdb.connect()
        con.execute(f"CREATE VIEW accounts AS SELECT * FROM {json_reader(sample, rules)}")
        rows = con.execute(query).fetchall()
        con.close()
        return rows

    t_file, rows = best_of(repeat, from_file)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE accounts AS SELECT * FROM {json_reader(sample, rules)}")
    t_table, again = best_of(repeat, lambda: con.execute(query).fetchall())
    con.close()
    assert sorted(again) == sorted(rows)
    return t_file, t_table, {r[0]: core_of_row(rules, r) for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("\n".join(section(measure(args.accounts, args.big, args.repeat))))


if __name__ == "__main__":
    main()
