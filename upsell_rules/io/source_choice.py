"""Which source plugin reads a ``--data`` value, and what to say when none does."""

from __future__ import annotations

import os

from upsell_rules.errors import InputError
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import Source


def pick_source(registry: Registry, spec: str) -> tuple[Source, str]:
    """The source for a ``--data`` value and what to hand it.

    ``NAME:TARGET`` names the source (``events:export.jsonl``, ``sql:sqlite:///x.db``);
    anything else goes to the first source that claims it by pattern. Raises
    :class:`InputError` when no source reads it.
    """
    name, sep, rest = spec.partition(":")
    if sep and rest and name in registry.sources:
        return registry.sources[name], rest
    source = registry.source_for(spec)
    if source is None:
        known = ", ".join(sorted(registry.sources)) or "none installed"
        raise InputError(
            f"{spec}: no signal source reads this file (sources: {known}); "
            f"{format_hint(spec) or 'name one with --data SOURCE:PATH'}"
        )
    return source, spec


def single_file(registry: Registry, data: list[str] | tuple[str, ...], ranges: tuple[str, ...],
                columnar: tuple[str, ...] = ()) -> tuple[Source, int] | None:
    """The source and size of ``data`` when it is one file, named by its path alone, that
    a source reads by byte ranges of a kind in ``ranges`` (``"lines"``, ``"csv"``) or
    that DuckDB reads itself as a kind in ``columnar`` (``"parquet"``); else ``None``.
    The fast paths (worker processes, DuckDB's columnar reading) start here."""
    if len(data) != 1:
        return None
    spec = data[0]
    try:
        source, target = pick_source(registry, spec)
    except InputError:
        return None
    if target != spec or (source.byte_ranges not in ranges
                          and source.columnar not in columnar):
        return None
    try:
        return source, os.path.getsize(spec)
    except OSError:
        return None


#: What to do with a spreadsheet workbook, which no bundled source reads.
SPREADSHEET_HINT = (
    "save it as CSV UTF-8 (in Excel: File > Save As > "
    "'CSV UTF-8 (Comma delimited)'; in Numbers: File > Export To > CSV, Text Encoding "
    "Unicode (UTF-8)) and pass the .csv file"
)
#: File types people export accounts as that no bundled source reads, and what to do.
_FORMAT_HINTS = {
    (".xlsx", ".xls", ".xlsm", ".ods", ".numbers"): f"this is a spreadsheet: {SPREADSHEET_HINT}",
}


def format_hint(spec: str) -> str:
    """What to do with an export no source reads (a spreadsheet), or ``""``."""
    lowered = spec.lower()
    for suffixes, hint in _FORMAT_HINTS.items():
        if lowered.endswith(suffixes):
            return hint
    return ""
