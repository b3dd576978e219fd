"""``upsell-rules schema``: print the JSON Schema of ruleset files (or of test files)."""

from __future__ import annotations

import json

import click

from upsell_rules.ruleset.schema import ruleset_schema, tests_schema


@click.command("schema")
@click.option(
    "--tests",
    is_flag=True,
    help="Print the schema of ruleset test files (*.tests.yaml) instead.",
)
def schema_command(tests: bool) -> None:
    """Print the JSON Schema (draft 2020-12) of ruleset files.

    Editors use it to complete and check rules as you type: save it next to your rulesets
    and start each file with a comment naming it, e.g.
    "# yaml-language-server: $schema=../schema/ruleset.schema.json" (VS Code with the YAML
    extension, and other editors using yaml-language-server, read that line).
    """
    schema = tests_schema() if tests else ruleset_schema()
    click.echo(json.dumps(schema, indent=2, ensure_ascii=False))
