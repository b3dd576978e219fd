"""SQL source and sink: accounts from a database table or query, decisions back, through SQLAlchemy.

Registered through the ``upsell_rules`` entry point as ``sql``. The source claims,
without being named:

- URLs of any installed SQLAlchemy dialect: ``sqlite:///accounts.db``,
  ``postgresql://user@host/db``, ``mysql+pymysql://...``, and with the extras
  ``snowflake://...``, ``bigquery://project/dataset``, ``duckdb:///warehouse.duckdb``,
  ``databricks://...`` (``postgres://`` is read as ``postgresql://``);
- SQLite files by extension: ``accounts.db``, ``.sqlite``, ``.sqlite3``.

What to read: ``?table=NAME`` or ``?query=SELECT...`` at the end of the URL, else the
ruleset's ``sources.sql`` section (``table:`` or ``query:``), else the table
``accounts``. A query is the operator's: one from a ruleset runs only when the run
allows it (``--allow-ruleset-query``, or ``UPSELL_RULES_ALLOW_RULESET_QUERY=1``) and only
on a database that enforces read-only itself. Any query must be a single ``SELECT``;
the read runs read-only as far as the dialect allows (SQLite ``query_only``,
PostgreSQL/Oracle ``SET TRANSACTION READ ONLY``, MySQL/MariaDB ``SET SESSION TRANSACTION
READ ONLY``, DuckDB ``read_only``; elsewhere a transaction that is never committed:
docs/security.md says what holds per dialect). Each row is one account; column names
are field names. Dates, decimals and arrays are turned into the values the data
contract expects.

The sink (:mod:`upsell_rules_sql.sink`) upserts decisions into a table.
Passwords in URLs never appear in messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from upsell_rules.errors import InputError, Location, RecordError
from upsell_rules.io.rows import contract_value
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import ParamSpec, RawRecord, Sink, Source, SourceContext
from upsell_rules_sql.dialects import (
    engine_url,
    first_line,
    hide_password,
    is_database_url,
    open_engine,
    shown_url,
)
from upsell_rules_sql.safety import (
    ALLOW_ENV,
    QueryError,
    check_single_select,
    read_only,
    ruleset_query_allowed,
)

__all__ = ["SQL_SOURCE", "matches_sql", "read_sql", "upsell_rules_sinks", "upsell_rules_sources"]

_FILES = (".db", ".sqlite", ".sqlite3")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def matches_sql(spec: str) -> bool:
    """True for database URLs of any installed dialect and SQLite files (by extension)."""
    return is_database_url(spec) or spec.lower().endswith(_FILES)


def _checked_query(query: str, label: str, from_ruleset: bool, dialect: str) -> str:
    """The query if it may run here, else an :class:`InputError` saying why, located."""
    where = "sources.sql.query in the ruleset" if from_ruleset else f"{label}: query="
    if from_ruleset and not ruleset_query_allowed():
        raise InputError(
            f"{label}: the ruleset gives a SQL query (sources.sql.query); a query from a "
            "ruleset runs only when the operator allows it for the run: "
            f"--allow-ruleset-query (or {ALLOW_ENV}=1), or give the query on the command "
            "line (?query=...)"
        )
    try:
        check_single_select(query)
    except QueryError as exc:
        raise InputError(f"{where}, column {exc.offset + 1}: {exc.message}") from None
    guard = read_only(dialect)
    if from_ruleset and not guard.enforced:
        raise InputError(
            f"{label}: a query from a ruleset runs only where the database itself keeps "
            f"the read read-only (SQLite, PostgreSQL, MySQL, MariaDB, Oracle, DuckDB), "
            f"not {dialect}; give the query on the command line (?query=...) or read a "
            "table or view (table=NAME)"
        )
    return query


def _statement(
    url: Any, context: SourceContext, spec: str
) -> tuple[Any, Any, str, str, bool]:
    """The URL without table=/query=, the statement, what it reads, its label, and
    whether the statement is a ruleset's query."""
    import sqlalchemy as sa

    table = url.query.get("table") or context.options.get("table")
    query = url.query.get("query")
    from_ruleset = False
    if not query and not url.query.get("table") and context.options.get("query"):
        query, from_ruleset = context.options.get("query"), True
    url = url.difference_update_query(["table", "query"])
    if isinstance(table, tuple) or isinstance(query, tuple):
        raise InputError(f"{hide_password(spec)}: give table= or query= once")
    shown = shown_url(url)
    if query:
        label = f"{shown} (query)"
        checked = _checked_query(str(query), label, from_ruleset, url.get_backend_name())
        return url, sa.text(checked), "query", label, from_ruleset
    name = str(table or "accounts")
    if not _TABLE.match(name):
        raise InputError(f"{shown}: {name!r} is not a table name (use query= for SQL)")
    schema, _, bare = name.rpartition(".")
    statement = sa.select(sa.text("*")).select_from(sa.table(bare, schema=schema or None))
    return url, statement, f"table {name}", f"{shown}?table={name}", False


def read_sql(spec: str, context: SourceContext) -> Iterator[RawRecord | RecordError]:
    """Yield one raw record per row of the table or query, read read-only."""
    url, statement, what, label, from_ruleset = _statement(engine_url(spec), context, spec)
    shown = shown_url(url)
    guard = read_only(url.get_backend_name(), url.database, from_ruleset=from_ruleset)
    engine = open_engine(url, shown, guard.connect_args)
    try:
        with engine.connect() as connection:
            if guard.statement is not None:
                # Before the first read, so the whole transaction is read-only; the
                # connection is rolled back when it closes, never committed.
                connection.exec_driver_sql(guard.statement)
            try:
                result = connection.execution_options(stream_results=True).execute(statement)
            except Exception as exc:
                raise InputError(f"{label}: cannot read the {what}: {first_line(exc)}") from None
            columns = list(result.keys())
            if "account_id" not in columns:
                raise InputError(
                    f"{label}: the {what} has no 'account_id' column "
                    f"(columns: {', '.join(columns) or 'none'})"
                )
            for number, row in enumerate(result, 1):
                values = {
                    key: contract_value(value)
                    for key, value in row._mapping.items()
                    if value is not None
                }
                yield RawRecord(values=values, location=Location(label, number))
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{shown}: cannot read from the database: {first_line(exc)}") from None
    finally:
        engine.dispose()


def _read_without_context(path: str) -> Iterator[RawRecord | RecordError]:
    return read_sql(path, SourceContext())


SQL_SOURCE = Source(
    name="sql",
    description=(
        "A database table or query through SQLAlchemy: --data sqlite:///accounts.db"
        "?table=accounts, --data 'postgresql://user@host/db?query=SELECT ...', or a "
        ".db/.sqlite file. One row per account, columns named like the fields."
    ),
    matches=matches_sql,
    read=_read_without_context,
    options={
        "table": ParamSpec("string", None, description="table to read (default: accounts)"),
        "query": ParamSpec(
            "string", None,
            description="SQL query to run instead of a table (one SELECT; from a ruleset "
            "only with --allow-ruleset-query)",
            operator_only=True,
        ),
    },
    read_with_context=read_sql,
)


@hookimpl(trylast=True)
def upsell_rules_sources(register: Callable[[Source], None]) -> None:
    """Register the SQL source."""
    register(SQL_SOURCE)


@hookimpl(trylast=True)
def upsell_rules_sinks(register: Callable[[Sink], None]) -> None:
    """Register the SQL sink (decisions upserted into a table)."""
    from upsell_rules_sql.sink import SQL_SINK

    register(SQL_SINK)
