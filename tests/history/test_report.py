"""The HTML report: self-contained, every data value escaped, and it renders in a real
browser (headless Chromium) without console errors.

The browser tests skip only when no Chromium binary is installed (CI installs Debian's
``chromium`` package; see .ci/run).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULESET = ROOT / "rulesets" / "upsell_timing.yaml"
ACCOUNTS = ROOT / "samples" / "accounts.csv"
HISTORY = ROOT / "samples" / "history"
AS_OF = "2026-11-02"
HOSTILE_NAME = '<script>alert("owned")</script> & Co'
HOSTILE_OWNER = "<b>Mallory</b>"
HOSTILE_PLAN = '"><img src=x onerror=alert(1)>'

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
                 if (found := shutil.which(name))), None)
#: CI installs Chromium (.ci/run) and sets this: there a missing browser is a failure.
REQUIRE_CHROMIUM = os.environ.get("UPSELL_RULES_REQUIRE_CHROMIUM") == "1"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not REQUIRE_CHROMIUM,
    reason="no Chromium binary on PATH (apt-get install chromium); the report's browser "
    "test cannot run",
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "upsell_rules", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def hostile_accounts(target: Path) -> Path:
    """The sample accounts, with the first account's name, owner and plan made hostile."""
    with ACCOUNTS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
        fields = list(rows[0])
    rows[0].update(account_name=HOSTILE_NAME, owner=HOSTILE_OWNER, plan=HOSTILE_PLAN)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return target


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    data = hostile_accounts(folder / "accounts.csv")
    out = folder / "report.html"
    done = run_cli("report", str(RULESET), "--data", str(data), "--as-of", AS_OF,
                   "--backtest-snapshots", str(HISTORY / "snapshots.csv"),
                   "--backtest-outcomes", str(HISTORY / "outcomes.csv"), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert f"report written to {out}" in done.stderr
    return out


def test_every_value_from_the_data_is_escaped(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "<b>Mallory" not in page
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; Co" in page
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_page_is_self_contained(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    for pattern in (r"<script", r"<link", r"<iframe", r"\bsrc\s*=\s*[\"']", r"\bhref\s*=",
                    r"url\(", r"@import", r"https?://"):
        assert not re.search(pattern, page, re.IGNORECASE), pattern
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_the_page_has_every_section(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    for section in ("bands", "scores", "queue", "held-back", "breakdown", "backtest"):
        assert f'<section id="{section}">' in page, section
    assert page.count("<svg") >= 6
    assert "Act now queue (" in page and "Win rate by upsell type" in page
    # The queue carries narratives built from the accounts' own numbers.
    assert "Your team went from 19 to 23 active users" in page


def test_report_without_a_backtest_and_usage_errors(tmp_path: Path) -> None:
    out = tmp_path / "plain.html"
    done = run_cli("report", str(RULESET), "--data", str(ACCOUNTS), "--as-of", AS_OF,
                   "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert 'id="backtest"' not in out.read_text()
    done = run_cli("report", str(RULESET), "--data", str(ACCOUNTS), "--as-of", AS_OF,
                   "-o", str(out), "--backtest-snapshots", str(HISTORY / "snapshots.csv"))
    assert done.returncode == 2 and "go together" in done.stderr


def test_bad_rows_are_reported_and_the_report_still_written(tmp_path: Path) -> None:
    out = tmp_path / "bad.html"
    done = run_cli("report", str(RULESET), "--data", str(ROOT / "samples" / "bad_accounts.csv"),
                   "--as-of", AS_OF, "-o", str(out))
    assert done.returncode == 1
    assert "bad_accounts.csv:4: health_score: 'abc' is not a number" in done.stderr
    assert out.exists()


# --- in a real browser ----------------------------------------------------------------


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args],
            capture_output=True, text=True, timeout=180,
        )


def console_messages(stderr: str) -> list[str]:
    """Lines Chromium logs for the page's console (errors, warnings, uncaught exceptions)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def png_facts(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values in the decoded pixel rows."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        length = struct.unpack(">I", data[offset:offset + 4])[0]
        kind = data[offset + 4:offset + 8]
        if kind == b"IDAT":
            chunks.append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return width, height, len(set(pixels))


@needs_chromium
def test_console_errors_are_seen_by_this_harness(tmp_path: Path) -> None:
    """The control for the test below: a page that does log an error is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>console.error('boom');nope();</script>")
    done = chromium("--dump-dom", page.as_uri())
    messages = console_messages(done.stderr)
    assert any("boom" in m for m in messages) and any("nope" in m for m in messages)


@needs_chromium
def test_the_report_renders_in_chromium_without_console_errors(report: Path) -> None:
    done = chromium("--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert console_messages(done.stderr) == []
    dom = done.stdout
    assert "Upsell timing report" in dom and 'id="backtest"' in dom
    assert "<script" not in dom.lower()  # the hostile name stayed text
    assert "&lt;script&gt;alert" in dom


@needs_chromium
def test_the_report_screenshot_is_a_real_picture(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = chromium(f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert console_messages(done.stderr) == []
    assert shot.exists() and shot.stat().st_size > 30_000
    width, height, distinct = png_facts(shot)
    assert (width, height) == (1280, 2000)
    assert distinct > 100, "the screenshot is (nearly) one colour"
