"""A password in a ``--data`` database URL reaches no output, report or state store.

The URL is the operator's, but what is printed from it goes to pull requests (``diff
--format markdown``), HTML reports mailed around and a state database others read.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from tests.support import AS_OF, ROOT, run_cli

SECRET = "S3cretPW"


def _database(tmp_path: Path) -> str:
    """The sample accounts in an SQLite file, as a URL with a password in its query."""
    with (ROOT / "samples" / "accounts.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    path = tmp_path / "acc.db"
    con = sqlite3.connect(path)
    columns = ", ".join(f'"{c}"' for c in rows[0])
    con.execute(f"CREATE TABLE accounts ({columns})")
    con.executemany(f"INSERT INTO accounts VALUES ({', '.join('?' * len(rows[0]))})", rows[1:])
    con.commit()
    con.close()
    return f"sqlite:///{path}?table=accounts&password={SECRET}"


def _stored(path: Path) -> str:
    """Every value of every table of an SQLite file, as text."""
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    text = " ".join(str(row) for t in tables for row in con.execute(f'SELECT * FROM "{t}"'))
    con.close()
    return text


def test_diff_in_every_format_hides_the_password(tmp_path: Path) -> None:
    url = _database(tmp_path)
    for form in ("text", "markdown", "json"):
        result = run_cli("diff", "upsell_timing", "expansion_triggers", "--data", url,
                         "--as-of", AS_OF, "--format", form)
        assert result.returncode in (0, 1), result.stderr
        assert "acc.db" in result.stdout
        assert SECRET not in result.stdout + result.stderr, form


def test_joined_inputs_summary_hides_the_password(tmp_path: Path) -> None:
    url = _database(tmp_path)
    csv_file = str(ROOT / "samples" / "accounts.csv")
    result = run_cli("dry-run", "upsell_timing", "--data", url, "--data", csv_file,
                     "--as-of", AS_OF, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "acc.db" in result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_report_and_state_store_hide_the_password(tmp_path: Path) -> None:
    url = _database(tmp_path)
    report = tmp_path / "report.html"
    result = run_cli("report", "upsell_timing", "--data", url, "--as-of", AS_OF,
                     "--output", str(report))
    assert result.returncode == 0, result.stderr
    assert "acc.db" in report.read_text(encoding="utf-8")
    assert SECRET not in report.read_text(encoding="utf-8") + result.stderr
    state = tmp_path / "state.db"
    result = run_cli("run", "upsell_timing", "--data", url, "--as-of", AS_OF,
                     "--sink", f"file:{tmp_path / 'out.jsonl'}", "--state", str(state))
    assert result.returncode == 0, result.stderr
    assert "acc.db" in _stored(state)
    assert SECRET not in _stored(state) + result.stdout + result.stderr
