"""``upsell-rules compile``: the query, the DDL, the dbt files, and what cannot compile."""

from __future__ import annotations

from pathlib import Path

import duckdb
import sqlglot
from ruamel.yaml import YAML

from tests.support import AS_OF, ROOT, run_cli

TIMING = "rulesets/upsell_timing.yaml"
EXAMPLE = "plugins/example-plugin/support_aware.yaml"


def test_compile_prints_a_query_each_dialect_parses() -> None:
    for dialect in ("duckdb", "postgres", "snowflake", "bigquery", "spark", "databricks"):
        result = run_cli("compile", TIMING, "--dialect", dialect, "--as-of", AS_OF,
                         "--table", "crm.accounts_v1")
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        statement = sqlglot.parse_one(result.stdout, read=dialect)
        tables = {t.sql(dialect=dialect) for t in statement.find_all(sqlglot.exp.Table)}
        assert "crm.accounts_v1" in tables


def test_ddl_then_query_run_on_duckdb_from_the_cli(tmp_path: Path) -> None:
    ddl = run_cli("compile", TIMING, "--dialect", "duckdb", "--ddl")
    query = run_cli("compile", TIMING, "--dialect", "duckdb", "--as-of", AS_OF)
    assert ddl.returncode == query.returncode == 0, ddl.stderr + query.stderr
    con = duckdb.connect()
    con.execute(ddl.stdout)
    con.execute("INSERT INTO accounts (account_id, health_score, seats_licensed, "
                "seats_active_history) VALUES ('A-1', 90, 10, [9, 10, 10])")
    rows = con.execute(query.stdout).fetchall()
    assert len(rows) == 1 and rows[0][0] == "A-1"


def test_dbt_writes_a_model_its_tests_and_its_source(tmp_path: Path) -> None:
    target = tmp_path / "dbt_project"
    result = run_cli("compile", TIMING, "--dialect", "snowflake", "--dbt", str(target))
    assert result.returncode == 0, result.stderr
    model = (target / "models" / "upsell_timing_decisions.sql").read_text()
    assert "{{ source('upsell_rules', 'accounts') }}" in model
    assert "var('upsell_rules_as_of'" in model and "9999-12-31" not in model
    schema = (target / "models" / "upsell_timing_decisions.yml").read_text()
    assert "accepted_values: {values: [\"act_now\", \"warming\", \"monitor\", \"wait\"]}" in schema
    assert "data_tests: [unique, not_null]" in schema
    assert "name: upsell_rules" in (target / "models" / "upsell_rules_sources.yml").read_text()
    test = (target / "tests" / "upsell_timing_decisions_score_range.sql").read_text()
    assert "score < 0 or score > 100" in test
    listed = [line.split(" ", 1)[1] for line in result.stdout.splitlines()]
    assert all(Path(p).is_file() for p in listed) and len(listed) == 4
    # With its Jinja filled in the way dbt would, the model runs.
    filled = model.replace("{{ source('upsell_rules', 'accounts') }}", "accounts").replace(
        "{{ var('upsell_rules_as_of', run_started_at.strftime('%Y-%m-%d')) }}", AS_OF)
    duck_model = run_cli("compile", TIMING, "--dialect", "duckdb", "--dbt", str(tmp_path / "d"))
    assert duck_model.returncode == 0
    text = (tmp_path / "d" / "models" / "upsell_timing_decisions.sql").read_text()
    text = text.replace("{{ source('upsell_rules', 'accounts') }}", "accounts").replace(
        "{{ var('upsell_rules_as_of', run_started_at.strftime('%Y-%m-%d')) }}", AS_OF)
    con = duckdb.connect()
    con.execute(run_cli("compile", TIMING, "--ddl").stdout)
    assert con.execute(text).fetchall() == []
    con.execute("INSERT INTO accounts (account_id, owner) VALUES ('A-1', 'Dana Reyes')")
    cursor = con.execute(text)
    row = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    # owner is the account's person; action_owner the play's role (as in the CSV output).
    assert row["owner"] == "Dana Reyes" and row["account_name"] == ""
    assert row["action_owner"] in ("CSM", "CSM + AE", "AE", "unassigned")
    # Every column the properties describe is a column of the model.
    described = YAML(typ="safe").load(schema)["models"][0]["columns"]
    assert {c["name"] for c in described} <= set(row)
    assert {"owner", "action_owner", "triggers"} <= {c["name"] for c in described}
    assert sqlglot.parse_one(filled, read="snowflake") is not None


def test_a_plugin_derivation_without_a_sql_form_is_named(example_plugin_site: Path) -> None:
    env = {"PYTHONPATH": str(example_plugin_site)}
    result = run_cli("compile", EXAMPLE, "--as-of", AS_OF, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"upsell-rules: error: {EXAMPLE}: cannot compile to SQL: signal 'support_load': "
        "derivation 'support_load' (plugin 'example') has no SQL form"
    )


def test_an_unknown_dialect_is_a_usage_error() -> None:
    result = run_cli("compile", TIMING, "--dialect", "oracle")
    assert result.returncode == 2
    assert "'oracle' is not one of" in result.stderr
    assert ROOT.joinpath(TIMING).is_file()
