"""A dbt model of a compiled ruleset: the model SQL, its tests and its source.

``write_dbt(directory, ...)`` writes, under ``directory``::

    models/<ruleset>_decisions.sql      the compiled query reading {{ source(...) }}
    models/<ruleset>_decisions.yml      column tests: unique/not_null account_id,
                                        band in the ruleset's bands; what owner,
                                        action_owner and the id lists hold
    models/upsell_rules_sources.yml     the accounts table of the data contract
    tests/<ruleset>_decisions_score_range.sql
                                        a singular test: no score outside 0..100

The evaluation date is the dbt variable ``upsell_rules_as_of`` (default: the day the run
started), so the model decides as of each run without compiling again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from upsell_rules.io.contract import CONTRACT_V1
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.sql.dialects import check_dialect
from upsell_rules.sql.query import build_query, category_column
from upsell_rules.sql.values import lit

#: The as-of date the model is compiled with, then replaced by the dbt variable.
_SENTINEL = date(9999, 12, 31)
_AS_OF = "{{ var('upsell_rules_as_of', run_started_at.strftime('%Y-%m-%d')) }}"
_TABLE = "upsell_rules_source_table"
SOURCE = "upsell_rules"


@dataclass(frozen=True)
class DbtFiles:
    """The files written, relative to the dbt project directory."""

    model: str
    schema: str
    sources: str
    test: str

    def all(self) -> list[str]:
        """Every file, in the order written."""
        return [self.model, self.schema, self.sources, self.test]


def model_sql(ruleset: Ruleset, registry: Registry, dialect: str, table: str) -> str:
    """The model's SQL: the compiled query on ``{{ source(...) }}``, as of a variable."""
    query = build_query(ruleset, registry, check_dialect(dialect), _SENTINEL, _TABLE)
    text = query.sql(dialect=dialect, pretty=True)
    sentinel = lit(_SENTINEL).args["this"].sql(dialect=dialect)
    text = text.replace(sentinel, f"'{_AS_OF}'")
    return text.replace(_TABLE, f"{{{{ source('{SOURCE}', '{table}') }}}}") + "\n"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def schema_yml(ruleset: Ruleset, model: str) -> str:
    """The model's properties: description and column tests."""
    bands = ", ".join(_q(b.id) for b in ruleset.bands)
    described = (f"Decisions of ruleset {ruleset.name} {ruleset.version}, one row per "
                 "account (compiled by upsell-rules).")
    lines = [
        "version: 2",
        "models:",
        f"  - name: {model}",
        f"    description: {_q(described)}",
        "    columns:",
        "      - name: account_id",
        "        data_tests: [unique, not_null]",
        "      - name: score",
        "        description: \"Timing score 0-100 after caps (tests/: score_range).\"",
        "        data_tests: [not_null]",
        "      - name: band",
        "        data_tests:",
        "          - not_null",
        f"          - accepted_values: {{values: [{bands}]}}",
        "      - name: blocked",
        "        data_tests: [not_null]",
        "      - name: owner",
        "        description: \"The account's owner (the person), from the accounts table; "
        "blank when absent.\"",
        "      - name: play",
        "        data_tests: [not_null]",
        "      - name: action_owner",
        "        description: \"The play's owner role (the ruleset's owner rules).\"",
        "        data_tests: [not_null]",
        "      - name: triggers",
        "        description: \"Fired trigger ids in ruleset order, a|b|c; NULL when none "
        "(upsell_types, failed_gates, red_flags alike).\"",
    ]
    for category in ruleset.categories:
        lines += [f"      - name: {category_column(category.name)}",
                  "        data_tests: [not_null]"]
    return "\n".join(lines) + "\n"


def sources_yml(table: str) -> str:
    """The source definition of the contract's accounts table."""
    lines = [
        "version: 2",
        "sources:",
        f"  - name: {SOURCE}",
        "    description: \"Accounts in the upsell-rules data contract v1 (docs/data.md).\"",
        "    tables:",
        f"      - name: {table}",
        "        columns:",
    ]
    for spec in CONTRACT_V1:
        lines += [f"          - name: {spec.name}",
                  f"            description: {_q(spec.description)}"]
        if spec.name == "account_id":
            lines.append("            data_tests: [unique, not_null]")
    return "\n".join(lines) + "\n"


def score_test(model: str) -> str:
    """A singular test: rows whose score is outside 0..100 (none expected)."""
    return (
        f"-- Every account's score is between 0 and 100 (upsell-rules compile --dbt).\n"
        f"select account_id, score\nfrom {{{{ ref('{model}') }}}}\n"
        f"where score < 0 or score > 100\n"
    )


def write_dbt(directory: str | Path, ruleset: Ruleset, registry: Registry, dialect: str,
              table: str = "accounts") -> DbtFiles:
    """Write the dbt model, its tests and its source under ``directory``."""
    root = Path(directory)
    model = f"{ruleset.name}_decisions"
    files = DbtFiles(
        model=f"models/{model}.sql",
        schema=f"models/{model}.yml",
        sources=f"models/{SOURCE}_sources.yml",
        test=f"tests/{model}_score_range.sql",
    )
    contents = {
        files.model: model_sql(ruleset, registry, dialect, table),
        files.schema: schema_yml(ruleset, model),
        files.sources: sources_yml(table),
        files.test: score_test(model),
    }
    for name in files.all():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(contents[name], encoding="utf-8")
    return files
