"""The built-in action sinks: ``stdout`` and ``file`` (JSON, JSON Lines or CSV).

Both are registered by :mod:`upsell_rules.builtin` through the ``upsell_rules_sinks``
hook, marked ``trylast`` like every default, so a plugin may replace them. They deliver
every decision at once; the file is written to a temporary file and renamed, so a run
that fails half-way never leaves a half-written file where a good one was.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import DeliveryReport, DeliveryResult, ParamSpec, Sink, SinkContext
from upsell_rules.safetext import for_terminal

#: Formats the built-in sinks write, and the writer of each.
SINK_FORMATS = ("jsonl", "json", "csv")


def _writer(fmt: str) -> Any:
    # Imported here: registering the sinks (every run, validation included) need not
    # load the writers and their JSON library.
    from upsell_rules.io.formatters import write_csv, write_json, write_jsonl

    return {"json": write_json, "jsonl": write_jsonl, "csv": write_csv}[fmt]


def _format_for(path: str, given: Any) -> str:
    """The explicit ``format`` option, else the file's extension, else JSON Lines."""
    if isinstance(given, str) and given:
        return given.lower()
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    return {"ndjson": "jsonl"}.get(extension, extension) if extension in (
        "json", "jsonl", "ndjson", "csv"
    ) else "jsonl"


def _all(decisions: Sequence[Mapping[str, Any]], status: str, detail: str) -> list[DeliveryResult]:
    return [
        DeliveryResult(str(d.get("account_id", "")), status, detail, 1)  # type: ignore[arg-type]
        for d in decisions
    ]


def deliver_stdout(
    decisions: Sequence[Mapping[str, Any]], context: SinkContext, out: TextIO | None = None
) -> DeliveryReport:
    """Write the decisions to standard output in ``format`` (default JSON Lines)."""
    fmt = _format_for("", context.options.get("format"))
    report = DeliveryReport("stdout", "standard output")
    if fmt not in SINK_FORMATS:
        report.errors.append(f"unknown format '{fmt}' (use one of {', '.join(SINK_FORMATS)})")
        report.results = _all(decisions, "failed", report.errors[-1])
        return report
    stream = for_terminal(out or sys.stdout)
    _writer(fmt)([dict(d) for d in decisions], stream)
    stream.flush()
    report.results = _all(decisions, "delivered", "standard output")
    return report


def replaced_file_mode(path: str) -> int:
    """The permissions a file written over ``path`` gets: the old file's, or what the umask
    gives a new file (not mkstemp's 0600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def replacing(path: str) -> Iterator[TextIO]:
    """A text file that replaces ``path`` in one rename when the block ends.

    It is written next to ``path`` (a rename never crosses file systems) and gets the
    permissions of the file it replaces (:func:`replaced_file_mode`); when the block
    fails, it is removed and ``path`` stays as it was.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".upsell-rules-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.chmod(tmp, replaced_file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def deliver_file(decisions: Sequence[Mapping[str, Any]], context: SinkContext) -> DeliveryReport:
    """Write the decisions to ``path`` (replacing it) in ``format`` or by extension."""
    path = str(context.options.get("path") or "")
    report = DeliveryReport("file", path)
    if not path:
        report.errors.append("no path given (--sink file:PATH, or path: in the ruleset)")
        report.results = _all(decisions, "failed", report.errors[-1])
        return report
    fmt = _format_for(path, context.options.get("format"))
    if fmt not in SINK_FORMATS:
        report.errors.append(f"unknown format '{fmt}' (use one of {', '.join(SINK_FORMATS)})")
        report.results = _all(decisions, "failed", report.errors[-1])
        return report
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        with replacing(path) as handle:
            _writer(fmt)([dict(d) for d in decisions], handle)
    except OSError as exc:
        reason = f"cannot write {path}: {exc.strerror or exc}"
        report.errors.append(reason)
        report.results = _all(decisions, "failed", reason)
        return report
    report.results = _all(decisions, "delivered", path)
    return report


_FORMAT = ParamSpec("string", None, description="jsonl (default), json or csv")

STDOUT_SINK = Sink(
    name="stdout",
    description="Print the delivered decisions on standard output (JSON Lines by default).",
    deliver=deliver_stdout,
    options={"format": _FORMAT},
    target_option="format",
)

FILE_SINK = Sink(
    name="file",
    description=(
        "Write the delivered decisions to a file: JSON, JSON Lines or CSV, chosen by "
        "format: or the file's extension. The file is replaced atomically."
    ),
    deliver=deliver_file,
    options={
        "path": ParamSpec(
            "string", required=True, is_path=True,
            description="file to write (in a ruleset: inside the ruleset's folder)",
        ),
        "format": ParamSpec(
            "string", None, description="jsonl, json or csv (default: by the extension)"
        ),
    },
    target_option="path",
)


@hookimpl(trylast=True)
def upsell_rules_sinks(register: Callable[[Sink], None]) -> None:
    """Register the ``stdout`` and ``file`` sinks (a core plugin)."""
    register(STDOUT_SINK)
    register(FILE_SINK)
