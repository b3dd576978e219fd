"""The tool's stdout carries only the tool's output; what plugin code prints goes to stderr.

``dry-run --format json | jq`` and ``--format csv > queue.csv`` must stay parseable when
a plugin leaves a debugging ``print()`` in a derivation, a source or a registration
hook. :func:`keep_stdout_for_the_tool` replaces ``sys.stdout`` by a stream that looks at
who is writing: text written by the tool's own modules goes to the real stdout, text
written by any other code (a plugin, or a library a plugin calls) goes to stderr.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any, TextIO, cast

#: Code that writes on behalf of its caller: look further up the stack to see whose text
#: it is (``click.echo`` from a plugin is the plugin's).
_RELAYS = frozenset({"click", "rich", "logging", "codecs", "io", "_pyio", "contextlib",
                     "encodings", "functools", "textwrap", "pprint", "json"})
_DEPTH = 40


def _from_the_tool(frame: FrameType | None) -> bool:
    """True when the innermost caller that is not a relay is one of the tool's modules."""
    for _ in range(_DEPTH):
        if frame is None:
            break
        module = str(frame.f_globals.get("__name__", ""))
        if module == "upsell_rules" or module.startswith("upsell_rules."):
            return True
        if module.partition(".")[0] not in _RELAYS:
            return False
        frame = frame.f_back
    return True


class _ToolStdout:
    """A stand-in for ``sys.stdout`` that sends text from elsewhere to ``err``."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self._out = out
        self._err = err

    def write(self, text: str) -> int:
        """Write ``text`` to stdout when the tool writes it, else to stderr."""
        target = self._out if _from_the_tool(sys._getframe(1)) else self._err
        return target.write(text)

    def writelines(self, lines: Any) -> None:
        """As :meth:`write`, for each line."""
        target = self._out if _from_the_tool(sys._getframe(1)) else self._err
        target.writelines(lines)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._out, name)


def tool_stdout() -> TextIO:
    """The real stdout, for the tool's bulk output (no look at the caller per write)."""
    out = sys.stdout
    return out._out if isinstance(out, _ToolStdout) else out


def keep_stdout_for_the_tool() -> None:
    """Route text that plugin code writes to ``sys.stdout`` to ``sys.stderr`` instead."""
    if sys.stdout is None or sys.stderr is None or isinstance(sys.stdout, _ToolStdout):
        return
    sys.stdout = cast(TextIO, _ToolStdout(sys.stdout, sys.stderr))
