"""What compiled and interpreted conditions call at run time (not code generation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from upsell_rules.errors import PluginError


def guarded_call(function: Any) -> Callable[..., Any]:
    """``function.call`` wrapped so that an exception names the function and its plugin."""
    call = function.call
    label = f"function '{function.name}' (plugin '{function.plugin or '?'}')"

    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            raise PluginError(f"{label} failed: {type(exc).__name__}: {exc}") from exc

    return guarded
