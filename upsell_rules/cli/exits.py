"""Exit statuses, and the one way a command stops on a usage error."""

from __future__ import annotations

from typing import NoReturn

import click

#: Exit codes: 0 clean, 1 findings or failed records, 2 usage error / cannot run.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def usage_error(message: str, *, prefix: str = "error: ") -> NoReturn:
    """Print ``upsell-rules: error: MESSAGE`` on stderr and exit with status 2.

    ``prefix=""`` prints a message that already says what it is (a located
    ``path:line:col: CODE ...`` finding, say) as it is.
    """
    click.echo(f"upsell-rules: {prefix}{message}", err=True)
    raise SystemExit(EXIT_USAGE)
