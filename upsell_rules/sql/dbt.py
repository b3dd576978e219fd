"""A dbt model of a compiled ruleset: the model SQL, its tests and its source.

``write_dbt(directory, ...)`` writes, under ``directory``::

    models/<ruleset>_decisions.sql      the compiled query reading {{ source(...) }}
    models/<ruleset>_decisions.yml      column tests: unique/not_null account_id,
                                        band in the ruleset's bands; what owner,
                                        action_owner and the id lists hold
    models/upsell_rules_sources.yml     the accounts table of the data contract (merged
                                        into the file a previous run left)
    tests/<ruleset>_decisions_score_range.sql
                                        a singular test: no score outside 0..100

The evaluation date is the dbt variable ``upsell_rules_as_of`` (default: the day the run
started), so the model decides as of each run without compiling again.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ruamel.yaml import YAML

from upsell_rules.io.contract import CONTRACT_V1
from upsell_rules.io.inside import outside_through_link
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.sql.dialects import check_dialect
from upsell_rules.sql.query import build_query, category_column
from upsell_rules.sql.tables import TableName, parse_table_name
from upsell_rules.sql.values import lit

#: The as-of date the model is compiled with, then replaced by the dbt variable.
_SENTINEL = date(9999, 12, 31)
_AS_OF = "{{ var('upsell_rules_as_of', run_started_at.strftime('%Y-%m-%d')) }}"
_TABLE = "upsell_rules_source_table"
SOURCE = "upsell_rules"
#: What every ``{`` of ruleset text becomes: dbt renders model files and property files
#: as Jinja, so a ruleset string such as ``{{ env_var('SECRET') }}`` would otherwise run.
_BRACE = '{{ "{" }}'


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


def _jinja(text: str) -> str:
    """``text`` as a Jinja string literal."""
    return f"'{text}'" if not set(text) & {"'", "\\"} else json.dumps(text)


def jinja_inert(text: str) -> str:
    """``text`` with every ``{`` written so that Jinja prints it and opens nothing."""
    return text.replace("{", _BRACE)


def model_sql(ruleset: Ruleset, registry: Registry, dialect: str, table: str) -> str:
    """The model's SQL: the compiled query on ``{{ source(...) }}``, as of a variable."""
    name = parse_table_name(table)
    query = build_query(ruleset, registry, check_dialect(dialect), _SENTINEL, _TABLE)
    text = jinja_inert(query.sql(dialect=dialect, pretty=True))
    sentinel = lit(_SENTINEL).args["this"].sql(dialect=dialect)
    text = text.replace(sentinel, f"'{_AS_OF}'")
    source = f"{{{{ source({_jinja(source_name(name))}, {_jinja(name.name)}) }}}}"
    return text.replace(_TABLE, source) + "\n"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def schema_yml(ruleset: Ruleset, model: str) -> str:
    """The model's properties: description and column tests."""
    bands = ", ".join(_q(b.id) for b in ruleset.bands)
    described = jinja_inert(f"Decisions of ruleset {ruleset.name} {ruleset.version}, one "
                            "row per account (compiled by upsell-rules).")
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


def source_name(table: TableName) -> str:
    """The dbt source holding ``table``: one per schema named in ``--table``."""
    where = [part for part in (table.database, table.schema) if part]
    if not where:
        return SOURCE
    return SOURCE + "_" + re.sub(r"[^a-z0-9]+", "_", "_".join(where).lower()).strip("_")


def _quoting(table: TableName, indent: str, parts: dict[str, int]) -> list[str]:
    """dbt's ``quoting:`` for the parts --table quoted (dbt's defaults for the others)."""
    flags = [f"{key}: true" for key, index in parts.items()
             if index < len(table.parts) and table.quoted(len(table.parts) - 1 - index)]
    return [f"{indent}quoting: {{{', '.join(flags)}}}"] if flags else []


def _table_lines(table: TableName) -> list[str]:
    """The source table entry: the contract's columns described."""
    lines = [f"      - name: {_q(table.name)}",
             *_quoting(table, "        ", {"identifier": 0}),
             "        columns:"]
    for spec in CONTRACT_V1:
        lines += [f"          - name: {spec.name}",
                  f"            description: {_q(spec.description)}"]
        if spec.name == "account_id":
            lines.append("            data_tests: [unique, not_null]")
    return lines


def _source_lines(table: TableName) -> list[str]:
    lines = [f"  - name: {source_name(table)}",
             "    description: \"Accounts in the upsell-rules data contract v1 (docs/data.md).\""]
    if table.database:
        lines.append(f"    database: {_q(table.database)}")
    if table.schema:
        lines.append(f"    schema: {_q(table.schema)}")
    lines += _quoting(table, "    ", {"schema": 1, "database": 2})
    return [*lines, "    tables:", *_table_lines(table)]


def sources_yml(table: TableName, existing: str | None = None) -> str:
    """The source definition of the contract's accounts table.

    ``existing``: the file as a previous ``compile --dbt`` (or the user) left it. Its
    sources and tables are kept as they are, edits included; the table is added to its
    source (or the source to the file) when missing.
    """
    if existing is None:
        return "\n".join(["version: 2", "sources:", *_source_lines(table)]) + "\n"
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout written above
    yaml.width = 1 << 16
    yaml.preserve_quotes = True
    document = yaml.load(existing)
    sources = document.setdefault("sources", []) if isinstance(document, dict) else None
    if not isinstance(sources, list):
        raise ValueError("it is not a dbt properties file with a sources: list")
    wanted = source_name(table)
    found = [s for s in sources if isinstance(s, dict) and s.get("name") == wanted]
    if not found:
        sources.extend(yaml.load("\n".join(_source_lines(table))))
    elif not any(isinstance(t, dict) and t.get("name") == table.name
                 for t in found[0].get("tables") or []):
        entry = yaml.load("\n".join(line[6:] for line in _table_lines(table)))
        found[0].setdefault("tables", []).extend(entry)
    else:
        return existing
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def score_test(model: str) -> str:
    """A singular test: rows whose score is outside 0..100 (none expected)."""
    return (
        f"-- Every account's score is between 0 and 100 (upsell-rules compile --dbt).\n"
        f"select account_id, score\nfrom {{{{ ref('{model}') }}}}\n"
        f"where score < 0 or score > 100\n"
    )


def _merged_sources(path: Path, table: TableName) -> str:
    existing = path.read_text(encoding="utf-8") if path.is_file() else None
    try:
        return sources_yml(table, existing)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    except Exception as exc:  # ruamel's parse errors have no common base but Exception
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{path}: not a YAML file dbt can read ({reason})") from None


def write_dbt(directory: str | Path, ruleset: Ruleset, registry: Registry, dialect: str,
              table: str = "accounts") -> DbtFiles:
    """Write the dbt model, its tests and its source under ``directory``.

    Everything is computed before the first file is written, and nothing is written (or
    read) when a symbolic link would lead a file out of ``directory``. The model, its properties
    and its test are overwritten; the sources file is merged (:func:`sources_yml`), so
    several rulesets share it and a source edited by hand keeps its edits. Raises
    ``ValueError`` for a --table that is not a name or a sources file that is not one.
    """
    root = Path(directory)
    model = f"{ruleset.name}_decisions"
    files = DbtFiles(
        model=f"models/{model}.sql",
        schema=f"models/{model}.yml",
        sources=f"models/{SOURCE}_sources.yml",
        test=f"tests/{model}_score_range.sql",
    )
    refused = outside_through_link(root, files.all())
    if refused is not None:
        raise ValueError(refused)
    contents = {
        files.model: model_sql(ruleset, registry, dialect, table),
        files.schema: schema_yml(ruleset, model),
        files.sources: _merged_sources(root / files.sources, parse_table_name(table)),
        files.test: score_test(model),
    }
    for name in files.all():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(contents[name], encoding="utf-8")
    return files
