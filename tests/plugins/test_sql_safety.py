"""Issue 12, item 1: a ruleset's SQL cannot change or leak a database.

A query comes from the operator (``--data ...?query=``); one from a ruleset runs only
with ``--allow-ruleset-query``; any query is one SELECT (refused, located, otherwise)
and runs in a read-only transaction, on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.errors import InputError
from upsell_rules.plugin.types import SourceContext
from upsell_rules_sql import read_sql
from upsell_rules_sql.safety import QueryError, check_single_select

from .test_sql_source import RULESET, make_sqlite


def hostile_ruleset(tmp_path: Path, query: str) -> Path:
    path = tmp_path / "hostile.yaml"
    text = (ROOT / RULESET).read_text(encoding="utf-8")
    path.write_text(text + f"\n  sql:\n    query: {json.dumps(query)}\n", "utf-8")
    return path


def tables(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]


def test_a_ruleset_query_is_refused_without_the_operator_opt_in(tmp_path: Path) -> None:
    db = make_sqlite(tmp_path / "acc.db")
    ruleset = hostile_ruleset(tmp_path, "SELECT * FROM accounts")
    result = run_cli("dry-run", str(ruleset), "--data", str(db), "--as-of", AS_OF)
    assert result.returncode == 2
    assert "--allow-ruleset-query" in result.stderr
    assert result.stdout == ""


def test_validate_reports_a_ruleset_carrying_a_query(tmp_path: Path) -> None:
    ruleset = hostile_ruleset(tmp_path, "DROP TABLE accounts")
    result = run_cli("validate", str(ruleset))
    assert result.returncode == 1
    line = next(x for x in result.stdout.splitlines() if "W155" in x)
    assert line.startswith(f"{ruleset}:") and "sources.sql.query" in line


@pytest.mark.parametrize("query", [
    "DROP TABLE accounts",
    "SELECT * FROM accounts; DROP TABLE accounts",
    "VACUUM INTO '/tmp/i12-stolen.db'",
    "DELETE FROM accounts",
])
def test_drop_and_vacuum_never_run_even_when_allowed(tmp_path: Path, query: str) -> None:
    db = make_sqlite(tmp_path / "acc.db")
    ruleset = hostile_ruleset(tmp_path, query)
    result = run_cli("dry-run", str(ruleset), "--data", str(db), "--as-of", AS_OF,
                     "--allow-ruleset-query")
    assert result.returncode == 2
    assert "sources.sql.query in the ruleset, column" in result.stderr
    assert tables(db) == ["accounts"]
    assert not Path("/tmp/i12-stolen.db").exists()


def test_a_write_hidden_in_a_select_hits_the_read_only_transaction(tmp_path: Path) -> None:
    db = make_sqlite(tmp_path / "acc.db")
    # One statement that starts with WITH but writes: the database itself refuses it.
    query = "WITH x AS (SELECT 1) INSERT INTO accounts (account_id) SELECT 'ZZZ' FROM x"
    with pytest.raises(InputError, match="cannot read the query: attempt to write a readonly"):
        list(read_sql(f"sqlite:///{db}?query={query}", SourceContext()))
    with sqlite3.connect(db) as conn:
        found = conn.execute("SELECT count(*) FROM accounts WHERE account_id='ZZZ'")
        assert found.fetchone() == (0,)


@pytest.mark.parametrize(("query", "offset", "message"), [
    ("SELECT 1; DROP TABLE x", 10, "nothing may follow ';'"),
    ("  update accounts set x=1", 2, "not 'UPDATE'"),
    ("SELECT ';' -- ; DROP\n", None, None),
    ("SELECT $$;$$, \"a;b\", [c;d] FROM t;", None, None),
    ("SELECT 'open", 7, "never closed"),
    ("/* x */ ATTACH 'a.db' AS a", 8, "not 'ATTACH'"),
    ("", 0, "empty"),
])
def test_single_select_check_is_located(query: str, offset: int | None, message: str | None
                                        ) -> None:
    if message is None:
        check_single_select(query)
        return
    with pytest.raises(QueryError) as info:
        check_single_select(query)
    assert info.value.offset == offset and message in info.value.message


def test_an_operator_query_is_checked_too(tmp_path: Path) -> None:
    db = make_sqlite(tmp_path / "acc.db")
    result = run_cli("dry-run", RULESET, "--data",
                     f"sqlite:///{db}?query=SELECT%20*%20FROM%20accounts;DROP%20TABLE%20accounts",
                     "--as-of", AS_OF)
    assert result.returncode == 2
    assert "query=, column 24: only one statement" in result.stderr
    assert tables(db) == ["accounts"]


def test_bad_port_in_a_sql_url_hides_the_password() -> None:
    result = run_cli("dry-run", RULESET, "--data",
                     "postgresql://u:s3cret@127.0.0.1:abc/db", "--as-of", AS_OF)
    assert result.returncode == 2
    assert "s3cret" not in result.stderr and "not a database URL" in result.stderr


def test_postgres_query_runs_read_only(postgres_url: str) -> None:
    import sqlalchemy as sa

    url = postgres_url.replace("postgresql://", "postgresql+psycopg://")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS i12_acc"))
        conn.execute(sa.text("CREATE TABLE i12_acc (account_id text)"))
        conn.execute(sa.text("INSERT INTO i12_acc VALUES ('A1')"))
        conn.execute(sa.text(
            "CREATE OR REPLACE FUNCTION i12_wipe() RETURNS text LANGUAGE sql AS "
            "$$ DELETE FROM i12_acc; SELECT 'x' $$"))
    # One SELECT that writes through a function: only the read-only transaction stops it.
    query = "SELECT i12_wipe() AS account_id"
    with pytest.raises(InputError, match="read-only transaction"):
        list(read_sql(f"{postgres_url}?query={query}", SourceContext()))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM i12_acc")).scalar() == 1
    engine.dispose()


def test_a_ruleset_query_runs_only_where_the_database_enforces_read_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UPSELL_RULES_ALLOW_RULESET_QUERY", "1")
    context = SourceContext({"query": "SELECT 1 AS account_id"})
    with pytest.raises(InputError, match="not mssql; give the query on the command line"):
        list(read_sql("mssql+pyodbc://u:s3cret@h/db", context))


def test_an_operator_query_reaches_any_installed_dialect() -> None:
    # SQL Server cannot make a transaction read-only: the operator's own query still
    # runs (checked to be one SELECT, never committed); here it stops at the driver.
    with pytest.raises(InputError, match="database driver is not installed") as caught:
        list(read_sql("mssql+pyodbc://u:s3cret@h/db?query=SELECT%201", SourceContext()))
    assert "s3cret" not in str(caught.value)
    with pytest.raises(InputError, match="only a SELECT"):
        list(read_sql("mssql+pyodbc://u@h/db?query=DELETE%20FROM%20t", SourceContext()))
