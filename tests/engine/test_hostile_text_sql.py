"""Every text a ruleset puts into DuckDB's SQL comes out as the Python engine writes it.

The columnar path writes each record's JSON line in SQL (``engine/record_sql.py``): band
titles, play titles, windows, owner roles, messages and evidence, derivation parameters,
constants and list items all become SQL string literals there. Quotes, backslashes,
``$$``, comments, Unicode quotes and doubled double quotes stay text, in the record
lines and in every other format, and in data values too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sql.test_compile_hostile import HOSTILE as COMPILE_HOSTILE
from tests.support import AS_OF, run_cli

#: The ruleset ``compile`` is tested with (tests/sql/test_compile_hostile.py), with more
#: hostile text in every place the record-writing SQL puts ruleset text.
HOSTILE = (
    COMPILE_HOSTILE
    .replace("constants:\n", "constants:\n" + r"""  dollar: "$$; COPY (SELECT 1) TO '/tmp/x.csv'; $$"
  cmt: "/* x */ -- y\n' || (SELECT 1) || '"
  uq: "\u2018\u2019\u201c\u201d\uff07 '\u02bc"
  dq: "\"x\"\"; DROP"
""", 1)
    .replace("signals:\n", "signals:\n" + r"""  note: {type: string, derive: text_if, params: {condition: is_evil, then: "n'ote\\ $$ --", otherwise: "o/*th*/er"}}
""", 1)
    .replace("or plan == '{# x'", "or plan == '{# x' or plan == dollar or plan == cmt or plan == uq "
             "or plan == dq or plan in [\"l'ist\", \"b\\\\s\", \"$$\"]", 1)
    .replace('title: "A"',
             'title: "A\'ct \\\\ $$ -- /* now"', 1)
    .replace('title: "W"',
             'title: "W\'ait\\u2019 \\"q\\""', 1)
    .replace('evidence: "e"',
             'evidence: "e\' -- {plan} /* {note} */ $$ {evil} \\\\ {uq}"', 1)
    .replace('{title: "t", window: now, owner: o, message: "m"}',
             '{title: "t\'i\\\\tle $$ -- /*", window: "n\'ow -- $$ \\\\", owner: o, message: "m\' {plan} -- {evil} {dollar} {cmt} */ \\\\ {dq}"}', 1)
)

PLANS = ["a'); DROP TABLE accounts; --", "c\\'; DROP TABLE x; --",
         "$$; COPY (SELECT 1) TO '/tmp/qh/pwned.csv'; $$", "/* x */ -- y\n' || (SELECT 1) || '",
         "\u2018\u2019\u201c\u201d\uff07 '\u02bc", '"x"""; DROP', "{# x", "l'ist", "b\\s",
         "$$", "plain"]


def _files(tmp_path: Path) -> tuple[Path, Path]:
    ruleset = tmp_path / "hostile.yaml"
    ruleset.write_text(HOSTILE.lstrip("\n"), encoding="utf-8")
    data = tmp_path / "accounts.jsonl"
    with data.open("w", encoding="utf-8") as handle:
        for number, plan in enumerate(PLANS):
            record = {"account_id": f"A{number}'--", "account_name": f"n'{number}$$ /*",
                      "owner": "o'\\", "plan": plan,
                      "tickets": ["P1'", "P2\\", "$$"][: number % 4]}
            handle.write(json.dumps(record) + "\n")
    return ruleset, data


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_hostile_ruleset_text_is_decided_alike(tmp_path: Path, fmt: str) -> None:
    ruleset, data = _files(tmp_path)
    outputs = []
    for engine in ("python", "duckdb"):
        result = run_cli("dry-run", str(ruleset), "--data", str(data), "--as-of", AS_OF,
                         "--engine", engine, "--format", fmt)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    if fmt == "jsonl":
        first = json.loads(outputs[1].splitlines()[0])
        assert first["action"]["window"] == "n'ow -- $$ \\"
        assert first["triggers"][0]["evidence"].startswith("e' -- a'); DROP TABLE accounts;")


def test_the_record_lines_are_written_by_duckdb(tmp_path: Path) -> None:
    """The comparison above goes through the SQL that writes the records."""
    from tests.engine.test_columnar import REGISTRY, _reader
    from upsell_rules.engine import columnar
    from upsell_rules.engine.evaluate import Evaluator
    from upsell_rules.ruleset.loader import load_ruleset

    ruleset, data = _files(tmp_path)
    rules = load_ruleset(str(ruleset), REGISTRY)
    as_of = columnar.date.fromisoformat(AS_OF)
    plan = columnar.plan_columnar(Evaluator(rules, REGISTRY, "duckdb"), _reader(rules, as_of),
                                  [str(data)], as_of, encoded=True)
    assert plan is not None and plan.lines is not None
    assert "DROP TABLE accounts" in plan.lines
    if plan.checking is not None:
        plan.checking.cancel()
