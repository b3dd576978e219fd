"""One word for "a step to prepare before outreach": ``prep``, in the queue, the CSV, diff,
the report and the docs, always with what to prepare and the rule that asked for it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support import AS_OF, ROOT, run_cli

ACCOUNTS = str(ROOT / "samples" / "accounts.csv")


def test_no_other_word_for_prep_in_the_product_or_its_docs() -> None:
    places = [*sorted((ROOT / "upsell_rules").rglob("*.py")), *sorted((ROOT / "docs").glob("*.md")),
              ROOT / "README.md", *sorted((ROOT / "rulesets").glob("*.yaml"))]
    found = [f"{p.relative_to(ROOT)}:{n}" for p in places
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"prep first", line, re.I)]
    assert found == []


def test_diff_uses_the_queues_status_words(tmp_path: Path) -> None:
    result = run_cli("diff", "upsell_timing", "--data", ACCOUNTS, "--as-of", AS_OF,
                     "--as-of-new", "2026-12-02", "--format", "json", "--all", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    statuses = {change[side]["status"] for change in report["changed"] + report["moved"]
                for side in ("before", "after")}
    assert statuses <= {"ready", "prep", "blocked", "-"}
    assert "prep" in statuses
    text = run_cli("diff", "upsell_timing", "--data", ACCOUNTS, "--as-of", AS_OF,
                   "--as-of-new", "2026-12-02", "--all", cwd=tmp_path).stdout
    assert ", prep" in text and ", -" not in text


def test_report_names_what_to_prepare_and_which_rule_asked(tmp_path: Path) -> None:
    result = run_cli("report", "upsell_timing", "--data", ACCOUNTS, "--as-of", AS_OF,
                     "-o", "r.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert ">prep</span> warm_up_touchpoint (gate champion_recent)" in page
    assert "<th>prep</th>" in page or ">prep<" in page
