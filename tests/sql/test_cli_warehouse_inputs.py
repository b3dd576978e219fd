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
