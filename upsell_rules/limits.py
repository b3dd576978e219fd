"""Resource limits for hostile or broken input, with their defaults and overrides.

Every limit has a default chosen to be far above any real ruleset or account export,
an environment variable that overrides the default (for a whole deployment), and, for
the data limits, a command-line option that overrides both (for one run). A value of
0 turns a limit off.

Sources read the limits of the current read through :func:`current`, so the
:class:`~upsell_rules.plugin.types.Source` interface stays ``read(path)``: the core sets
them (:func:`using`) around each read, and a third-party source may consult them too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace

MB = 1024 * 1024

#: Defaults. A real ruleset is tens of kilobytes and a real account record well under
#: one; the data limits leave room for exports of millions of accounts.
DEFAULT_RULESET_MB = 1
DEFAULT_INPUT_MB = 2048
DEFAULT_JSON_MB = 256
DEFAULT_RECORDS = 10_000_000
DEFAULT_LINE_BYTES = MB
DEFAULT_PLUGIN_TIMEOUT = 60.0

#: The environment variable for each field of :class:`Limits`.
ENV = {
    "ruleset_mb": "UPSELL_RULES_MAX_RULESET_MB",
    "input_mb": "UPSELL_RULES_MAX_INPUT_MB",
    "json_mb": "UPSELL_RULES_MAX_JSON_MB",
    "records": "UPSELL_RULES_MAX_RECORDS",
    "line_bytes": "UPSELL_RULES_MAX_LINE_BYTES",
    "plugin_timeout": "UPSELL_RULES_PLUGIN_TIMEOUT",
}


class LimitSettingError(ValueError):
    """An environment variable holds something that is not a limit."""


@dataclass(frozen=True)
class Limits:
    """How much input one run accepts. 0 (or 0.0) means "no limit" for every field.

    ``ruleset_mb``: size of one ruleset file, checked before it is parsed.
    ``input_mb``: size of one data file. ``json_mb``: size of a ``.json`` data file,
    which is read whole (CSV and JSON Lines stream). ``records``: records in one data
    file. ``line_bytes``: one CSV row or JSON Lines line, in bytes.
    ``plugin_timeout``: seconds a run may go without deciding or reading an account
    before the plugin it is stuck in is stopped.
    """

    ruleset_mb: float = DEFAULT_RULESET_MB
    input_mb: float = DEFAULT_INPUT_MB
    json_mb: float = DEFAULT_JSON_MB
    records: int = DEFAULT_RECORDS
    line_bytes: int = DEFAULT_LINE_BYTES
    plugin_timeout: float = DEFAULT_PLUGIN_TIMEOUT

    @property
    def ruleset_bytes(self) -> int:
        """``ruleset_mb`` in bytes (0: unlimited)."""
        return _bytes(self.ruleset_mb)

    @property
    def input_bytes(self) -> int:
        """``input_mb`` in bytes (0: unlimited)."""
        return _bytes(self.input_mb)

    @property
    def json_bytes(self) -> int:
        """The cap on a whole-file JSON source: the lower of ``json_mb`` and ``input_mb``."""
        caps = [b for b in (_bytes(self.json_mb), self.input_bytes) if b]
        return min(caps) if caps else 0

    def with_overrides(self, **values: float | int | None) -> Limits:
        """A copy with every given (not ``None``) value replaced."""
        given = {k: v for k, v in values.items() if v is not None}
        return replace(self, **given)  # type: ignore[arg-type]


def _bytes(megabytes: float) -> int:
    return round(megabytes * MB) if megabytes > 0 else 0


def from_env(environ: Mapping[str, str] | None = None) -> Limits:
    """The defaults, overridden by any ``UPSELL_RULES_MAX_*`` environment variables.

    Raises :class:`LimitSettingError` naming the variable when a value is not a
    non-negative number.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, float | int] = {}
    for item in fields(Limits):
        variable = ENV[item.name]
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        try:
            number = float(raw)
        except ValueError:
            number = -1.0
        if not number >= 0 or number == float("inf"):
            raise LimitSettingError(f"{variable}={raw!r}: expected a number, 0 or more")
        values[item.name] = int(number) if item.type in (int, "int") else number
    return Limits(**values)  # type: ignore[arg-type]


def describe_size(size: int) -> str:
    """A byte count for people: ``512 bytes``, ``22.3 KB``, ``50.0 MB``."""
    if size < 1024:
        return f"{size} bytes"
    if size < MB:
        return f"{size / 1024:.1f} KB"
    return f"{size / MB:.1f} MB"


_CURRENT: ContextVar[Limits | None] = ContextVar("upsell_rules_limits", default=None)


def current() -> Limits:
    """The limits of the read in progress, or the environment's when none was set."""
    value = _CURRENT.get()
    return value if value is not None else from_env()


@contextmanager
def using(limits: Limits) -> Iterator[Limits]:
    """Make ``limits`` the :func:`current` ones inside the ``with`` block."""
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)
