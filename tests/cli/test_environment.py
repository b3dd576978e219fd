"""Every environment variable the code reads is listed in --help and documented."""

from __future__ import annotations

import re

from tests.support import ROOT, run_cli
from upsell_rules.cli.environment import ENVIRONMENT

#: A variable name the code reads: a quoted UPSELL_RULES_* string literal.
READ = re.compile(r"""["'](UPSELL_RULES_[A-Z_]*[A-Z])["']""")


def _read_by_the_code() -> set[str]:
    found: set[str] = set()
    for folder in ("upsell_rules", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(READ.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_variable_the_code_reads_is_in_the_table() -> None:
    read = _read_by_the_code()
    assert "UPSELL_RULES_NO_PROGRESS" in read and "UPSELL_RULES_STATE" in read  # the scan works
    assert read <= set(ENVIRONMENT), sorted(read - set(ENVIRONMENT))
    assert set(ENVIRONMENT) - read == {"NO_COLOR"}  # nothing listed that nothing reads


def test_the_top_level_help_lists_every_variable() -> None:
    result = run_cli("--help", env={"COLUMNS": "100"})
    assert result.returncode == 0
    epilog = result.stdout.split("Environment variables", 1)[1]
    for name, text in ENVIRONMENT.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(text)}$", epilog, re.M), name


def test_docs_cli_has_a_row_for_every_variable() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = page.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", section, re.M))
    assert rows == set(ENVIRONMENT)
