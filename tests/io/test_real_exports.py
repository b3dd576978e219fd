"""Exports as the tools write them (tests/io/exports/) are decided like the contract file.

Each file holds eight of the sample accounts; its decisions must equal theirs from
samples/accounts.csv, in the python engine and the default one, and whatever in the
file is not an account is a located failure, never a decided account.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = Path(__file__).resolve().parent / "exports"
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
AS_OF = "2026-11-02"
ACCOUNTS = ["ACC-1001", "ACC-1002", "ACC-1009", "ACC-1014", "ACC-1029", "ACC-1033", "ACC-1042",
            "ACC-1050"]


def _ruleset(tmp_path: Path, options: str) -> Path:
    """The bundled ruleset with ``options`` under ``sources: csv:``."""
    block = "".join(f"    {line}\n" for line in options.splitlines())
    text = RULESET.read_text(encoding="utf-8").replace("sources:\n", f"sources:\n  csv:\n{block}", 1)
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(ruleset: Path, data: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["dry-run", str(ruleset), "--data", str(data), "--as-of",
                                      AS_OF, "--format", "json", *extra])
    return result.exit_code, result.stdout, result.stderr


def _decisions(stdout: str) -> list[dict[str, object]]:
    decisions = json.loads(stdout)
    for decision in decisions:
        decision.pop("ruleset")
    return sorted(decisions, key=lambda d: str(d["account_id"]))


@pytest.fixture(scope="module")
def expected() -> list[dict[str, object]]:
    code, stdout, stderr = _run(RULESET, ROOT / "samples" / "accounts.csv")
    assert code == 0, stderr
    return [d for d in _decisions(stdout) if d["account_id"] in ACCOUNTS]


@pytest.mark.parametrize("engine", ["python", "auto", "duckdb"])
def test_a_salesforce_report_footer_is_failed_not_decided(
    tmp_path: Path, expected: list[dict[str, object]], engine: str
) -> None:
    """Salesforce's footer lines ('Confidential Information...') are not accounts."""
    data = EXPORTS / "salesforce_report_footer.csv"
    code, stdout, stderr = _run(_ruleset(tmp_path, "preset: salesforce_accounts"), data,
                                "--engine", engine, "--strict")
    assert code == 1, stderr
    assert _decisions(stdout) == expected
    failures = [line for line in stderr.splitlines() if "error:" in line]
    lines = [f"{data}:{n}: row has 1 cell, the header has 30: not an account row"
             for n in (12, 14, 17, 18)]  # the blank lines between them are skipped
    assert [f.split("error: ")[1][: len(lines[0])] for f in failures] == lines
    assert "read 12, decided 8, failed 4" in stderr


@pytest.mark.parametrize("engine", ["python", "auto", "duckdb"])
def test_excel_french_csv_is_decided_like_the_contract_file(
    tmp_path: Path, expected: list[dict[str, object]], engine: str
) -> None:
    """';' cells, DD/MM/YYYY dates (in lists too), no-break-space thousands, 0,12."""
    ruleset = _ruleset(tmp_path, 'delimiter: ";"\ndate_order: DMY\nnumber_format: "1 234,56"')
    code, stdout, stderr = _run(ruleset, EXPORTS / "excel_fr_semicolon.csv",
                                "--engine", engine, "--strict")
    assert code == 0, stderr
    assert "warning" not in stderr
    assert _decisions(stdout) == expected


def test_a_utf16_export_is_named_as_such(tmp_path: Path) -> None:
    data = EXPORTS / "excel_unicode_text.csv"
    code, _stdout, stderr = _run(RULESET, data)
    assert code == 2
    assert f'{data}:1: this is UTF-16 text (Excel\'s "Unicode Text" writes it), not UTF-8: ' \
        "declare it with --encoding utf-16" in stderr
    assert "or save it as CSV UTF-8" in stderr


@pytest.mark.parametrize("engine", ["python", "auto", "duckdb"])
def test_a_totals_row_is_failed_not_decided(
    expected: list[dict[str, object]], engine: str
) -> None:
    """A spreadsheet's SUM row, its id cell 'Total', is not an account."""
    data = EXPORTS / "sheets_totals_row.csv"
    code, stdout, stderr = _run(RULESET, data, "--engine", engine)
    assert code == 1, stderr
    assert _decisions(stdout) == expected
    assert f"{data}:10: account_id 'Total' is a report's totals row, not an account" in stderr
    assert "read 9, decided 8, failed 1" in stderr
