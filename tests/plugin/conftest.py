"""The plugin tests build their own registries: no plugin selection leaks between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from upsell_rules.plugin.build import reset_default_registry


@pytest.fixture(autouse=True)
def _fresh_default_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test builds its own registry; no plugin selection leaks between tests."""
    monkeypatch.delenv("UPSELL_RULES_PLUGINS", raising=False)
    monkeypatch.delenv("UPSELL_RULES_DISABLE_PLUGINS", raising=False)
    reset_default_registry()
    yield
    reset_default_registry()
