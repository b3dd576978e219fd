"""Hostile and unusual inputs on the warehouse commands, run through the real CLI.

Signal, category and band ids that are SQL (or Python) keywords, table names that are
not names, and what ``compile --dbt`` does to a dbt project that already has files.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.support import AS_OF, run_cli

#: Ids that are keywords in SQL, and ``from`` in Python too; a value that looks like SQL.
KEYWORD_RULESET = """\
name: select
version: 0.1.0
signals:
  user: {type: integer}
  order: {type: integer_list}
  from: {type: string}
  group: {type: date}
  having: {type: integer, derive: days_until, params: {date: group}}
  where: {type: number_list, derive: utilization, params: {series: order, limit: user}}
  end: {type: number, derive: latest, params: {series: where}}
scoring:
  categories:
    limit:
      weight: 1
      tiers:
        - {id: union, score: 10, when: "end >= 85% and from == \\"x'; DROP TABLE accounts; --\\""}
        - {id: null_, score: 6, when: end >= 70% or having > 20}
bands:
  - {id: "on", min: 70, max: 100, play: case, outreach: true}
  - {id: "off", min: 0, max: 70, play: hold}
triggers:
  - {id: join, upsell_type: seat, when: end >= 85%, play: case, evidence: "{end:pct}"}
plays:
  case: {title: Case, window: this week}
  hold: {title: Hold, window: next month}
"""

KEYWORD_ACCOUNTS = [
    {"account_id": "K-1", "user": 10, "order": [8, 9], "from": "x'; DROP TABLE accounts; --",
     "group": "2026-12-01"},
    {"account_id": "K-2", "user": 10, "order": [7, 7], "from": "y", "group": "2026-10-01"},
    {"account_id": "K-3\"'; --", "user": 0, "order": [], "group": "2026-12-01"},
]


def _keyword_files(tmp_path: Path) -> tuple[Path, Path]:
    ruleset = tmp_path / "select.yaml"
    ruleset.write_text(KEYWORD_RULESET, encoding="utf-8")
    data = tmp_path / "accounts.jsonl"
    data.write_text("".join(json.dumps(a) + "\n" for a in KEYWORD_ACCOUNTS), encoding="utf-8")
    return ruleset, data


def test_keyword_ids_decide_in_python_and_in_the_compiled_query(tmp_path: Path) -> None:
    ruleset, data = _keyword_files(tmp_path)
    python = run_cli("dry-run", str(ruleset), "--data", str(data), "--as-of", AS_OF,
                     "--format", "jsonl", "--engine", "python")
    assert python.returncode == 0, python.stderr
    records = {r["account_id"]: r for r in map(json.loads, python.stdout.splitlines())}
    assert records["K-1"]["score"] == 100.0 and records["K-1"]["band"] == "on"
    ddl = run_cli("compile", str(ruleset), "--ddl")
    query = run_cli("compile", str(ruleset), "--as-of", AS_OF)
    assert ddl.returncode == query.returncode == 0, ddl.stderr + query.stderr
    con = duckdb.connect()
    con.execute(ddl.stdout)
    for account in KEYWORD_ACCOUNTS:
        names = ", ".join(f'"{k}"' for k in account)
        marks = ", ".join("?" for _ in account)
        con.execute(f"INSERT INTO accounts ({names}) VALUES ({marks})", list(account.values()))
    cursor = con.execute(query.stdout)
    columns = [d[0] for d in cursor.description]
    rows = {r[0]: dict(zip(columns, r, strict=True)) for r in cursor.fetchall()}
    assert set(rows) == set(records)
    for account_id, record in records.items():
        assert (rows[account_id]["score"], rows[account_id]["band"], rows[account_id]["play"]) \
            == (record["score"], record["band"], record["action"]["play"])


def test_a_table_name_is_read_as_a_name_never_as_sql() -> None:
    for bad in ("x; DROP TABLE y", 'a"b', "it's", "", "a.b.c.d", "x /* c */"):
        for extra in ((), ("--ddl",)):
            result = run_cli("compile", "rulesets/upsell_timing.yaml", "--table", bad, *extra)
            assert result.returncode == 2, (bad, result.stderr)
            assert result.stdout == ""
            assert "Invalid value for '--table'" in result.stderr
            assert "is not a table name" in result.stderr and "Traceback" not in result.stderr
    quoted = run_cli("compile", "rulesets/upsell_timing.yaml", "--as-of", AS_OF,
                     "--dialect", "postgres", "--table", '"my table".select')
    assert quoted.returncode == 0, quoted.stderr
    assert 'FROM "my table"."select"' in quoted.stdout


def test_a_dotted_table_is_a_schema_in_the_dbt_source(tmp_path: Path) -> None:
    result = run_cli("compile", "rulesets/upsell_timing.yaml", "--dbt", str(tmp_path),
                     "--table", "analytics.crm.accounts_v1")
    assert result.returncode == 0, result.stderr
    model = (tmp_path / "models" / "upsell_timing_decisions.sql").read_text()
    assert "{{ source('upsell_rules_analytics_crm', 'accounts_v1') }}" in model
    sources = (tmp_path / "models" / "upsell_rules_sources.yml").read_text()
    assert 'database: "analytics"' in sources and 'schema: "crm"' in sources
    assert 'name: "accounts_v1"' in sources


def test_dbt_keeps_the_sources_of_other_rulesets_and_edits_by_hand(tmp_path: Path) -> None:
    first = run_cli("compile", "rulesets/upsell_timing.yaml", "--dbt", str(tmp_path))
    assert first.returncode == 0, first.stderr
    sources = tmp_path / "models" / "upsell_rules_sources.yml"
    edited = sources.read_text().replace(
        "  - name: upsell_rules\n", "  - name: upsell_rules\n    schema: raw  # ours\n")
    sources.write_text(edited)
    second = run_cli("compile", "rulesets/expansion_triggers.yaml", "--dbt", str(tmp_path),
                     "--table", "crm.accounts")
    assert second.returncode == 0, second.stderr
    merged = sources.read_text()
    assert "schema: raw  # ours" in merged
    # Both models' sources are declared: the first model still resolves.
    assert merged.count('- name: "accounts"') == 2
    assert "- name: upsell_rules_crm" in merged
    again = run_cli("compile", "rulesets/upsell_timing.yaml", "--dbt", str(tmp_path))
    assert again.returncode == 0 and sources.read_text() == merged


def test_dbt_into_a_folder_it_cannot_use_is_one_message(tmp_path: Path) -> None:
    (tmp_path / "models").write_text("a file where the models folder goes")
    result = run_cli("compile", "rulesets/upsell_timing.yaml", "--dbt", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"upsell-rules: error: --dbt {tmp_path}: ")
    broken = tmp_path / "p"
    (broken / "models").mkdir(parents=True)
    (broken / "models" / "upsell_rules_sources.yml").write_text("sources: [unclosed\n")
    result = run_cli("compile", "rulesets/upsell_timing.yaml", "--dbt", str(broken))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "upsell_rules_sources.yml: not a YAML file dbt can read" in result.stderr
    assert not (broken / "models" / "upsell_timing_decisions.sql").exists()
