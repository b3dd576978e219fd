"""The environment variables upsell-rules reads, each with what it does.

One table: the top-level ``--help`` lists it, docs/cli.md has a row for each, and a test
checks that every ``UPSELL_RULES_*`` name the code reads is here.
"""

from __future__ import annotations

#: Variable name -> what it does (one line, as ``--help`` shows it).
ENVIRONMENT: dict[str, str] = {
    "UPSELL_RULES_PLUGINS": "plugins to load, comma-separated (as -p, --plugin)",
    "UPSELL_RULES_DISABLE_PLUGINS": "plugins to leave out, comma-separated (all: every one)",
    "UPSELL_RULES_PLUGIN_TIMEOUT": "as --plugin-timeout: seconds without progress (0: off)",
    "UPSELL_RULES_MAX_INPUT_MB": "as --max-input-mb: the largest data file, in MB",
    "UPSELL_RULES_MAX_RECORDS": "as --max-records: the most records in one file",
    "UPSELL_RULES_MAX_LINE_BYTES": "as --max-line-bytes: the longest record, in bytes",
    "UPSELL_RULES_MAX_JSON_MB": "the largest .json file (read whole), in MB",
    "UPSELL_RULES_MAX_RULESET_MB": "the largest YAML file (ruleset, test file), in MB",
    "UPSELL_RULES_STATE": "as --state: run's state store (a path or a URL)",
    "UPSELL_RULES_ALLOW_ENV": "as run --allow-env: more variables a ruleset may read",
    "UPSELL_RULES_ALLOW_RULESET_QUERY": "1: as --allow-ruleset-query",
    "UPSELL_RULES_DEBUG": "1: as --debug (the Python traceback of a failure)",
    "UPSELL_RULES_NO_PROGRESS": "1: no progress bar, even on a terminal",
    "UPSELL_RULES_QUIET_BUNDLED": "1: no note when a bundled ruleset is used by name",
    "NO_COLOR": "any value: no colour, bold or italics (no-color.org)",
}


def epilog() -> str:
    """The top-level ``--help`` epilog: every variable, one line each (click keeps the
    lines as they are after its ``\\b`` marker)."""
    width = max(len(name) for name in ENVIRONMENT)
    lines = [f"  {name.ljust(width)}  {text}" for name, text in ENVIRONMENT.items()]
    return "Environment variables (see docs/cli.md):\n\n\b\n" + "\n".join(lines)
