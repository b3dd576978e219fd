"""Where one ``dry-run`` on the columnar path spends its time: marks around each step.

Runs ``upsell-rules dry-run`` in this process with the default engine and prints, for
each step of the columnar path (``engine/columnar.py``, ``engine/jsonl_check.py``), the
wall-clock time since the start and the CPU time of the whole process (every thread)
at that mark, so that both what the run waits for and what it spends show::

    python bench/timeline.py [--accounts 100000] [--output /tmp/records.jsonl]

The file is ``bench/data/accounts-N-7.jsonl`` (written by ``bench/engines.py`` or
``bench/run_all.py``); the as-of date and ruleset are those of ``bench/engines.py``.
Run it with bytecode caches (``PYTHONDONTWRITEBYTECODE`` unset), as an installed
package runs.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

START = time.perf_counter()
MARKS: list[tuple[str, float, float]] = []


def mark(name: str) -> None:
    """Note the wall and CPU seconds (all threads) at ``name``."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    MARKS.append((name, time.perf_counter() - START, usage.ru_utime + usage.ru_stime))


def around(owner: Any, name: str, before: str, after: str) -> None:
    """Mark before and after every call of ``owner.name``."""
    inner: Callable[..., Any] = getattr(owner, name)

    def marked(*args: Any, **kwargs: Any) -> Any:
        mark(before)
        try:
            return inner(*args, **kwargs)
        finally:
            mark(after)

    setattr(owner, name, marked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--output", default="/dev/null")
    options = parser.parse_args()
    root = Path(__file__).resolve().parent
    sys.path[:0] = [str(root)]
    from engines import AS_OF, RULESET  # type: ignore[import-not-found]

    data = root / "data" / f"accounts-{options.accounts}-7.jsonl"
    if not data.exists():
        raise SystemExit(f"{data} is missing: run python bench/engines.py first")

    import upsell_rules.engine.columnar as columnar
    import upsell_rules.engine.jsonl_check as jsonl_check
    import upsell_rules.engine.stream as stream

    mark("imports of the engine")
    around(columnar, "start_check", "starting the check", "check started")
    around(columnar, "_compile", "compiling the record query", "compiled")
    around(jsonl_check, "count_lines", "counting lines", "lines counted")
    around(jsonl_check.JsonlCheck, "passed", "waiting for the check", "check passed")
    fetched = columnar._fetched

    def marked(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
        first = True
        for batch in fetched(cursor):
            if first:
                mark("first records")
                first = False
            yield batch
        mark("last records")

    columnar._fetched = marked
    del stream  # imported so that columnar's names above are the ones the run uses

    from upsell_rules.cli.main import main as cli

    sys.argv = ["upsell-rules", "dry-run", str(RULESET), "--data", str(data),
                "--as-of", AS_OF.isoformat(), "--format", "jsonl", "--no-state",
                "--output", options.output]
    try:
        cli()
    except SystemExit as done:
        if done.code:
            raise
    finally:
        mark("end")
        print(f"{'step':32} {'wall s':>8} {'cpu s':>8}", file=sys.stderr)
        for name, wall, cpu in MARKS:
            print(f"{name:32} {wall:8.3f} {cpu:8.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
