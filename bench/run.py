"""Benchmark the evaluator on generated accounts, with peers measured in the same run.

Usage::

    python bench/run.py                 # 100k accounts, default ruleset
    python bench/run.py --accounts 20000 --repeat 3

It writes the generated data to bench/data/ (not committed) and prints a markdown table.
Every figure comes from this one run; ratios compare figures from the same run, because
shared machines are noisy and absolute numbers drift between runs.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from upsell_rules.engine.evaluate import Evaluator  # noqa: E402
from upsell_rules.engine.stream import decide_all  # noqa: E402
from upsell_rules.io.formatters import write_jsonl  # noqa: E402
from upsell_rules.io.records import Account, AccountReader  # noqa: E402
from upsell_rules.io.synthetic import generate_accounts  # noqa: E402
from upsell_rules.io.synthetic import write_jsonl as write_accounts  # noqa: E402
from upsell_rules.plugin.build import default_registry  # noqa: E402
from upsell_rules.plugin.types import Summary  # noqa: E402
from upsell_rules.ruleset.loader import check_ruleset, load_ruleset  # noqa: E402

AS_OF = date(2026, 11, 2)
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeat`` timed runs (least disturbed by other load) and its result."""
    times = []
    result = None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--interpreter-sample", type=int, default=10_000)
    args = parser.parse_args()

    data_dir = ROOT / "bench" / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"accounts-{args.accounts}-{args.seed}.jsonl"
    if not path.exists():
        write_accounts(str(path), generate_accounts(args.accounts, args.seed, AS_OF))
    size_mb = os.path.getsize(path) / 1e6

    registry = default_registry()
    load_time, _ = best_of(args.repeat, lambda: check_ruleset(str(RULESET), registry))
    ruleset = load_ruleset(str(RULESET), registry)
    types = ruleset.input_types()

    def parse_json() -> int:
        count = 0
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                json.loads(line)
                count += 1
        return count

    def read_accounts() -> list[Account]:
        reader = AccountReader(registry, types)
        return [a for a in reader.read(str(path)) if isinstance(a, Account)]

    t_json, n = best_of(args.repeat, parse_json)
    t_read, accounts = best_of(args.repeat, read_accounts)

    evaluator = Evaluator(ruleset, registry, "python")

    def decide_accounts() -> list[dict[str, Any]]:
        decide = evaluator.decide
        return [decide(a, AS_OF) for a in accounts]

    t_eval, decisions = best_of(args.repeat, decide_accounts)

    def signals_only() -> int:
        sig = evaluator.signals
        for a in accounts:
            sig(a, AS_OF)
        return len(accounts)

    t_signals, _ = best_of(args.repeat, signals_only)

    sample = accounts[: args.interpreter_sample]
    interp = Evaluator(ruleset, registry, "interpreter")
    t_interp, _ = best_of(1, lambda: [interp.decide(a, AS_OF) for a in sample])
    t_py_sample, _ = best_of(args.repeat, lambda: [evaluator.decide(a, AS_OF) for a in sample])

    def end_to_end() -> int:
        reader = AccountReader(registry, types)
        summary = Summary()
        out = io.StringIO()
        decided = (
            d for d in decide_all(evaluator, reader.read(str(path)), AS_OF, summary)
            if isinstance(d, dict)
        )
        write_jsonl(decided, out)
        return summary.decided

    t_e2e, _ = best_of(args.repeat, end_to_end)

    bands: dict[str, int] = {}
    for d in decisions:
        bands[d["band"]] = bands.get(d["band"], 0) + 1

    rate = lambda seconds, count=n: f"{count / seconds:,.0f}"  # noqa: E731
    print(f"## Benchmark: {n:,} generated accounts ({size_mb:.1f} MB JSONL), seed {args.seed}")
    print()
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; best of {args.repeat} runs each.")
    print()
    print("| step | seconds | accounts/s | vs json.loads |")
    print("|---|---:|---:|---:|")
    print(f"| json.loads of every line (floor) | {t_json:.2f} | {rate(t_json)} | 1.00x |")
    print(f"| read + coerce (CSV/JSONL source) | {t_read:.2f} | {rate(t_read)} | "
          f"{t_read / t_json:.2f}x |")
    print(f"| derived signals only | {t_signals:.2f} | {rate(t_signals)} | "
          f"{t_signals / t_json:.2f}x |")
    print(f"| **decide (python engine)** | {t_eval:.2f} | **{rate(t_eval)}** | "
          f"{t_eval / t_json:.2f}x |")
    print(f"| dry-run end to end, JSONL in -> JSONL out | {t_e2e:.2f} | {rate(t_e2e)} | "
          f"{t_e2e / t_json:.2f}x |")
    print()
    print(f"Reference interpreter on {len(sample):,} accounts: "
          f"{len(sample) / t_interp:,.0f} accounts/s; python engine on the same sample: "
          f"{len(sample) / t_py_sample:,.0f} accounts/s "
          f"({t_interp / t_py_sample:.1f}x faster).")
    print()
    print(f"Ruleset load + validate: {load_time * 1000:.0f} ms. Bands: "
          + ", ".join(f"{k} {v:,} ({v / n:.1%})" for k, v in sorted(bands.items())))
    _ = statistics  # kept for future percentile reporting


if __name__ == "__main__":
    main()
