"""Commands that write into a folder never follow a link planted there out of it.

Before: ``compile --dbt DIR`` wrote the model through ``DIR/models/X_decisions.sql ->
~/.bashrc`` (and read the sources file through a link), ``init --force`` wrote
``README.md`` through a link, and ``new-plugin`` followed a dangling link where its
folder was to be created.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from upsell_rules.cli.main import cli
from upsell_rules.io.inside import stays_inside

AS_OF = "2026-11-02"


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "outside" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text("precious\n", encoding="utf-8")
    return victim


def test_dbt_refuses_a_model_file_linked_outside(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    project = tmp_path / "dbt"
    (project / "models").mkdir(parents=True)
    (project / "models" / "upsell_timing_decisions.sql").symlink_to(victim)
    result = CliRunner().invoke(cli, ["compile", "upsell_timing", "--as-of", AS_OF,
                                      "--dbt", str(project)])
    assert result.exit_code == 2
    assert "models/upsell_timing_decisions.sql leads out of the folder" in result.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in (project / "models").iterdir()) == [
        "upsell_timing_decisions.sql"]


def test_dbt_refuses_a_folder_linked_outside(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    project = tmp_path / "dbt"
    project.mkdir()
    (project / "tests").symlink_to(victim.parent, target_is_directory=True)
    result = CliRunner().invoke(cli, ["compile", "upsell_timing", "--as-of", AS_OF,
                                      "--dbt", str(project)])
    assert result.exit_code == 2
    assert "tests/upsell_timing_decisions_score_range.sql leads out" in result.stderr
    assert sorted(p.name for p in victim.parent.iterdir()) == [".bashrc"]
    assert not (project / "models").exists()


def test_dbt_follows_a_link_that_stays_inside(tmp_path: Path) -> None:
    project = tmp_path / "dbt"
    (project / "shared").mkdir(parents=True)
    (project / "models").symlink_to(project / "shared", target_is_directory=True)
    result = CliRunner().invoke(cli, ["compile", "upsell_timing", "--as-of", AS_OF,
                                      "--dbt", str(project)])
    assert result.exit_code == 0, result.output
    assert (project / "shared" / "upsell_timing_decisions.sql").is_file()


def test_init_force_refuses_a_file_linked_outside(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    repo = tmp_path / "rules"
    repo.mkdir()
    (repo / "README.md").symlink_to(victim)
    result = CliRunner().invoke(cli, ["init", str(repo), "--force"])
    assert result.exit_code == 2
    assert "README.md leads out of the folder through a symbolic link" in result.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in repo.iterdir()) == ["README.md"]


def test_new_plugin_refuses_a_dangling_link_in_its_place(tmp_path: Path) -> None:
    target = tmp_path / "outside" / "made-here"
    (tmp_path / "upsell-rules-extra").symlink_to(target, target_is_directory=True)
    result = CliRunner().invoke(cli, ["new-plugin", "extra", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert "Traceback" not in result.output
    assert not target.exists()


def test_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "up").symlink_to(tmp_path)
    (tmp_path / "in" / "dangling").symlink_to(tmp_path / "gone")
    assert stays_inside(tmp_path / "in", "a/b.sql")
    assert not stays_inside(tmp_path / "in", "../x")
    assert not stays_inside(tmp_path / "in", "up/x")
    assert not stays_inside(tmp_path / "in", "dangling")
