"""Shared test configuration.

Hypothesis runs without per-example deadlines (CI machines are shared and noisy) and
with a fixed seed so that a run is reproducible; set HYPOTHESIS_PROFILE=explore to search
with fresh randomness locally.
"""

from __future__ import annotations

import os

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
