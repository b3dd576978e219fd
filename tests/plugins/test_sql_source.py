"""The SQL source: SQLite files and URLs, and a real PostgreSQL server on loopback."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.errors import InputError, RecordError
from upsell_rules.plugin.build import build_registry
from upsell_rules.plugin.types import RawRecord, SourceContext
from upsell_rules_sql import SQL_SOURCE, matches_sql, read_sql

RULESET = "rulesets/upsell_timing.yaml"
LISTS = ("seats_active_history", "usage_history", "gated_feature_attempts",
         "open_ticket_priorities", "named_gaps")


def sample_rows() -> tuple[list[str], list[dict[str, str]]]:
    with open(ROOT / "samples" / "accounts.csv", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def make_sqlite(path: Path, table: str = "accounts") -> Path:
    """The sample accounts as a SQLite table (lists kept as a|b|c text, like the CSV)."""
    columns, rows = sample_rows()
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE {table} ({', '.join(f'{c} TEXT' for c in columns)})")
        db.executemany(
            f"INSERT INTO {table} VALUES ({', '.join('?' for _ in columns)})",
            [[row[c] or None for c in columns] for row in rows],
        )
    return path


def decisions(result: Any) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def comparable(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in d.items() if k != "ruleset"} for d in records]


@pytest.fixture(scope="module")
def csv_decisions() -> list[dict[str, Any]]:
    return decisions(run_cli("dry-run", RULESET, "--data", "samples/accounts.csv",
                             "--as-of", AS_OF, "--format", "jsonl"))


def test_claims_urls_and_sqlite_files_by_pattern() -> None:
    for spec in ("sqlite:///x.db", "postgresql://u@h/db", "postgres://h/db",
                 "postgresql+psycopg://h/db", "mysql+pymysql://h/db", "accounts.db",
                 "data/accounts.SQLITE"):
        assert matches_sql(spec), spec
    for spec in ("accounts.csv", "https://example.com/a.db?x", "events:x.jsonl"):
        assert not (matches_sql(spec) and not spec.endswith(".db")), spec
    assert build_registry().source_for("sqlite:///x.db") is not None


def test_sqlite_file_gives_the_same_decisions_as_the_csv(
    tmp_path: Path, csv_decisions: list[dict[str, Any]]
) -> None:
    db = make_sqlite(tmp_path / "accounts.db")
    plain = decisions(run_cli("dry-run", RULESET, "--data", str(db), "--as-of", AS_OF,
                              "--format", "jsonl"))
    url = decisions(run_cli("dry-run", RULESET, "--data", f"sqlite:///{db}?table=accounts",
                            "--as-of", AS_OF, "--format", "jsonl"))
    assert comparable(plain) == comparable(csv_decisions)
    assert comparable(url) == comparable(csv_decisions)


def test_query_from_the_url_and_named_source(tmp_path: Path) -> None:
    db = make_sqlite(tmp_path / "crm.sqlite", table="crm_accounts")
    query = "SELECT%20*%20FROM%20crm_accounts%20WHERE%20CAST(arr%20AS%20REAL)%20%3E%2050000"
    result = run_cli("dry-run", RULESET, "--data", f"sql:sqlite:///{db}?query={query}",
                     "--as-of", AS_OF, "--format", "jsonl")
    got = decisions(result)
    _, rows = sample_rows()
    assert {d["account_id"] for d in got} == {
        r["account_id"] for r in rows if float(r["arr"]) > 50000
    }


def test_table_and_query_from_the_ruleset(tmp_path: Path) -> None:
    db = make_sqlite(tmp_path / "crm.db", table="crm_accounts")
    ruleset = tmp_path / "with_sql.yaml"
    ruleset.write_text(
        (ROOT / RULESET).read_text(encoding="utf-8")
        + "\n  sql:\n    query: SELECT * FROM crm_accounts WHERE plan = 'Starter'\n",
        encoding="utf-8",
    )
    result = run_cli("validate", str(ruleset))
    assert result.returncode == 1 and " W155 sources.sql.query:" in result.stdout
    got = decisions(run_cli("dry-run", str(ruleset), "--data", str(db), "--as-of", AS_OF,
                            "--format", "jsonl", "--allow-ruleset-query"))
    _, rows = sample_rows()
    assert [d["account_id"] for d in got] == [
        r["account_id"] for r in rows if r["plan"] == "Starter"
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("sqlite:///{tmp}/missing_table.db?table=nope",
         "sqlite:///{tmp}/missing_table.db?table=nope: cannot read the table nope: "),
        ("sqlite:///{tmp}/x.db?table=drop%20table%20x", "is not a table name"),
        ("{tmp}/absent.db", "{tmp}/absent.db: no such SQLite file"),
    ],
)
def test_errors_say_which_input(tmp_path: Path, spec: str, message: str) -> None:
    make_sqlite(tmp_path / "missing_table.db")
    with pytest.raises(InputError) as info:
        list(read_sql(spec.format(tmp=tmp_path), SourceContext()))
    assert message.format(tmp=tmp_path) in str(info.value)


def test_a_query_without_account_id_is_refused(tmp_path: Path) -> None:
    db = make_sqlite(tmp_path / "a.db")
    with pytest.raises(InputError, match="has no 'account_id' column"):
        list(read_sql(f"sqlite:///{db}?query=SELECT%20plan%20FROM%20accounts", SourceContext()))


def test_a_bad_value_is_located_at_its_row(tmp_path: Path) -> None:
    db = make_sqlite(tmp_path / "a.db")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE accounts SET health_score = 'abc' WHERE account_id = 'ACC-1003'")
    # A bad value costs that one signal, with a located warning (docs/data.md) ...
    result = run_cli("dry-run", RULESET, "--data", str(db), "--as-of", AS_OF, "--format", "jsonl")
    assert result.returncode == 0
    assert f"sqlite:///{db}?table=accounts:3: health_score: 'abc' is not a number" in result.stderr
    assert len(result.stdout.splitlines()) == 50
    # ... unless the signal is required: then the record fails.
    result = run_cli("dry-run", RULESET, "--data", str(db), "--as-of", AS_OF, "--format", "jsonl",
                     "--set", "signals.health_score.required=true")
    assert result.returncode == 1
    assert f"sqlite:///{db}?table=accounts:3: health_score: 'abc' is not a number" in result.stderr
    assert len(result.stdout.splitlines()) == 49


# --- PostgreSQL ------------------------------------------------------------------------


def load_postgres(url: str) -> None:
    """The sample accounts as a typed PostgreSQL table: dates, numerics, arrays, booleans."""
    import sqlalchemy as sa

    columns, rows = sample_rows()
    types: dict[str, Any] = {c: sa.Text() for c in columns}
    for name in ("customer_since", "success_milestone_on", "champion_last_engaged_on",
                 "champion_changed_on", "renewal_date", "last_renewal_date",
                 "funding_announced_on", "nps_responded_on", "downgrade_requested_on",
                 "named_gaps_on"):
        types[name] = sa.Date()
    for name in ("arr", "usage_limit", "health_score", "headcount_growth_90d"):
        types[name] = sa.Numeric()
    for name in ("seats_licensed", "departments_active", "departments_at_purchase",
                 "power_users", "nps_score"):
        types[name] = sa.Integer()
    types["competitor_evaluation"] = sa.Boolean()
    types["seats_active_history"] = sa.ARRAY(sa.Integer())
    types["usage_history"] = sa.ARRAY(sa.Numeric())
    types["gated_feature_attempts"] = sa.ARRAY(sa.Date())
    types["open_ticket_priorities"] = sa.ARRAY(sa.Text())
    types["named_gaps"] = sa.ARRAY(sa.Text())

    def value(name: str, text: str) -> Any:
        if not text:
            return None
        kind = types[name]
        if isinstance(kind, sa.ARRAY):
            items = text.split("|")
            if isinstance(kind.item_type, sa.Date):
                return [date.fromisoformat(i) for i in items]
            if isinstance(kind.item_type, sa.Integer | sa.Numeric):
                return [float(i) if "." in i else int(i) for i in items]
            return items
        if isinstance(kind, sa.Date):
            return date.fromisoformat(text)
        if isinstance(kind, sa.Boolean):
            return text == "true"
        if isinstance(kind, sa.Integer):
            return int(text)
        if isinstance(kind, sa.Numeric):
            return float(text)
        return text

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    meta = sa.MetaData()
    table = sa.Table("crm_accounts", meta, *(sa.Column(c, types[c]) for c in columns),
                     schema="revops")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS revops"))
        meta.drop_all(conn)
        meta.create_all(conn)
        conn.execute(table.insert(), [{c: value(c, r[c]) for c in columns} for r in rows])
    engine.dispose()


@pytest.fixture(scope="module")
def loaded_postgres(postgres_url: str) -> str:
    load_postgres(postgres_url)
    return postgres_url


def test_postgres_table_gives_the_same_decisions_as_the_csv(
    loaded_postgres: str, csv_decisions: list[dict[str, Any]]
) -> None:
    got = decisions(run_cli("dry-run", RULESET, "--data",
                            f"{loaded_postgres}?table=revops.crm_accounts",
                            "--as-of", AS_OF, "--format", "jsonl"))
    assert comparable(got) == comparable(csv_decisions)


def test_postgres_query_with_the_records_typed(loaded_postgres: str) -> None:
    spec = f"{loaded_postgres}?query=SELECT * FROM revops.crm_accounts WHERE account_id = 'ACC-1001'"
    items = list(read_sql(spec, SourceContext()))
    assert len(items) == 1 and isinstance(items[0], RawRecord)
    values = items[0].values
    assert values["seats_active_history"] == [14, 16, 19, 21, 23]
    assert values["renewal_date"] == "2027-01-19"
    assert values["gated_feature_attempts"] == ["2026-10-22", "2026-10-27", "2026-10-31"]
    assert values["competitor_evaluation"] is False
    assert "password" not in str(items[0].location)


def test_postgres_password_never_shown(loaded_postgres: str) -> None:
    with_password = loaded_postgres.replace("postgres@", "postgres:s3cret@")
    result = run_cli("dry-run", RULESET, "--data", f"{with_password}?table=no_such_table",
                     "--as-of", AS_OF)
    assert result.returncode == 2
    assert "s3cret" not in result.stderr
    assert "cannot read the table no_such_table" in result.stderr


def test_postgres_unreachable_is_a_clear_input_error(postgres_url: str) -> None:
    dead = "postgresql://postgres@127.0.0.1:1/postgres?table=accounts"
    result = run_cli("dry-run", RULESET, "--data", dead, "--as-of", AS_OF)
    assert result.returncode == 2
    assert result.stderr.startswith("upsell-rules: error: postgresql+psycopg://postgres@127.0.0.1:1")
    assert result.stdout == ""


def test_sql_record_errors_keep_other_rows(loaded_postgres: str) -> None:
    items = list(read_sql(
        f"{loaded_postgres}?query=SELECT account_id, 'x' AS health_score FROM "
        "revops.crm_accounts ORDER BY account_id LIMIT 2",
        SourceContext(),
    ))
    assert [type(i) for i in items] == [RawRecord, RawRecord]
    assert not any(isinstance(i, RecordError) for i in items)
    assert SQL_SOURCE.options["table"].kind == "string"
