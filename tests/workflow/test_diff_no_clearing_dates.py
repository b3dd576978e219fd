"""diff explains each moved account by its checks only: it never searches, day by day, for
when a block or cap clears (that search made diff on a few thousand accounts take minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.engine import explain as explain_module

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["diff", str(ROOT / "rulesets" / "upsell_timing.yaml"),
        str(ROOT / "rulesets" / "expansion_triggers.yaml"),
        "--data", str(ROOT / "samples" / "accounts.csv"), "--as-of", "2026-11-02"]


def test_diff_does_not_compute_clearing_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = CliRunner().invoke(cli, ARGS)
    assert expected.exit_code == 0, expected.output

    def refuse(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("diff searched for clearing dates")

    monkeypatch.setattr(explain_module, "clearings", refuse)
    result = CliRunner().invoke(cli, ARGS)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected.stdout
    assert "change band" in result.stdout  # accounts did move, so they were explained


def test_explain_still_gives_the_dates() -> None:
    result = CliRunner().invoke(cli, ["explain", str(ROOT / "rulesets" / "upsell_timing.yaml"),
                                      "--data", str(ROOT / "samples" / "accounts.csv"),
                                      "--as-of", "2026-11-02", "--account", "ACC-1029"])
    assert result.exit_code == 0, result.output
    assert "holds until 2026-12-27, clears on 2026-12-28" in result.stdout
