"""SQL sink: decisions upserted into a table, one row per account and as-of date.

``--sink 'sql:postgresql://user@host/db?table=upsell_decisions'`` (or ``path:`` /
``url:`` and ``table:`` in a ruleset's ``sinks:`` section) writes each decision's core
columns (:data:`upsell_rules.io.rows.DECISION_COLUMNS`: account_id, as_of, score, band,
blocked, play, owner...) and the whole record as JSON text. The table is created when
missing; a table that exists must already hold those columns, so the sink never writes
into a table that is not a table of decisions. Re-running the same as-of date updates
the rows (``INSERT ... ON CONFLICT`` on SQLite, PostgreSQL and DuckDB, ``ON DUPLICATE
KEY UPDATE`` on MySQL and MariaDB, delete-then-insert in the same transaction
elsewhere). Everything goes in one transaction: a failure leaves the table as it was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from upsell_rules.errors import InputError
from upsell_rules.io.rows import DECISION_COLUMNS, KEY_COLUMNS, decision_row
from upsell_rules.plugin.types import (
    DeliveryReport,
    DeliveryResult,
    ParamSpec,
    Sink,
    SinkContext,
)
from upsell_rules.safetext import redact_text
from upsell_rules_sql.dialects import engine_url, first_line, open_engine, shown_url

__all__ = ["DEFAULT_TABLE", "SQL_SINK", "decision_table", "deliver_sql"]

DEFAULT_TABLE = "upsell_decisions"
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
#: Dialects whose databases are files: from a ruleset they are given as a confined path.
_FILE_DIALECTS = ("sqlite", "duckdb")
_BATCH = 1000


class _Refused(Exception):
    """The sink cannot write as configured; the message says why (already redacted)."""


def decision_table(name: str, metadata: Any) -> Any:
    """The SQLAlchemy table of decisions: the core columns, keyed on account and as-of."""
    import sqlalchemy as sa

    # Double, not Float: Float is 4 bytes on DuckDB and MySQL (72.35 would read back as
    # 72.3499984741211).
    kinds = {"string": sa.Text(), "date": sa.Date(), "number": sa.Double(), "bool": sa.Boolean()}
    schema, _, bare = name.rpartition(".")
    # A key column is bounded text (MySQL cannot index TEXT); the date stays a date.
    kinds["key"] = sa.String(255)
    columns = [
        sa.Column(column, kinds["key" if kind == "string" and column in KEY_COLUMNS else kind],
                  primary_key=column in KEY_COLUMNS)
        for column, kind in DECISION_COLUMNS.items()
    ]
    return sa.Table(bare, metadata, *columns, schema=schema or None)


def _target(context: SinkContext) -> tuple[Any, str]:
    """The database URL and table name to write, checked; raises :class:`_Refused`."""
    url_text = str(context.options.get("url") or "")
    path = str(context.options.get("path") or "")
    if bool(url_text) == bool(path):
        raise _Refused("give either url: (a database URL) or path: (a SQLite file), one of them")
    from_ruleset = not context.where.startswith("--sink")
    try:
        url = engine_url(url_text) if url_text else engine_url(f"sqlite:///{path}")
    except InputError as exc:
        raise _Refused(redact_text(str(exc))) from None
    if from_ruleset and url_text and url.get_backend_name() in _FILE_DIALECTS and url.database:
        raise _Refused(
            "a database file in a ruleset is given as path: (inside the ruleset's folder), "
            "not as a URL; or give the URL on the command line (--sink sql:URL)"
        )
    table = url.query.get("table") or context.options.get("table") or DEFAULT_TABLE
    if not isinstance(table, str) or not _TABLE.match(table):
        raise _Refused(f"{str(table)!r} is not a table name (letters, digits, _; schema.table)")
    return url.difference_update_query(["table"]), table


def _check_existing(connection: Any, table: Any) -> None:
    """Refuse a table that exists without the decision columns (not ours to write)."""
    import sqlalchemy as sa

    inspector = sa.inspect(connection)
    if not inspector.has_table(table.name, schema=table.schema):
        return
    # The column names of an empty read: some dialects' inspectors cannot list columns.
    empty = sa.select(sa.text("*")).select_from(sa.table(table.name, schema=table.schema))
    columns = connection.execute(empty.where(sa.false())).keys()
    present = {str(c).lower() for c in columns}
    missing = [c for c in DECISION_COLUMNS if c not in present]
    if missing:
        raise _Refused(
            f"table {table.fullname} exists but is not a table of decisions (no column "
            f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}); name another "
            "table (?table=NAME or table:)"
        )


def _insert(dialect: str, table: Any) -> Any | None:
    """An upsert statement for ``dialect``, or ``None`` where delete-then-insert is used."""
    columns = [c for c in DECISION_COLUMNS if c not in KEY_COLUMNS]
    if dialect in ("sqlite", "postgresql", "duckdb"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        statement = insert(table)
        return statement.on_conflict_do_update(
            index_elements=list(KEY_COLUMNS),
            set_={c: statement.excluded[c] for c in columns},
        )
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        statement = mysql_insert(table)
        return statement.on_duplicate_key_update({c: statement.inserted[c] for c in columns})
    return None


#: What SQLite, PostgreSQL and DuckDB say when an upsert's table has no key to match.
_NO_KEY = re.compile(r"(?i)conflict.*(unique|primary key)|(unique|primary key).*conflict")


def _upsert(connection: Any, upsert: Any, batch: list[dict[str, Any]], table: Any) -> None:
    try:
        connection.execute(upsert, batch)
    except Exception as exc:
        if not _NO_KEY.search(first_line(exc)):
            raise
        raise _Refused(
            f"table {table.fullname} has the decision columns but no primary key or unique "
            "constraint on (account_id, as_of), which updating a rerun's rows needs: add "
            f"one (ALTER TABLE {table.fullname} ADD PRIMARY KEY (account_id, as_of)) or "
            "name another table (?table=NAME or table:); nothing was written"
        ) from None


def _write(connection: Any, table: Any, rows: list[dict[str, Any]], dialect: str) -> None:
    import sqlalchemy as sa

    upsert = _insert(dialect, table)
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        if upsert is not None:
            _upsert(connection, upsert, batch, table)
            continue
        key = sa.and_(table.c.account_id == sa.bindparam("key_id"),
                      table.c.as_of == sa.bindparam("key_as_of"))
        connection.execute(table.delete().where(key),
                           [{"key_id": r["account_id"], "key_as_of": r["as_of"]} for r in batch])
        connection.execute(table.insert(), batch)


def deliver_sql(decisions: Sequence[Mapping[str, Any]], context: SinkContext) -> DeliveryReport:
    """Upsert every decision into the table, in one transaction; report each one."""
    import sqlalchemy as sa

    report = DeliveryReport("sql", "")
    ids = [str(d.get("account_id", "")) for d in decisions]
    try:
        url, name = _target(context)
        shown = shown_url(url)
        report.target = redact_text(f"{shown} table {name}")
        rows = []
        for decision in decisions:
            row = decision_row(decision, context.as_of.isoformat())
            row["as_of"] = date.fromisoformat(row["as_of"])
            rows.append(row)
        engine = open_engine(url, redact_text(shown))
        try:
            with engine.begin() as connection:
                table = decision_table(name, sa.MetaData())
                _check_existing(connection, table)
                table.create(connection, checkfirst=True)
                _write(connection, table, rows, url.get_backend_name())
        finally:
            engine.dispose()
    except (_Refused, InputError) as exc:
        reason = redact_text(str(exc))
    except Exception as exc:
        reason = f"cannot write the decisions: {redact_text(first_line(exc))}"
    else:
        report.results = [DeliveryResult(i, "delivered", f"table {name}", 1) for i in ids]
        return report
    report.errors.append(reason)
    report.results = [DeliveryResult(i, "failed", reason, 1) for i in ids]
    return report


SQL_SINK = Sink(
    name="sql",
    description=(
        "Upsert decisions into a database table (core columns + the record as JSON), "
        "created if missing, one row per account and as-of date: --sink "
        "'sql:postgresql://user@host/db?table=upsell_decisions'."
    ),
    deliver=deliver_sql,
    options={
        "url": ParamSpec("string", None, description="database URL (SQLAlchemy; ?table=NAME)"),
        "path": ParamSpec(
            "string", None, is_path=True,
            description="a SQLite file instead of a URL (in a ruleset: inside its folder)",
        ),
        "table": ParamSpec("string", DEFAULT_TABLE, description="table to upsert into"),
    },
    target_option="url",
)
