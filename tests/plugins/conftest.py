"""Make the core and the first-party plugins importable when the project is not installed.

``pip install -e .`` exposes ``plugins/*`` as top-level packages; this only matters for a
checkout that has not been installed, and does nothing otherwise.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]

if importlib.util.find_spec("upsell_rules") is None:
    sys.path.insert(0, str(_ROOT))
if importlib.util.find_spec("upsell_rules_files") is None:
    sys.path.insert(0, str(_ROOT / "plugins"))

from upsell_rules.plugin.build import reset_default_registry  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_default_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test builds its own registry; no plugin selection leaks between tests."""
    monkeypatch.delenv("UPSELL_RULES_PLUGINS", raising=False)
    monkeypatch.delenv("UPSELL_RULES_DISABLE_PLUGINS", raising=False)
    reset_default_registry()
    yield
    reset_default_registry()
