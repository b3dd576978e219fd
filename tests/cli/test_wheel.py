"""What ``pip install upsell-rules`` gets: the wheel ships ``py.typed``, the bundled
rulesets and samples, and the project URLs; installed from it (not from this checkout),
every ``--help`` example works from an empty folder."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.cli.test_help_examples import examples
from tests.support import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (found,) = out.glob("upsell_rules-*.whl")
    return found


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-compile", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return target


def test_the_wheel_ships_py_typed_bundled_files_and_project_urls(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = archive.read(metadata).decode("utf-8")
    assert "upsell_rules/py.typed" in names
    assert "upsell_rules_files/py.typed" in names
    assert "upsell_rules/_bundled/rulesets/upsell_timing.yaml" in names
    assert "upsell_rules/_bundled/samples/accounts.csv" in names
    urls = {line.split(": ", 1)[1].split(",", 1)[0] for line in meta.splitlines()
            if line.startswith("Project-URL: ")}
    assert urls == {"Homepage", "Documentation", "Source", "Issues", "Changelog"}
    assert "Classifier: Typing :: Typed" in meta


def test_help_examples_run_from_an_empty_folder_after_installing_the_wheel(
    site: Path, tmp_path: Path
) -> None:
    # The installed copy comes first, so nothing is read from this checkout.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    where = subprocess.run([sys.executable, "-c", "import upsell_rules; print(upsell_rules.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr
    found = examples()
    assert len(found) >= 3
    for number, example in enumerate(found):
        folder = tmp_path / f"example{number}"
        folder.mkdir()
        done = subprocess.run([sys.executable, "-m", "upsell_rules", *shlex.split(example)[1:]],
                              cwd=folder, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{example}\n{done.stdout}\n{done.stderr}"
        assert str(ROOT) not in done.stderr  # the bundled copies, not this checkout's
