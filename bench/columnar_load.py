"""The columnar path's loading (read, type and check a JSON Lines file), old against new.

On generated accounts (bench/data/accounts-N-7.jsonl, written once), the default
ruleset's contract types, in one run:

- ``json.loads`` of every line (the floor);
- old: the loading as of ``--old`` (default ``4925720``, the last commit with it: one
  ``CREATE TEMP TABLE`` of typed, checked rows numbered by ``row_number()``, then the
  count of unclean rows and distinct ids);
- new: ``engine/jsonl_check.py`` (``count_lines``, ``start_check``: an aggregate query that
  checks, then the view ``_accounts`` over DuckDB's typed reader).

Both are followed by one scan of every column of ``_accounts`` (the new view reads the
file then; the old table was already read), and both scans must give the same checksum
of every row (line number, integer bits and typed values). Prints
seconds and ratios to ``json.loads``. ``--memory`` also runs each in a fresh process
and reports its peak memory (``/usr/bin/time``)::

    python bench/columnar_load.py [--accounts 100000] [--repeat 3] [--memory]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from bench.engines import AS_OF, RULESET, best_of, data_file, json_parse_seconds  # noqa: E402
from upsell_rules.engine.jsonl_check import count_lines, make_views, start_check  # noqa: E402
from upsell_rules.io.records import AccountReader  # noqa: E402
from upsell_rules.limits import Limits  # noqa: E402
from upsell_rules.plugin.build import default_registry  # noqa: E402
from upsell_rules.ruleset.loader import load_ruleset  # noqa: E402


def contract() -> tuple[dict[str, str], dict[str, Any]]:
    """The field types and ranges the default ruleset reads."""
    registry = default_registry()
    rules = load_ruleset(str(RULESET), registry)
    reader = AccountReader(registry, rules.input_types(), as_of=AS_OF,
                           source_options=rules.sources, signals=rules.signals)
    return dict(reader.types), dict(reader.ranges)


def old_module(ref: str) -> dict[str, Any]:
    """``sql/input_checks.py`` as of ``ref``, run as a namespace (it imports nothing of
    the project)."""
    text = subprocess.run(["git", "show", f"{ref}:upsell_rules/sql/input_checks.py"],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout
    namespace: dict[str, Any] = {"__name__": "old_input_checks"}
    exec(compile(text, f"{ref}:input_checks.py", "exec"), namespace)
    return namespace


def scan(con: Any, types: dict[str, str]) -> tuple[int, int]:
    columns = ", ".join('"' + n + '"' for n in types)
    found = con.execute(f"SELECT count(*), sum(hash(_row, _ints, {columns})) "
                        "FROM _accounts").fetchone()
    return int(found[0]), int(found[1])


def old_load(path: str, types: dict[str, str], ranges: dict[str, Any],
             old: dict[str, Any]) -> tuple[int, int]:
    if count_lines(path, 0, 0) is None:
        raise SystemExit("the file is not clean")
    con = duckdb.connect()
    con.execute(f"CREATE TEMP TABLE _accounts AS {old['typed_inputs_sql'](path, types, ranges)}")
    found = con.execute("SELECT count(*) FILTER (WHERE NOT _clean), count(DISTINCT account_id) "
                        "FROM _accounts").fetchone()
    assert found is not None and found[0] == 0
    result = scan(con, types)
    con.close()
    return result


def new_load(path: str, types: dict[str, str], ranges: dict[str, Any]) -> tuple[int, int]:
    if not start_check(path, types, ranges, Limits()).passed():
        raise SystemExit("the file is not clean")
    con = duckdb.connect()
    make_views(con, path, types, None)
    result = scan(con, types)
    con.close()
    return result


def peak_kb(which: str, path: str, ref: str) -> int:
    """Peak memory of one load and scan in a fresh process."""
    if not os.path.exists("/usr/bin/time"):
        return 0
    done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, __file__, "--one",
                           which, "--path", path, "--old", ref],
                          capture_output=True, text=True, check=True)
    return int(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old", default="4925720")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--one", choices=["old", "new"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    types, ranges = contract()
    old = old_module(args.old)
    if args.one:
        (old_load(args.path, types, ranges, old) if args.one == "old"
         else new_load(args.path, types, ranges))
        return
    path = str(data_file(args.accounts))
    floor = json_parse_seconds(Path(path), args.repeat)
    old_s, old_rows = best_of(args.repeat, lambda: old_load(path, types, ranges, old))
    new_s, new_rows = best_of(args.repeat, lambda: new_load(path, types, ranges))
    print(f"{args.accounts:,} accounts, {os.path.getsize(path) / 1e6:.0f} MB, "
          f"best of {args.repeat}, DuckDB {duckdb.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"json.loads of every line   {floor:7.2f} s   1.00x")
    print(f"old load + scan ({args.old})  {old_s:7.2f} s  {old_s / floor:5.2f}x")
    print(f"new load + scan            {new_s:7.2f} s  {new_s / floor:5.2f}x")
    print(f"rows and checksums equal: {old_rows == new_rows} ({new_rows[0]:,} rows)")
    if args.memory:
        for which in ("old", "new"):
            print(f"peak memory, {which}: {peak_kb(which, path, args.old) / 1024:.0f} MB")
    if old_rows != new_rows:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
