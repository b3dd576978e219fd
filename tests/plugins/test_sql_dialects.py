"""The SQL source beyond SQLAlchemy's own dialects: DuckDB for real, warehouses by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.errors import InputError
from upsell_rules.plugin.types import SourceContext
from upsell_rules_sql import matches_sql, read_sql
from upsell_rules_sql.dialects import EXTRAS, installed

from .test_sql_source import RULESET, comparable, decisions

duckdb = pytest.importorskip("duckdb")  # the test extra installs duckdb-engine and duckdb


def test_warehouse_urls_are_claimed_by_dialect_name() -> None:
    for spec in ("snowflake://u@acct/db/schema", "bigquery://project/dataset",
                 "databricks://token:x@host?http_path=/sql", "duckdb:///w.duckdb",
                 "duckdb:///:memory:"):
        assert matches_sql(spec), spec
    for spec in ("https://example.com/x", "events:x.jsonl", "file:///x.csv"):
        assert not matches_sql(spec), spec
    assert "duckdb" in installed()


@pytest.mark.parametrize("name", sorted(set(EXTRAS) - {"duckdb"}))
def test_an_uninstalled_warehouse_dialect_names_its_extra(name: str) -> None:
    if name in installed():
        pytest.fail(f"{name} is installed here; this test expects it missing")
    with pytest.raises(InputError) as caught:
        list(read_sql(f"{name}://user:s3cret@host/db?table=accounts", SourceContext()))
    message = str(caught.value)
    assert f"no SQLAlchemy dialect '{name}' is installed" in message
    assert f"pip install 'upsell-rules[{name}]'" in message and "s3cret" not in message


@pytest.fixture(scope="module")
def duckdb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample accounts as a DuckDB table (every column text, as in the CSV)."""
    path = tmp_path_factory.mktemp("duck") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("CREATE TABLE accounts AS SELECT * FROM read_csv(?, all_varchar = true)",
                   [str(ROOT / "samples" / "accounts.csv")])
        db.execute("CREATE SEQUENCE ticks")
    return path


@pytest.fixture(scope="module")
def csv_decisions() -> list[dict[str, Any]]:
    return decisions(run_cli("dry-run", RULESET, "--data", "samples/accounts.csv",
                             "--as-of", AS_OF, "--format", "jsonl"))


def test_a_duckdb_table_gives_the_same_decisions_as_the_csv(
    duckdb_file: Path, csv_decisions: list[dict[str, Any]]
) -> None:
    result = run_cli("dry-run", RULESET, "--data", f"duckdb:///{duckdb_file}?table=accounts",
                     "--as-of", AS_OF, "--format", "jsonl")
    assert comparable(decisions(result)) == comparable(csv_decisions)


def test_an_in_memory_duckdb_query_reads_a_file(csv_decisions: list[dict[str, Any]]) -> None:
    query = f"SELECT * FROM read_csv('{ROOT / 'samples' / 'accounts.csv'}', all_varchar = true)"
    result = run_cli("dry-run", RULESET, "--data", f"duckdb:///:memory:?query={query}",
                     "--as-of", AS_OF, "--format", "jsonl")
    assert comparable(decisions(result)) == comparable(csv_decisions)


def test_a_duckdb_file_is_opened_read_only(
    duckdb_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One SELECT that writes (a sequence advances): only the read-only database stops it.
    monkeypatch.setenv("UPSELL_RULES_ALLOW_RULESET_QUERY", "1")
    context = SourceContext({"query": "SELECT CAST(nextval('ticks') AS VARCHAR) AS account_id"})
    with pytest.raises(InputError, match="read-only mode"):
        list(read_sql(f"duckdb:///{duckdb_file}", context))
    with duckdb.connect(str(duckdb_file)) as db:
        assert db.execute("SELECT nextval('ticks')").fetchone() == (1,)
        db.execute("DROP SEQUENCE ticks")
        db.execute("CREATE SEQUENCE ticks")


def test_duckdb_rows_carry_the_typed_values(duckdb_file: Path) -> None:
    records = list(read_sql(
        f"duckdb:///{duckdb_file}?query=SELECT account_id, CAST(renewal_date AS DATE) AS "
        "renewal_date, CAST(health_score AS DOUBLE) AS health_score FROM accounts "
        "ORDER BY account_id LIMIT 1", SourceContext()))
    assert json.loads(json.dumps(records[0].values)) == records[0].values
    assert isinstance(records[0].values["renewal_date"], str)


def test_a_ruleset_query_on_duckdb_cannot_read_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSELL_RULES_ALLOW_RULESET_QUERY", "1")
    secret = f"SELECT * FROM read_csv('{ROOT / 'samples' / 'accounts.csv'}')"
    with pytest.raises(InputError, match="file system operations are disabled"):
        list(read_sql("duckdb:///:memory:", SourceContext({"query": secret})))
    # The operator's own query (on the command line) may read files.
    assert len(list(read_sql(f"duckdb:///:memory:?query={secret}", SourceContext()))) == 50



_ON_A_TERMINAL = """
import duckdb
from upsell_rules.plugin.types import SourceContext
from upsell_rules_sql import read_sql
print("default", duckdb.connect().execute(
    "SELECT current_setting('enable_progress_bar')").fetchone()[0])
for url in ("duckdb:///" + {path!r}, "duckdb:///:memory:"):
    rows = list(read_sql(url + "?query=SELECT CAST(current_setting('enable_progress_bar') "
                         "AS VARCHAR) AS account_id", SourceContext()))
    print("source", rows[0].values["account_id"])
"""


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_duckdb_draws_no_progress_bar_among_the_records(duckdb_file: Path) -> None:
    """On a terminal DuckDB draws its progress bar on standard output, in among the
    records a run writes there; the SQL source's connections turn it off."""
    terminal, child_end = os.openpty()
    try:
        done = subprocess.run([sys.executable, "-c", _ON_A_TERMINAL.format(path=str(duckdb_file))],
                              stdout=child_end, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(child_end)
    out = b""
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the child's end is closed: all was read
            break
        if not chunk:
            break
        out += chunk
    os.close(terminal)
    assert done.returncode == 0, done.stderr
    lines = out.decode().split()
    assert lines == ["default", "True", "source", "false", "source", "false"]
