"""What many tests share: helpers to run the real CLI, a throwaway PostgreSQL server on
loopback, and the example plugin pip-installed as a third party would install it. The
fixtures are registered for every test by ``tests/conftest.py``.

Nothing here touches the network beyond 127.0.0.1: pip installs the example plugin from
its folder without an index (``--no-index --no-build-isolation``, with the setuptools the
test extra installs).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-02"


def run_cli(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m upsell_rules ARGS`` with the plugin environment variables cleared."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("UPSELL_RULES_PLUGINS", "UPSELL_RULES_DISABLE_PLUGINS")}
    return subprocess.run(
        [sys.executable, "-m", "upsell_rules", *args],
        capture_output=True, text=True, encoding="utf-8", cwd=cwd,
        env={**base, **(env or {})}, timeout=timeout,
    )


def with_changes(record: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``record`` with ``changes`` applied; a change to ``None`` removes the field."""
    merged = {**record, **changes}
    return {key: value for key, value in merged.items() if changes.get(key, 0) is not None}


# --- the example plugin, pip-installed ------------------------------------------------


def pip_install_target(project: Path, target: Path) -> None:
    """``pip install --target`` a plugin project from a copy of its folder, offline."""
    copy = Path(tempfile.mkdtemp(prefix="upsell-rules-build-")) / project.name
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
             "--no-build-isolation", "--no-compile", "--target", str(target), str(copy)],
            capture_output=True, text=True, timeout=300,
        )
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)
    if result.returncode != 0:
        pytest.fail(f"pip could not install {project.name}:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def example_plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the pip-installed example plugin (put it on PYTHONPATH)."""
    target = tmp_path_factory.mktemp("example-plugin-site")
    pip_install_target(ROOT / "plugins" / "example-plugin", target)
    return target


# --- a throwaway PostgreSQL server ---------------------------------------------------


def _postgres_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "pg_ctl")):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a PostgreSQL server started for this test session.

    ``UPSELL_RULES_TEST_POSTGRES_URL`` points at an existing server instead. Without
    the server binaries the tests that need it are skipped, unless
    ``UPSELL_RULES_REQUIRE_POSTGRES`` is set (as in CI), where that is a failure.
    """
    given = os.environ.get("UPSELL_RULES_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    bindir = _postgres_bindir()
    if bindir is None:
        reason = ("PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
                  "apt-get install postgresql")
        if os.environ.get("UPSELL_RULES_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="upsell-rules-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: run the server as the postgres account.
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root and there is no 'postgres' user to run the server")
        os.chown(base, account.pw_uid, account.pw_gid)
        runner = shutil.which("runuser")
        prefix = [runner, "-u", "postgres", "--"] if runner else ["su", "postgres", "-c"]
    data = base / "data"
    port = _free_port()

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        argv = list(command)
        full = [*prefix, " ".join(argv)] if prefix[:1] == ["su"] else [*prefix, *argv]
        return subprocess.run(full, capture_output=True, text=True, timeout=120)

    init = run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
               "-E", "UTF8", "--no-sync")
    if init.returncode != 0:
        pytest.fail(f"initdb failed:\n{init.stdout}\n{init.stderr}")
    start = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
                "-o", f"-p {port} -h 127.0.0.1 -k {base} -F", "start")
    if start.returncode != 0:
        log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
        pytest.fail(f"pg_ctl start failed:\n{start.stdout}\n{start.stderr}\n{log}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
