"""Count the instructions of one fixed ``dry-run`` in several source trees, against ``json.loads``.

Usage::

    python bench/instructions.py                                   # this tree only
    python bench/instructions.py --tree before=/tmp/before --tree after=.
    python bench/instructions.py --accounts 2000 --tree main=/work/main --tree after=.

Wall-clock time on a shared machine moves with the load of the other users; the number of
instructions a process executes does not. Each run goes under ``valgrind --tool=callgrind``
(``perf stat -e instructions`` needs hardware counters these machines do not expose) and
the script reads its "Collected" total.

For each tree it runs ``upsell-rules dry-run RULESET --data <file> --as-of 2026-11-02
--format jsonl -o /dev/null`` twice: on N generated accounts and on the
first N/2 of them. The difference, divided by N/2, is the cost of one account with the
interpreter start-up and the imports taken out. ``json.loads`` of every line of the same
two files is counted the same way, so the ratio compares two figures from the same run.
The tree's own ``upsell_rules`` and ``plugins/`` come first on ``PYTHONPATH``; the
environment (Python, dependencies, entry points) is this one's, so only the code differs.
``--ruleset`` defaults to each tree's own ``rulesets/upsell_timing.yaml``; give an absolute
path to run every tree on one file, so a change to the bundled ruleset (ranges added, say)
is not counted as a change in the code. ``PYTHONHASHSEED`` is fixed so string hashing does
not vary the counts between runs.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from upsell_rules.io.synthetic import generate_accounts  # noqa: E402
from upsell_rules.io.synthetic import write_jsonl as write_accounts  # noqa: E402

AS_OF = date(2026, 11, 2)
COLLECTED = re.compile(r"Collected : (\d+)")

DRY_RUN = (
    "import sys; from upsell_rules.cli.main import main; "
    "sys.argv = ['upsell-rules', 'dry-run', sys.argv[2], '--data', sys.argv[1], "
    "'--as-of', '2026-11-02', '--format', 'jsonl', '-o', '/dev/null']; main()"
)
JSON_LOADS = (
    "import json, sys\n"
    "with open(sys.argv[1], 'rb') as lines:\n"
    "    for line in lines:\n"
    "        json.loads(line)\n"
)
CHECK_TREE = "import upsell_rules, upsell_rules_files; print(upsell_rules.__file__)"


def tree_env(tree: Path) -> dict[str, str]:
    """The environment that makes ``tree``'s code the one imported."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree), str(tree / "plugins")])
    env["PYTHONHASHSEED"] = "0"
    return env


def instructions(code: str, data: Path, tree: Path, workdir: Path, *extra: str) -> int:
    """Instructions executed by ``python -c code data *extra`` run in ``tree``, per callgrind."""
    out = workdir / "callgrind.out"
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
         sys.executable, "-c", code, str(data), *extra],
        cwd=tree, env=tree_env(tree), capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"failed in {tree}:\n{result.stderr[-2000:]}")
    found = COLLECTED.search(result.stderr)
    if found is None:
        raise SystemExit(f"no callgrind total in:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def check_tree(tree: Path) -> None:
    """Fail unless ``tree``'s own ``upsell_rules`` is the one imported there."""
    found = subprocess.run([sys.executable, "-c", CHECK_TREE], cwd=tree, env=tree_env(tree),
                           capture_output=True, text=True, check=True).stdout.strip()
    if not Path(found).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"{tree}: imports {found}, not its own upsell_rules")


def checked_trees(items: list[str]) -> list[tuple[str, Path]]:
    """(label, path) of each ``LABEL=PATH`` given (this tree when none), each checked to
    import its own code."""
    trees = [(label, Path(path).resolve()) for label, path in
             (item.split("=", 1) for item in items)] or [("this tree", ROOT)]
    for _, tree in trees:
        check_tree(tree)
    return trees


def make_data(accounts: int, seed: int) -> tuple[Path, Path]:
    """The N-account file and its first half, generated once (deterministic by seed)."""
    folder = ROOT / "bench" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    full = folder / f"instructions-{accounts}-{seed}.jsonl"
    half = folder / f"instructions-{accounts}-{seed}-half.jsonl"
    if not full.exists() or not half.exists():
        write_accounts(str(full), generate_accounts(accounts, seed, AS_OF))
        lines = full.read_bytes().splitlines(keepends=True)
        half.write_bytes(b"".join(lines[: accounts // 2]))
    return full, half


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=PATH",
                        help="a source tree to count (repeatable); default: this one")
    parser.add_argument("--ruleset", default="rulesets/upsell_timing.yaml",
                        help="the ruleset, relative to each tree (its own) or absolute (one "
                             "file for all trees, so only the code differs)")
    args = parser.parse_args()
    trees = checked_trees(args.tree)
    full, half = make_data(args.accounts, args.seed)
    per = args.accounts - args.accounts // 2
    with tempfile.TemporaryDirectory() as work:
        workdir = Path(work)
        loads_full = instructions(JSON_LOADS, full, ROOT, workdir)
        loads_half = instructions(JSON_LOADS, half, ROOT, workdir)
        loads_each = (loads_full - loads_half) / per
        print(f"{args.accounts:,} accounts ({full.stat().st_size:,} bytes), ruleset "
              f"{args.ruleset}, valgrind --tool=callgrind, Python {sys.version.split()[0]}\n")
        print("| tree | dry-run, whole process | per account (start-up excluded) "
              "| ratio to json.loads per line |")
        print("|---|---:|---:|---:|")
        print(f"| json.loads per line | {loads_full:,} | {loads_each:,.0f} | 1.00x |")
        for label, tree in trees:
            run_full = instructions(DRY_RUN, full, tree, workdir, args.ruleset)
            run_half = instructions(DRY_RUN, half, tree, workdir, args.ruleset)
            each = (run_full - run_half) / per
            print(f"| {label} | {run_full:,} | {each:,.0f} | {each / loads_each:.2f}x |",
                  flush=True)


if __name__ == "__main__":
    main()
