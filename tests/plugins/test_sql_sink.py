"""The SQL sink: decisions upserted into SQLite, DuckDB and a real PostgreSQL server."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.io.rows import DECISION_COLUMNS

RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
DATA = ROOT / "samples" / "accounts.csv"


def run_to(sink: str, cwd: Path, *, data: Path = DATA, as_of: str = AS_OF) -> Any:
    # --no-state: every decision is delivered, not only the changes since the last run.
    return run_cli("run", str(RULESET), "--data", str(data), "--as-of", as_of,
                   "--sink", sink, "--no-state", cwd=cwd)


def dry_run_lines(data: Path = DATA, as_of: str = AS_OF) -> dict[str, str]:
    result = run_cli("dry-run", str(RULESET), "--data", str(data), "--as-of", as_of,
                     "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return {json.loads(line)["account_id"]: line for line in result.stdout.splitlines()}


def sqlite_rows(path: Path, table: str = "decisions") -> list[dict[str, Any]]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY as_of, account_id")]


def with_health(tmp_path: Path, account_id: str, health: str) -> Path:
    """The sample accounts with one account's health score changed."""
    with open(DATA, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows, columns = list(reader), list(reader.fieldnames or [])
    for row in rows:
        if row["account_id"] == account_id:
            row["health_score"] = health
    out = tmp_path / "accounts.csv"
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return out


def test_sqlite_rows_hold_the_core_columns_and_the_exact_record(tmp_path: Path) -> None:
    result = run_to("sql:sqlite:///out.db?table=decisions", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "50 delivered" in result.stdout
    rows = sqlite_rows(tmp_path / "out.db")
    assert [list(r) for r in rows[:1]] == [list(DECISION_COLUMNS)]
    lines = dry_run_lines()
    assert {r["account_id"] for r in rows} == set(lines)
    for row in rows:
        record = json.loads(row["record"])
        assert row["record"] == lines[row["account_id"]]  # the record, byte for byte
        assert row["as_of"] == AS_OF
        assert row["score"] == record["score"] and row["band"] == record["band"]
        assert bool(row["blocked"]) is record["blocked"]
        assert row["play"] == record["action"]["play"]
        # owner: the account's owner (a person); action_owner: the play's owner role.
        assert row["action_owner"] == record["action"]["owner"]
        assert row["owner"] == record["owner"] != ""
        assert row["trigger"] == (record["triggers"][0]["id"] if record["triggers"] else None)
        # Lists of ids as in the CSV output and the compiled query: a|b, NULL when empty.
        assert row["failed_gates"] == ("|".join(
            g["id"] for g in record["gates"] if not g["passed"]) or None)
        assert row["triggers"] == ("|".join(t["id"] for t in record["triggers"]) or None)
    assert any(r["red_flags"] is None for r in rows)
    assert any("|" in (r["triggers"] or "") for r in rows)


def test_rerunning_the_same_day_updates_and_another_day_adds(tmp_path: Path) -> None:
    sink = "sql:sqlite:///out.db?table=decisions"
    assert run_to(sink, tmp_path).returncode == 0
    before = {r["account_id"]: r for r in sqlite_rows(tmp_path / "out.db")}
    assert before["ACC-1003"]["band"] == "act_now"
    # Health 40 fails the health gate: the same day's row is replaced, not duplicated.
    changed = with_health(tmp_path, "ACC-1003", "40")
    result = run_to(sink, tmp_path, data=changed)
    assert result.returncode == 0, result.stderr
    after = {r["account_id"]: r for r in sqlite_rows(tmp_path / "out.db")}
    assert len(sqlite_rows(tmp_path / "out.db")) == 50
    assert after["ACC-1003"]["blocked"] == 1 and before["ACC-1003"]["blocked"] == 0
    assert after["ACC-1003"]["record"] == dry_run_lines(changed)["ACC-1003"]
    assert after["ACC-1001"] == before["ACC-1001"]
    assert run_to(sink, tmp_path, as_of="2026-11-03").returncode == 0
    rows = sqlite_rows(tmp_path / "out.db")
    assert len(rows) == 100 and {r["as_of"] for r in rows} == {AS_OF, "2026-11-03"}


def test_a_table_that_is_not_a_table_of_decisions_is_never_written(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "crm.db") as db:
        db.execute("CREATE TABLE accounts (account_id TEXT, as_of TEXT, note TEXT)")
        db.execute("INSERT INTO accounts VALUES ('ACC-1001', '2026-11-02', 'keep me')")
    result = run_to("sql:sqlite:///crm.db?table=accounts", tmp_path)
    assert result.returncode != 0
    assert "exists but is not a table of decisions (no column account_name" in result.stdout
    assert "0 delivered, 50 failed" in result.stdout
    with sqlite3.connect(tmp_path / "crm.db") as db:
        assert db.execute("SELECT * FROM accounts").fetchall() == [
            ("ACC-1001", "2026-11-02", "keep me")]


def test_a_bad_table_name_is_refused(tmp_path: Path) -> None:
    result = run_to("sql:sqlite:///out.db?table=x;drop", tmp_path)
    assert result.returncode != 0
    assert "'x;drop' is not a table name" in result.stdout
    assert not (tmp_path / "out.db").exists()


def ruleset_with_sink(tmp_path: Path, options: str) -> Path:
    text = RULESET.read_text(encoding="utf-8")
    path = tmp_path / "rules.yaml"
    path.write_text(f"{text}\nsinks:\n  warehouse:\n    type: sql\n{options}", encoding="utf-8")
    return path


def test_a_ruleset_writes_a_sqlite_file_only_inside_its_folder(tmp_path: Path) -> None:
    if "\nsinks:" in RULESET.read_text(encoding="utf-8"):
        pytest.fail("the default ruleset grew a sinks: section; adjust this test")
    folder = tmp_path / "rules"
    folder.mkdir()
    inside = ruleset_with_sink(folder, "    path: decisions.db\n")
    result = run_cli("run", str(inside), "--data", str(DATA), "--as-of", AS_OF, "--no-state",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(sqlite_rows(folder / "decisions.db", "upsell_decisions")) == 50
    outside = ruleset_with_sink(folder, "    path: ../escape.db\n")
    result = run_cli("run", str(outside), "--data", str(DATA), "--as-of", AS_OF, "--no-state",
                     cwd=tmp_path)
    assert result.returncode == 2 and "leaves the ruleset's folder" in result.stderr
    as_url = ruleset_with_sink(folder, f"    url: sqlite:///{tmp_path / 'escape.db'}\n")
    result = run_cli("run", str(as_url), "--data", str(DATA), "--as-of", AS_OF, "--no-state",
                     cwd=tmp_path)
    assert result.returncode != 0
    assert "a database file in a ruleset is given as path:" in result.stdout
    assert not (tmp_path / "escape.db").exists()


def test_a_missing_dialect_names_the_extra(tmp_path: Path) -> None:
    result = run_to("sql:snowflake://user:s3cret@acct/db/schema?warehouse=w", tmp_path)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    if "s3cret" in out:
        pytest.fail(f"password shown: {out}")
    try:
        import snowflake.sqlalchemy  # noqa: F401
    except ImportError:
        assert "pip install 'upsell-rules[snowflake]'" in out


def test_duckdb_upserts_too(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb_engine") and __import__("duckdb")
    sink = "sql:duckdb:///out.duckdb?table=decisions"
    assert run_to(sink, tmp_path).returncode == 0
    changed = with_health(tmp_path, "ACC-1003", "40")
    result = run_to(sink, tmp_path, data=changed)
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM decisions").fetchone() == (50,)
        record = db.execute(
            "SELECT record FROM decisions WHERE account_id = 'ACC-1003'").fetchone()
    assert record[0] == dry_run_lines(changed)["ACC-1003"]


def test_postgres_upsert_with_the_password_never_shown(postgres_url: str, tmp_path: Path) -> None:
    import sqlalchemy as sa

    # The test server trusts loopback, so any password is accepted and must stay hidden.
    url = postgres_url.replace("postgres@", "postgres:s3cret@")
    sink = f"sql:{url}?table=revops.upsell_decisions"
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS revops"))
        conn.execute(sa.text("DROP TABLE IF EXISTS revops.upsell_decisions"))
    first = run_to(sink, tmp_path)
    changed = with_health(tmp_path, "ACC-1003", "40")
    second = run_to(sink, tmp_path, data=changed)
    for result in (first, second):
        assert result.returncode == 0, result.stdout + result.stderr
        assert "s3cret" not in result.stdout + result.stderr
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT account_id, as_of::text, blocked, record FROM revops.upsell_decisions"
        )).all()
        kinds = dict(conn.execute(sa.text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'revops' AND table_name = 'upsell_decisions'")).all())
    engine.dispose()
    assert len(rows) == 50
    lines = dry_run_lines(changed)
    assert all(record == lines[account] for account, _, _, record in rows)
    assert {r[1] for r in rows} == {AS_OF}
    assert kinds["as_of"] == "date" and kinds["blocked"] == "boolean"
    assert kinds["score"] == "double precision"
    refused = run_to(f"sql:{url}?table=pg_catalog.pg_class", tmp_path)
    assert refused.returncode != 0 and "not a table of decisions" in refused.stdout
    assert "s3cret" not in refused.stdout + refused.stderr


def test_an_unreachable_database_fails_every_decision_without_the_password(
    postgres_url: str, tmp_path: Path
) -> None:
    port = postgres_url.rsplit(":", 1)[1].split("/")[0]
    url = postgres_url.replace("postgres@", "postgres:s3cret@").replace(f":{port}/", ":1/")
    result = run_to(f"sql:{url}", tmp_path)
    assert result.returncode != 0
    assert "cannot write the decisions" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr


def test_no_rows_left_behind_by_a_failed_write(tmp_path: Path) -> None:
    assert run_to("sql:sqlite:///out.db?table=decisions", tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "out.db") as db:
        db.execute("CREATE TRIGGER stop BEFORE UPDATE ON decisions "
                   "WHEN NEW.account_id = 'ACC-1040' BEGIN SELECT RAISE(ABORT, 'no'); END")
    changed = with_health(tmp_path, "ACC-1003", "40")
    result = run_to("sql:sqlite:///out.db?table=decisions", tmp_path, data=changed)
    assert result.returncode != 0 and "cannot write the decisions" in result.stdout
    after = {r["account_id"]: r for r in sqlite_rows(tmp_path / "out.db")}
    assert after["ACC-1003"]["blocked"] == 0  # the whole write was rolled back


#: Scores with cents a 4-byte float cannot hold: 11.1 (a only) and 44.1 (a and b).
THIRDS = """\
name: thirds
version: 0.1.0
signals:
  seats_licensed: {type: integer}
scoring:
  categories:
    a: {weight: 0.37, tiers: [{id: some, score: 3, when: seats_licensed > 0}]}
    b: {weight: 0.33, tiers: [{id: many, score: 10, when: seats_licensed > 100}]}
    c: {weight: 0.30, tiers: [{id: huge, score: 10, when: seats_licensed > 100000}]}
bands:
  - {id: high, min: 40, max: 100, play: talk, outreach: true}
  - {id: low, min: 0, max: 40, play: hold}
plays:
  talk: {title: Talk, window: this week}
  hold: {title: Hold, window: next month}
"""


def test_duckdb_keeps_the_score_to_the_cent(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb_engine") and __import__("duckdb")
    ruleset = tmp_path / "thirds.yaml"
    ruleset.write_text(THIRDS)
    result = run_cli("run", str(ruleset), "--data", str(DATA), "--as-of", AS_OF, "--no-state",
                     "--sink", "sql:duckdb:///out.duckdb?table=decisions", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as db:
        scores = {s for (s,) in db.execute("SELECT DISTINCT score FROM decisions").fetchall()}
    # A 4-byte FLOAT column gave 11.100000381469727 and 44.099998474121094.
    assert scores == {11.1, 44.1}


def test_a_decisions_table_without_a_key_is_refused_with_how_to_add_one(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "out.db") as db:
        columns = ", ".join(DECISION_COLUMNS)
        db.execute(f"CREATE TABLE decisions ({columns})")
    result = run_to("sql:sqlite:///out.db?table=decisions", tmp_path)
    assert result.returncode != 0
    assert ("table decisions has the decision columns but no primary key or unique "
            "constraint on (account_id, as_of)") in result.stdout
    assert "ALTER TABLE decisions ADD PRIMARY KEY (account_id, as_of)" in result.stdout
    assert sqlite_rows(tmp_path / "out.db") == []


def test_a_password_given_in_the_query_string_is_never_shown(
    postgres_url: str, tmp_path: Path
) -> None:
    port = postgres_url.rsplit(":", 1)[1].split("/")[0]
    unreachable = postgres_url.replace(f":{port}/", ":1/")
    sink = run_to(f"sql:{unreachable}?password=s3cret&table=decisions", tmp_path)
    source = run_cli("dry-run", str(RULESET), "--as-of", AS_OF,
                     "--data", f"{unreachable}?password=s3cret&table=accounts")
    state = run_cli("run", str(RULESET), "--data", str(DATA), "--as-of", AS_OF,
                    "--sink", "stdout", "--state", f"{unreachable}?password=s3cret")
    for result in (sink, source, state):
        assert result.returncode != 0
        assert "s3cret" not in result.stdout + result.stderr
    assert "?password=***" in source.stderr and "?password=***" in state.stderr
    # The sink's label names the driver (it showed '?://' for postgresql+psycopg).
    assert "(sql postgresql+psycopg://127.0.0.1:1/" in sink.stdout
