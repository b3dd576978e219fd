"""Shared test configuration.

Hypothesis runs without per-example deadlines (CI machines are shared and noisy) and
with a fixed seed so that a run is reproducible; set HYPOTHESIS_PROFILE=explore to search
with fresh randomness locally.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# Session fixtures every test may use: a PostgreSQL server, the installed example plugin.
from tests.support import example_plugin_site, postgres_url  # noqa: F401

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# A piped queue table fits COLUMNS when it is set; tests that read tables expect the
# full width, whatever terminal the suite is started from.
os.environ.pop("COLUMNS", None)

_REPO_STATE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           ".upsell-rules")


def pytest_sessionstart(session: object) -> None:
    """Remember whether the repository had a ``.upsell-rules/`` folder before the tests."""
    os.environ["_UPSELL_RULES_TEST_REPO_STATE"] = str(os.path.exists(_REPO_STATE))
    # A store named in the environment would change what run, dry-run and explain do.
    os.environ.pop("UPSELL_RULES_STATE", None)


@pytest.fixture(autouse=True)
def _no_state_in_repository() -> Iterator[None]:
    """Fail the test that writes ``.upsell-rules/`` into the repository, by name.

    ``run`` keeps its memory in ``.upsell-rules/`` of the working folder by default; a
    test must use ``tmp_path`` as its working folder or pass ``--state``/``--no-state``.
    """
    before = os.path.exists(_REPO_STATE)
    yield
    if not before and os.path.exists(_REPO_STATE):
        shutil.rmtree(_REPO_STATE, ignore_errors=True)
        pytest.fail(f"this test wrote {_REPO_STATE}: run it with tmp_path as the working "
                    "folder or pass --state/--no-state", pytrace=False)


def pytest_sessionfinish(session: object, exitstatus: int) -> None:
    """Fail the session when a test left a state store or ledger in the repository
    (``run`` keeps its state in ``.upsell-rules/`` of the working folder by default)."""
    if os.environ.get("_UPSELL_RULES_TEST_REPO_STATE") == "False" and os.path.exists(
        _REPO_STATE
    ):
        import pytest

        raise pytest.UsageError(
            f"a test wrote {_REPO_STATE}: run tests with tmp_path as the working folder "
            "or pass --state/--no-state"
        )
