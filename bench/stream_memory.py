"""Peak memory of a dry-run stays flat as the input grows: CSV and JSON Lines stream.

Usage::

    python bench/stream_memory.py                  # 20 MB and 200 MB JSONL inputs
    python bench/stream_memory.py --sizes 20 200 1000 --csv

For each size it generates accounts with ``upsell_rules.io.synthetic`` into bench/data/ (not
committed; reused on later runs), runs ``upsell-rules dry-run --format jsonl`` in a
child process with stdout discarded, and reports the child's peak resident memory
(``ru_maxrss``) next to the input size. Streaming means the peak barely moves between
sizes; a reader that loaded the file would need several times the file size.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from upsell_rules.io.synthetic import generate_accounts  # noqa: E402
from upsell_rules.io.synthetic import write_csv as write_accounts_csv  # noqa: E402
from upsell_rules.io.synthetic import write_jsonl as write_accounts_jsonl  # noqa: E402

AS_OF = date(2026, 11, 2)
#: Bytes per generated account in JSON Lines (measured), to hit a target file size.
BYTES_PER_ACCOUNT = {"jsonl": 635, "csv": 330}


def make_input(megabytes: int, fmt: str) -> Path:
    """A generated accounts file of about ``megabytes`` MB (made once, then reused)."""
    folder = ROOT / "bench" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"stream-{megabytes}mb.{fmt}"
    if not path.exists():
        count = megabytes * 1_000_000 // BYTES_PER_ACCOUNT[fmt]
        writer = write_accounts_jsonl if fmt == "jsonl" else write_accounts_csv
        writer(str(path), generate_accounts(count, 7, AS_OF))
    return path


def measure(path: Path) -> tuple[float, float, str]:
    """Seconds and peak RSS (MB) of one dry-run over ``path``, and its summary line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "upsell_rules", "dry-run",
         str(ROOT / "rulesets" / "upsell_timing.yaml"), "--data", str(path),
         "--as-of", AS_OF.isoformat(), "--format", "jsonl"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode not in (0, 1):
        raise SystemExit(result.stderr)
    # ru_maxrss of children is the largest of any child so far; runs go smallest first.
    rss = max(peak, before)
    megabytes = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024  # bytes / KB
    return seconds, megabytes, result.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--csv", action="store_true", help="also measure CSV inputs")
    args = parser.parse_args()
    formats = ["jsonl", "csv"] if args.csv else ["jsonl"]
    print(f"Python {platform.python_version()} on {platform.system()}, {os.cpu_count()} CPUs\n")
    print("| input | size on disk | peak RSS | time | summary |")
    print("|---|---|---|---|---|")
    for fmt in formats:
        for megabytes in sorted(args.sizes):
            path = make_input(megabytes, fmt)
            size = path.stat().st_size / 1e6
            seconds, rss, summary = measure(path)
            print(f"| {path.name} | {size:.0f} MB | {rss:.0f} MB | {seconds:.0f} s | {summary} |")


if __name__ == "__main__":
    main()
