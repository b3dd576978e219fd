"""Embedded DuckDB connections that can read the data file and nothing else.

The columnar path and the ``duckdb`` engine run SQL built from a ruleset and read a file
an operator named. Every literal is quoted, but a connection with DuckDB's defaults could
read any file (``read_csv('/etc/passwd')``), write one (``COPY ... TO``), attach a
database, fetch a URL or install an extension, so one quoting slip would be a hole. The
connections made here cannot: external access is off, only the named files are
readable, no extension is installed or loaded on demand, and the settings are locked so
no statement can turn any of that back on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from upsell_rules.sql.input_checks import quote_text

#: This connection's own settings, set before the lock. DuckDB would draw its progress bar
#: on standard output when that is a terminal, in among the records a run writes there.
_LOCAL: dict[str, str] = {"enable_progress_bar": "false"}
#: Settings fixed when the database starts (the rest are set, then locked, after).
_START: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


def sandboxed(readable: Sequence[str] = (),
              config: Mapping[str, str | bool | int | float | list[str]] | None = None,
              local: Mapping[str, str] | None = None) -> Any:
    """A DuckDB connection (with ``config``, and the settings of this connection only
    ``local``, each a text) that may read only the files ``readable``.

    A file is allowed by the path given, its absolute path and the path its links lead
    to, so the query may name it either way; anything else (another file, a glob that
    matches more, a URL) fails with DuckDB's ``PermissionException``.
    """
    import duckdb

    con = duckdb.connect(config={**(config or {}), **_START})
    paths = sorted({form for path in readable
                    for form in (path, os.path.abspath(path), os.path.realpath(path))})
    if paths:
        con.execute(f"SET allowed_paths = [{', '.join(quote_text(p) for p in paths)}]")
    for name, value in {**_LOCAL, **(local or {})}.items():
        con.execute(f"SET {name} = {quote_text(value)}")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


#: What DuckDB's file readers take as a pattern, not a name: ``a[b].jsonl`` reads ``ab.jsonl``.
_PATTERN = frozenset("*?[")


def names_one_file(path: str) -> bool:
    """Whether DuckDB reads ``path`` as that one file: no pattern character, no URL."""
    return not _PATTERN.intersection(path) and "://" not in path
