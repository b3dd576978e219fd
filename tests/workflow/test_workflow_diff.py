"""``upsell-rules diff``: exactly the accounts that move, each with the rule behind it.

The expected accounts are computed independently, from two ``dry-run --format json``
outputs (before and after the edit), never from the diff's own code.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.workflow.support import AS_OF, copy_project, decisions, edit, run

RULESET = "rulesets/upsell_timing.yaml"


def moved(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> set[str]:
    return {k for k in before
            if (before[k]["band"], before[k]["blocked"]) != (after[k]["band"], after[k]["blocked"])}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    project = copy_project(tmp_path)
    shutil.copy(project / RULESET, project / "rulesets/old.yaml")
    edit(project / RULESET, "  health_ready: 75 ", "  health_ready: 80 ")
    return project


def test_diff_lists_exactly_the_accounts_that_move(project: Path) -> None:
    before = decisions("rulesets/old.yaml", project)
    after = decisions(RULESET, project)
    expected = moved(before, after)
    assert expected, "the edit should move some sample account"
    result = run("diff", "rulesets/old.yaml", RULESET, "--data", "samples/accounts.csv",
                 "--as-of", AS_OF, "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {c["account_id"] for c in report["changed"]} == expected
    assert report["changed_band"] == sum(
        1 for k in expected if before[k]["band"] != after[k]["band"])
    for change in report["changed"]:
        key = change["account_id"]
        assert change["before"]["band"] == before[key]["band"]
        assert change["after"]["band"] == after[key]["band"]
        assert change["after"]["score"] == after[key]["score"]
        assert change["reasons"], key
    # The transition matrix counts every account once, from its old band to its new one.
    for old_band, row in report["transitions"].items():
        for new_band, count in row.items():
            assert count == sum(1 for k in before if before[k]["band"] == old_band
                                and after[k]["band"] == new_band)
    assert report["ruleset_changes"] == [{"path": "constants.health_ready", "before": 75,
                                          "after": 80,
                                          "text": "constants.health_ready: 75 -> 80"}]


def test_diff_names_the_rule_and_the_constant(project: Path) -> None:
    result = run("diff", "rulesets/old.yaml", RULESET, "--data", "samples/accounts.csv",
                 "--as-of", AS_OF, cwd=project)
    assert result.returncode == 0
    out = result.stdout
    assert "Ruleset changes:\n  constants.health_ready: 75 -> 80\n" in out
    assert "Band transitions (rows: before, columns: after):" in out
    block = out.split("\nACC-1016  Greyfield Architects\n", 1)[1].split("\n\n", 1)[0]
    assert "monitor 38 -> wait 27.5" in block  # no status: nothing to start in either band
    assert ("- relationship: milestone_good_health_recent_champion (8) -> "
            "milestone_marginal_health (5)") in block
    assert "because constants.health_ready: 75 -> 80" in block
    assert "- gate health_marginal: passed -> failed" in block


def test_markdown_for_a_pull_request(project: Path) -> None:
    result = run("diff", "rulesets/old.yaml", RULESET, "--data", "samples/accounts.csv",
                 "--as-of", AS_OF, "--format", "markdown", cwd=project)
    assert result.returncode == 0
    out = result.stdout
    assert out.startswith("### Ruleset diff: `rulesets/old.yaml` → `rulesets/upsell_timing.yaml`")
    assert "| before \\ after | act_now | warming | monitor | wait | total |" in out
    assert "| account | before | after | what changed | why |" in out
    assert "| ACC-1016 Greyfield Architects | monitor 38 | wait 27.5 |" in out


def test_diff_against_a_git_revision(project: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (project / "rulesets/old.yaml").unlink()
    # Commit the original ruleset, then edit the working copy.
    edit(project / RULESET, "  health_ready: 80 ", "  health_ready: 75 ")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "."], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "start"], cwd=project, check=True)
    edit(project / RULESET, "  health_floor: 65 ", "  health_floor: 70 ")
    before = decisions(RULESET, project, "--set", "constants.health_floor=65")
    after = decisions(RULESET, project)
    result = run("diff", "--git", "HEAD", RULESET, "--data", "samples/accounts.csv",
                 "--as-of", AS_OF, "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["old"]["label"] == f"{RULESET} at HEAD"
    assert {c["account_id"] for c in report["changed"]} == moved(before, after)
    bad = run("diff", "--git", "no-such-rev", RULESET, "--data", "samples/accounts.csv",
              cwd=project)
    assert bad.returncode == 2 and "--git no-such-rev: cannot read" in bad.stderr
    two = run("diff", "--git", "HEAD", RULESET, RULESET, "--data", "samples/accounts.csv",
              cwd=project)
    assert two.returncode == 2 and "with --git give one RULESET" in two.stderr


def test_what_if_diff_with_set(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    before = decisions(RULESET, project)
    after = decisions(RULESET, project, "--set", "bands.act_now.min=65")
    result = run("diff", RULESET, "--data", "samples/accounts.csv", "--as-of", AS_OF,
                 "--set", "bands.act_now.min=65", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {c["account_id"] for c in report["changed"]} == moved(before, after)
    assert [c["text"] for c in report["ruleset_changes"]] == [
        "bands.act_now.min: 70 -> 65", "bands.warming.max: 70 -> 65"]
    assert report["new"]["ruleset"]["overrides"] == ["bands.act_now.min=65"]
    assert all(r["kind"] == "bands" for c in report["changed"] for r in c["reasons"])
    alone = run("diff", RULESET, "--data", "samples/accounts.csv", cwd=project)
    assert alone.returncode == 2 and "give OLD and NEW rulesets" in alone.stderr


def test_a_weight_edit_is_not_given_as_the_cause_of_a_tier_change(tmp_path: Path) -> None:
    # Two edits in one category: a tier's threshold (moves tiers) and the category's
    # weight (moves the score, never the tier). Each reason names only its own edit.
    project = copy_project(tmp_path)
    shutil.copy(project / RULESET, project / "rulesets/old.yaml")
    edit(project / RULESET, "when: max_limit_utilization >= 80%",
         "when: max_limit_utilization >= 85%")
    edit(project / RULESET, "      weight: 0.40\n", "      weight: 0.45\n")
    edit(project / RULESET, "      weight: 0.25\n", "      weight: 0.20\n")
    result = run("diff", "rulesets/old.yaml", RULESET, "--data", "samples/accounts.csv",
                 "--as-of", AS_OF, "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    reasons = [r for change in json.loads(result.stdout)["changed"] for r in change["reasons"]]
    tiers = [r for r in reasons if r["kind"] == "category" and r["id"] == "product"]
    assert tiers, "the threshold edit should move some account's product tier"
    for reason in tiers:
        assert not any("weight" in b for b in reason["because"]), reason
        assert any("max_limit_utilization >= 85%" in b for b in reason["because"]), reason
    weights = [r for r in reasons if r["kind"] == "weights"]
    assert weights and all(any("product.weight" in b for b in r["because"]) for r in weights)
