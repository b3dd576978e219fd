"""Time one ``dry-run`` in several source trees, in rounds, each round against ``json.loads``.

Usage::

    git worktree add --detach /tmp/before <commit>
    python bench/paired.py --tree before=/tmp/before --tree after=.
    python bench/paired.py --tree before=/tmp/before --tree after=. --accounts 1000000 --rounds 3

Wall-clock time on a shared machine moves with the other users' load by a third and more
within minutes, so two trees timed one after the other compare the load as much as the
code. Here each round times ``json.loads`` of every line of the file (as ``run_all.py`` does:
text lines, the run's collector settings) and then a whole
``upsell-rules dry-run RULESET --data <file> --as-of 2026-11-02 --format jsonl --output
<file>`` (a fresh process, start-up included, the default engine) in every tree, in turn,
the order reversed every other round; it prints each round, then per tree the fastest
and the median ratio to ``json.loads`` and, per tree against the first, the median of the
rounds' time ratios. The trees' records must be byte for byte the same.

Wall time, unlike ``bench/instructions.py``'s instruction counts, shows what runs in
parallel (DuckDB's threads). The file is ``bench/data/accounts-N-7.jsonl`` (written by
``bench/engines.py``). Each tree's own ``upsell_rules`` and ``plugins/`` come first on
``PYTHONPATH`` (as in ``bench/instructions.py``); the environment is this one's, less
``PYTHONDONTWRITEBYTECODE``: an installed package runs from its bytecode caches, and
compiling every module from source costs about 0.2 s a run (each tree is run once
before the rounds, untimed, to write them).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from instructions import ROOT, checked_trees, tree_env  # type: ignore[import-not-found]

DRY_RUN = (
    "import sys; from upsell_rules.cli.main import main; "
    "sys.argv = ['upsell-rules', 'dry-run', sys.argv[2], '--data', sys.argv[1], "
    "'--as-of', '2026-11-02', '--format', 'jsonl', '--no-state', '--output', sys.argv[3]]; "
    "main()"
)


def loads_seconds(data: Path) -> float:
    """Seconds to ``json.loads`` every line of ``data``, in this process, measured as
    ``run_all.py`` measures its floor: text lines, with the collector settings a run uses
    (without them, young collections among the parsed objects cost about a fifth more)."""
    from upsell_rules.engine.gctune import allow_gc_tuning, fewer_collections

    allow_gc_tuning()
    loads = json.loads
    with fewer_collections():
        start = time.perf_counter()
        with open(data, encoding="utf-8") as lines:
            for line in lines:
                loads(line)
        return time.perf_counter() - start


def run_seconds(tree: Path, data: Path, ruleset: str, output: Path,
                python: str = sys.executable) -> float:
    """Seconds of one whole ``dry-run`` process in ``tree`` (with bytecode caches), run by
    the interpreter ``python`` (another virtual environment: other dependencies)."""
    env = {k: v for k, v in tree_env(tree).items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    result = subprocess.run([python, "-c", DRY_RUN, str(data), ruleset, str(output)],
                            cwd=tree, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"failed in {tree}:\n{result.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=PATH",
                        help="a source tree to time (repeatable); default: this one")
    parser.add_argument("--python", action="append", default=[], metavar="LABEL=PYTHON",
                        help="the interpreter that runs tree LABEL (a virtual environment "
                             "with other dependencies installed); default: this one")
    parser.add_argument("--ruleset", default=str(ROOT / "rulesets" / "upsell_timing.yaml"),
                        help="the ruleset, absolute (one file for all trees, by default this "
                             "tree's) or relative to each tree")
    args = parser.parse_args()
    trees = checked_trees(args.tree)
    pythons = dict(item.split("=", 1) for item in args.python)
    unknown = set(pythons) - {label for label, _ in trees}
    if unknown:
        raise SystemExit(f"--python for no --tree: {', '.join(sorted(unknown))}")
    runs = [pythons.get(label, sys.executable) for label, _ in trees]
    data = ROOT / "bench" / "data" / f"accounts-{args.accounts}-7.jsonl"
    if not data.exists():
        raise SystemExit(f"{data} is missing: run python bench/engines.py first")
    rounds: list[tuple[float, list[float]]] = []
    with tempfile.TemporaryDirectory() as work:
        outputs = [Path(work) / f"records-{index}.jsonl" for index in range(len(trees))]
        for (_, tree), output, python in zip(trees, outputs, runs, strict=True):
            run_seconds(tree, data, args.ruleset, output, python)  # writes bytecode caches
        for number in range(args.rounds):
            floor = loads_seconds(data)
            order = list(range(len(trees)))
            if number % 2:
                order.reverse()
            took = [0.0] * len(trees)
            for index in order:
                took[index] = run_seconds(trees[index][1], data, args.ruleset, outputs[index],
                                          runs[index])
            rounds.append((floor, took))
            times = ", ".join(f"{label} {seconds:.3f} s"
                              for (label, _), seconds in zip(trees, took, strict=True))
            print(f"round {number + 1}: json.loads {floor:.3f} s; {times}", flush=True)
        first = outputs[0].read_bytes()
        same = all(path.read_bytes() == first for path in outputs[1:])
    print(f"\n{args.accounts:,} accounts, {args.rounds} rounds; records byte for byte the "
          f"same: {'yes' if same else 'NO'}\n")
    print("| tree | fastest s | fastest x json.loads | median x json.loads | median of "
          "round ratios to the first tree |")
    print("|---|---:|---:|---:|---:|")
    for index, (label, _) in enumerate(trees):
        ratios = [took[index] / floor for floor, took in rounds]
        paired = statistics.median(took[index] / took[0] for _, took in rounds)
        print(f"| {label} | {min(took[index] for _, took in rounds):.3f} | {min(ratios):.2f}x "
              f"| {statistics.median(ratios):.2f}x | {paired:.3f} |")
    if not same:
        raise SystemExit("the trees wrote different records")


if __name__ == "__main__":
    main()
