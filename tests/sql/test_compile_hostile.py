"""``compile`` with a hostile ruleset: its text stays data in the SQL and in the dbt files."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from ruamel.yaml import YAML

from tests.support import AS_OF, run_cli

#: Every text a ruleset can put into the query: constants, string literals in
#: conditions, derivation parameters, owner roles, and the version (dbt description).
HOSTILE = r"""
name: hostile
version: "{{ env_var(\"HOME\") }} {% do run_query(\"DROP TABLE accounts\") %}"
constants:
  evil: "a'); DROP TABLE accounts; --"
  slash: "c\\'; DROP TABLE accounts; --"
  jinja: "{{ run_query(\"DROP TABLE accounts\") }}"
signals:
  plan: {type: string}
  tickets: {type: string_list}
  p12: {type: integer, derive: count_in, params: {list: tickets, values: "P1',P2\\"}}
  is_evil:
    type: boolean
    when: plan == evil or plan == slash or plan == jinja or plan == '{# x'
scoring:
  categories:
    product:
      weight: 1.0
      tiers:
        - {id: t1, score: 10, when: is_evil}
bands:
  - {id: act_now, title: "A", min: 50, max: 100, outreach: true, play: p}
  - {id: wait, title: "W", min: 0, max: 50, play: p}
gates: []
red_flags:
  - {id: f, when: p12 >= 1, effect: block, play: p}
triggers:
  - {id: tr, upsell_type: seat, when: is_evil, play: p, evidence: "e"}
owners:
  o:
    - when: p12 >= 2
      role: "CSM'); DROP TABLE accounts; -- {{ env_var(\"HOME\") }}"
    - role: "A\\'E"
plays:
  p: {title: "t", window: now, owner: o, message: "m"}
"""

PLANS = ["a'); drop table accounts; --", "c\\'; drop table accounts; --",
         '{{ run_query("drop table accounts") }}', "{# x", "plain"]


def _accounts() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE accounts (account_id TEXT, account_name TEXT, owner TEXT, "
                "plan TEXT, tickets TEXT[])")
    for number, plan in enumerate(PLANS):
        con.execute("INSERT INTO accounts VALUES (?, 'n', 'o', ?, ?)",
                    [f"A{number}", plan, ["P1'", "p2\\", "p3"]])
    return con


def _decided(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple[object, ...]]:
    rows = con.execute(query).fetchall()
    assert con.execute("SELECT count(*) FROM accounts").fetchone() == (len(PLANS),)
    return [(row[0], row[3], row[-1]) for row in rows]


EXPECTED = [("A0", 100.0, "CSM'); DROP TABLE accounts; -- {{ env_var(\"HOME\") }}"),
            ("A1", 100.0, "CSM'); DROP TABLE accounts; -- {{ env_var(\"HOME\") }}"),
            ("A2", 100.0, "CSM'); DROP TABLE accounts; -- {{ env_var(\"HOME\") }}"),
            ("A3", 100.0, "CSM'); DROP TABLE accounts; -- {{ env_var(\"HOME\") }}"),
            ("A4", 0.0, "CSM'); DROP TABLE accounts; -- {{ env_var(\"HOME\") }}")]


def test_ruleset_text_stays_a_string_literal_in_every_dialect(tmp_path: Path) -> None:
    ruleset = tmp_path / "hostile.yaml"
    ruleset.write_text(HOSTILE, encoding="utf-8")
    query = run_cli("compile", str(ruleset), "--as-of", AS_OF)
    assert query.returncode == 0, query.stderr
    assert _decided(_accounts(), query.stdout) == EXPECTED
    for dialect in ("postgres", "snowflake", "bigquery", "spark", "databricks"):
        other = run_cli("compile", str(ruleset), "--dialect", dialect, "--as-of", AS_OF)
        assert other.returncode == 0, other.stderr
        assert "DROP TABLE accounts; --" in other.stdout  # inside a literal, as below
        assert not re.search(r"^\s*DROP", other.stdout, re.MULTILINE)


def _jinja_openings(text: str) -> list[str]:
    """Every Jinja tag in ``text``: from ``{{``, ``{%`` or ``{#`` to its closing."""
    return re.findall(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{[{%#]", text, re.DOTALL)


def test_dbt_files_never_let_ruleset_text_run_as_jinja(tmp_path: Path) -> None:
    ruleset = tmp_path / "hostile.yaml"
    ruleset.write_text(HOSTILE, encoding="utf-8")
    target = tmp_path / "dbt"
    result = run_cli("compile", str(ruleset), "--dbt", str(target))
    assert result.returncode == 0, result.stderr
    source = "{{ source('upsell_rules', 'accounts') }}"
    as_of = "{{ var('upsell_rules_as_of', run_started_at.strftime('%Y-%m-%d')) }}"
    brace = '{{ "{" }}'
    model = (target / "models" / "hostile_decisions.sql").read_text(encoding="utf-8")
    assert set(_jinja_openings(model)) <= {source, as_of, brace}
    # Rendered the way Jinja renders it, the model decides as the plain query does.
    rendered = model.replace(brace, "{").replace(source, "accounts").replace(as_of, AS_OF)
    assert _decided(_accounts(), rendered) == EXPECTED
    schema = (target / "models" / "hostile_decisions.yml").read_text(encoding="utf-8")
    described = YAML(typ="safe").load(schema)["models"][0]["description"]
    assert set(_jinja_openings(described)) == {brace}
    assert described.replace(brace, "{").startswith(
        'Decisions of ruleset hostile {{ env_var("HOME") }} {% do run_query(')
