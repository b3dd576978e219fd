"""A progress line on stderr for the steps that can take more than a moment.

Shown only when stderr is a terminal (never in pipes, files or CI logs) and cleared when
the step ends, so it never mixes with the output. ``UPSELL_RULES_NO_PROGRESS=1`` turns
it off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def progress_wanted() -> bool:
    """True when a progress line may be drawn on stderr."""
    return sys.stderr.isatty() and not os.environ.get("UPSELL_RULES_NO_PROGRESS")


@contextmanager
def working(label: str) -> Iterator[None]:
    """A spinner with ``label`` and the elapsed time while the block runs."""
    if not progress_wanted():
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}"),
                          TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        bar.add_task(label, total=None)
        yield
