"""Which database URLs the SQL source and sink take: any installed SQLAlchemy dialect.

SQLAlchemy ships six dialects (SQLite, PostgreSQL, MySQL, MariaDB, SQL Server, Oracle);
a warehouse's dialect is a package that registers itself under the
``sqlalchemy.dialects`` entry-point group. The extras of upsell-rules install four of
them (``pip install 'upsell-rules[snowflake]'``...); any other installed one works too.
"""

from __future__ import annotations

import functools
import os
import re
from importlib.metadata import entry_points
from typing import Any

from upsell_rules.errors import InputError
from upsell_rules.safetext import hide_credentials

__all__ = ["EXTRAS", "dialect_of", "engine_url", "first_line", "is_database_url", "open_engine",
           "shown_url"]

#: The dialects SQLAlchemy itself ships (``postgres`` is read as ``postgresql``).
BUILTIN = frozenset({"sqlite", "postgresql", "postgres", "mysql", "mariadb", "mssql", "oracle"})
#: Warehouse dialects an extra installs: URL scheme -> (extra, package).
EXTRAS = {
    "snowflake": ("snowflake", "snowflake-sqlalchemy"),
    "bigquery": ("bigquery", "sqlalchemy-bigquery"),
    "duckdb": ("duckdb", "duckdb-engine"),
    "databricks": ("databricks", "databricks-sqlalchemy"),
}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)(\+[A-Za-z0-9_]+)?:")


@functools.cache
def installed() -> frozenset[str]:
    """The dialect names installed packages register (``snowflake``, ``duckdb``...)."""
    names = {ep.name.split(".", 1)[0].lower() for ep in entry_points(group="sqlalchemy.dialects")}
    return frozenset(names)


def dialect_of(spec: str) -> str | None:
    """The dialect a URL names (``postgresql+psycopg://...`` -> ``postgresql``), or None."""
    match = _SCHEME.match(spec)
    return match.group(1).lower() if match else None


def is_database_url(spec: str) -> bool:
    """True for a URL of a dialect SQLAlchemy ships, an extra installs or is installed."""
    name = dialect_of(spec)
    return name is not None and (name in BUILTIN or name in EXTRAS or name in installed())


def hide_password(spec: str) -> str:
    """``spec`` with its password (``user:password@``, ``?password=``...) as ``***``."""
    return hide_credentials(spec)


def shown_url(url: Any) -> str:
    """A SQLAlchemy URL as messages show it: every password hidden."""
    return hide_credentials(url.render_as_string(hide_password=True))


def first_line(exc: BaseException) -> str:
    """The first line of a database error (the driver's own message when there is one)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def engine_url(spec: str) -> Any:
    """The SQLAlchemy URL for ``spec`` (a URL, or a SQLite file by its path).

    ``postgres://`` is read as ``postgresql://`` and PostgreSQL uses psycopg 3 (the
    ``postgres`` extra). A malformed URL is an :class:`InputError` with no password shown.
    """
    from sqlalchemy.engine import make_url

    if dialect_of(spec) is not None and "://" in spec:
        try:
            url = make_url(spec)
        except Exception as exc:
            raise InputError(
                f"{hide_password(spec)}: not a database URL: {first_line(exc)}"
            ) from None
    else:
        if not os.path.isfile(spec):
            raise InputError(f"{spec}: no such SQLite file")
        url = make_url(f"sqlite:///{os.path.abspath(spec)}")
    if url.drivername == "postgres":
        url = url.set(drivername="postgresql")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def open_engine(url: Any, shown: str, connect_args: dict[str, Any] | None = None) -> Any:
    """``sqlalchemy.create_engine(url)``, with a missing dialect or driver said plainly."""
    import sqlalchemy as sa
    from sqlalchemy.exc import NoSuchModuleError

    name = url.get_backend_name()
    try:
        engine = sa.create_engine(url, connect_args=connect_args or {})
        if name == "duckdb":
            sa.event.listen(engine, "connect", _no_progress_bar)
        return engine
    except NoSuchModuleError:
        extra, package = EXTRAS.get(name, ("", ""))
        hint = (f"pip install 'upsell-rules[{extra}]' (or {package})" if extra
                else "install the package that provides this SQLAlchemy dialect")
        raise InputError(
            f"{shown}: no SQLAlchemy dialect '{name}' is installed: {hint}"
        ) from None
    except ImportError as exc:
        postgres = name == "postgresql"
        hint = "; for PostgreSQL: pip install 'upsell-rules[postgres]'" if postgres else ""
        raise InputError(
            f"{shown}: the database driver is not installed ({exc}){hint}"
        ) from None
    except Exception as exc:
        raise InputError(f"{shown}: cannot use this database URL: {first_line(exc)}") from None


def _no_progress_bar(dbapi_connection: Any, _record: Any) -> None:
    """DuckDB draws a progress bar on standard output when that is a terminal, in among
    the records a run writes there: each connection of the SQL source turns it off (a
    setting of the connection, not of the database, so not a ``connect_args`` one)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET enable_progress_bar = false")
    finally:
        cursor.close()
