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

4. The default engine (``auto``: for JSON Lines output from 8 MB, DuckDB reads, checks,
   decides and writes each record's JSON line) against ``--engine python``, ``dry-run
   --format jsonl`` of the 100,000 accounts and of the first 2,000; the records must be
   byte-identical. The start-up of that path (``--engine duckdb`` on the 50 sample
   accounts) and the cost per account with it taken out.
5. 1,000,000 accounts through ``dry-run --format jsonl`` with the default engine, from
   JSON Lines and from Parquet: wall time and peak memory.
6. The same 100,000 accounts as CSV (``io/synthetic.write_csv``), ``dry-run --format
   jsonl`` with ``--engine python`` and with ``--engine duckdb`` (DuckDB's CSV reader);
   the records must be byte-identical. Ratios to ``json.loads`` of the JSON Lines.

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
from upsell_rules.io.synthetic import generate_accounts, write_csv, write_jsonl  # noqa: E402
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


def data_file(n: int, suffix: str = ".jsonl") -> Path:
    """The generated file with ``n`` accounts, JSON Lines or ``.csv`` (written once, then
    reused)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"accounts-{n}-{SEED}{suffix}"
    if not path.exists():
        print(f"generating {n:,} accounts -> {path}", file=sys.stderr)
        tmp = path.with_suffix(".tmp")
        (write_csv if suffix == ".csv" else write_jsonl)(tmp, generate_accounts(n, SEED, AS_OF))
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


def installed_env() -> dict[str, str]:
    """This environment, with Python allowed to write bytecode caches as an installed
    package has them (``PYTHONDONTWRITEBYTECODE`` would recompile every module on every
    run: a tenth of a second of start-up that no user pays)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cli_engine_run(path: Path, engine: str | None = None, keep: bool = True
                   ) -> tuple[float, bytes, str, int]:
    """``dry-run --format jsonl`` on ``path`` in a fresh process (``--engine ENGINE``, or
    the default): wall seconds, the records written, the engine the summary names, and
    the peak memory in KB (0 without ``/usr/bin/time``). ``keep=False``: the records are
    not read back (a million of them are 1.5 GB).

    Run with :func:`installed_env`.
    """
    out = DATA / f"out-{engine or 'default'}.jsonl"
    timed = ["/usr/bin/time", "-f", "%M"] if os.path.exists("/usr/bin/time") else []
    chosen = ["--engine", engine] if engine else []
    start = time.perf_counter()
    done = subprocess.run([*timed, sys.executable, "-m", "upsell_rules", "dry-run",
                           str(RULESET), "--data", str(path), "--as-of", AS_OF.isoformat(),
                           "--format", "jsonl", *chosen, "--no-state", "--output", str(out)],
                          capture_output=True, text=True, check=False,
                          env=installed_env())
    seconds = time.perf_counter() - start
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 0, done.stderr
    peak = int(lines.pop()) if timed else 0
    ran = lines[-1].rsplit("engine ", 1)[-1]
    written = out.read_bytes() if keep else b""
    out.unlink(missing_ok=True)
    return seconds, written, ran, peak


def engines_compared(path: Path, runs: int = 2, engine: str | None = None
                     ) -> tuple[float, float, str]:
    """Best wall seconds of ``--engine python`` and of ``engine`` (the default engine) on
    ``path``, run in turn, and the engine the other ran; their records must be
    byte-identical."""
    python, default, ran = float("inf"), float("inf"), ""
    for _ in range(runs):
        t_python, by_python, _, _ = cli_engine_run(path, "python")
        t_default, by_default, ran, _ = cli_engine_run(path, engine)
        assert by_python == by_default, f"the {ran} engine's records differ from python's"
        python, default = min(python, t_python), min(default, t_default)
    return python, default, ran


def start_up_seconds(runs: int = 3) -> float:
    """The columnar path's fixed cost: ``--engine duckdb`` on the 50 sample accounts."""
    sample = ROOT / "samples" / "accounts.jsonl"
    return min(cli_engine_run(sample, "duckdb")[0] for _ in range(runs))


def measure(n: int, big: int, repeat: int, engine_n: int = 2_000) -> dict[str, Any]:
    """Every figure of the "Compiled SQL on DuckDB" section, from this one run."""
    registry = default_registry()
    rules = load_ruleset(str(RULESET), registry)
    query = query_for(rules, registry)
    path = data_file(n)
    engine_n = min(engine_n, n)
    t_json = json_parse_seconds(path, repeat)
    t_python, t_auto, auto_engine = engines_compared(path)
    t_start = start_up_seconds()
    out = DATA / "out-duckdb.jsonl"
    t_duck, rows = best_of(repeat, lambda: duckdb_jsonl(path, query, rules, out))
    out.unlink(missing_ok=True)
    assert rows == n, rows
    compared, bad = same_decisions(path, rules, registry, query)
    result: dict[str, Any] = {
        "n": n, "repeat": repeat, "t_json": t_json, "t_python": t_python, "t_duck": t_duck,
        "t_auto": t_auto, "auto_engine": auto_engine, "t_start": t_start,
        "compared": compared, "bad": bad, "duckdb": duckdb.__version__, "big": big,
        "big_rows": [], "engine_n": engine_n, "big_dry_run": None,
    }
    result["csv"] = engines_compared(data_file(n, ".csv"), engine="duckdb")
    if engine_n:
        small = first_accounts(path, engine_n)
        result["small_python"], result["small_auto"], result["small_engine"] = \
            engines_compared(small)
    if big:
        result["big_rows"] = big_rows(big, rules, query)
        big_path = data_file(big)
        runs = []
        for name, source in (("JSON Lines", big_path),
                             ("Parquet", DATA / f"accounts-{big}-{SEED}.parquet")):
            seconds, _written, ran, peak = cli_engine_run(source, keep=False)
            runs.append((name, seconds, ran, peak))
        result["big_dry_run"] = (runs, json_parse_seconds(big_path, 1))
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
        "(measured by `bench/engines.py`, which `run_all.py` runs). Each `dry-run` is a "
        "fresh process with Python's bytecode caches, as installed. Ratios are to "
        f"`json.loads` of the same file in the same run; best of {r['repeat']} (the "
        "dry-runs: of 2).",
        "",
        f"| {n:,} accounts, JSON Lines in and out | seconds | us/account | vs json.loads |",
        "|---|---:|---:|---:|",
    ]
    slope = (r["t_auto"] - r["t_start"]) / n
    for name, t in (("`json.loads` of every line (floor)", t_json),
                    ("python engine: `dry-run --format jsonl --engine python`, full decision "
                     "records", r["t_python"]),
                    (f"default engine (`auto`, which ran `{r['auto_engine']}`): DuckDB reads, "
                     "checks, decides and writes every record's JSON line; the same records "
                     "byte for byte", r["t_auto"]),
                    ("... its start-up alone (`--engine duckdb` on the 50 sample accounts)",
                     r["t_start"]),
                    ("compiled query on DuckDB: its JSON reader, the query, the decision "
                     "columns written as JSON Lines", r["t_duck"])):
        lines.append(f"| {name} | {t:.2f} | {t / n * 1e6:.1f} | {t / t_json:.2f}x |")
    if r.get("csv"):
        csv_python, csv_duck, csv_ran = r["csv"]
        for name, t in (("the same accounts as CSV in: `--engine python`", csv_python),
                        (f"the same accounts as CSV in: `--engine duckdb` (ran `{csv_ran}`; "
                         "DuckDB's CSV reader), the same records byte for byte", csv_duck)):
            lines.append(f"| {name} | {t:.2f} | {t / n * 1e6:.1f} | {t / t_json:.2f}x |")
    lines.append(f"| default engine per account, start-up taken out | | {slope * 1e6:.1f} | "
                 f"{slope * n / t_json:.2f}x |")
    lines += [
        "",
        f"The compiled query's rows equal the Python engine's on {r['compared'] - r['bad']:,} "
        f"of {r['compared']:,} accounts (score, raw score, band, blocked, cap, category "
        "scores, triggers, upsell types, gates, red flags, play, owner).",
    ]
    if r["big_dry_run"]:
        runs, t_json_big = r["big_dry_run"]
        lines += ["", f"| {r['big']:,} accounts, fresh process | seconds | us/account | "
                  "peak memory |", "|---|---:|---:|---:|"]
        for name, seconds, ran, peak in runs:
            lines.append(f"| `dry-run --format jsonl`, default engine (ran `{ran}`), {name} in, "
                         f"JSON Lines out | {seconds:.1f} | {seconds / r['big'] * 1e6:.1f} | "
                         f"{peak / 1024:.0f} MB |")
        lines.append(f"| `json.loads` of every line (floor) | {t_json_big:.1f} | "
                     f"{t_json_big / r['big'] * 1e6:.1f} | |")
        for name, big_seconds, big_peak in r["big_rows"]:
            lines.append(f"| compiled query, decision columns only, from {name} | "
                         f"{big_seconds:.1f} | {big_seconds / r['big'] * 1e6:.1f} | "
                         f"{big_peak / 1024:.0f} MB |")
    lines += ["", "What this shows:", ""]
    lines.append(
        f"- Full decision records through the default engine cost {r['t_auto'] / t_json:.1f}x "
        f"`json.loads` at {n:,} accounts, against {r['t_python'] / t_json:.1f}x for the "
        f"python engine; {r['t_start']:.2f} s of that is start-up (Python, plugins, ruleset, "
        f"DuckDB, compiling the record query), and each further account costs "
        f"{slope * n / t_json:.1f}x `json.loads`.")
    if r["engine_n"]:
        lines.append(
            f"- On the first {r['engine_n']:,} accounts the default engine ran "
            f"`{r['small_engine']}`: {r['small_auto']:.2f} s against {r['small_python']:.2f} s "
            "for `--engine python` (below 8 MB of JSON Lines the start-up costs more than "
            "DuckDB saves).")
    if r["big_dry_run"]:
        runs, t_json_big = r["big_dry_run"]
        for name, seconds, _ran, peak in runs:
            lines.append(f"- {r['big']:,} accounts, full records from {name}: {seconds:.1f} s "
                         f"({seconds / t_json_big:.1f}x `json.loads` of the JSON Lines), "
                         f"peak {peak / 1024:.0f} MB.")
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
