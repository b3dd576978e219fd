"""What compiled and interpreted conditions call at run time (not code generation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from upsell_rules.errors import PluginError
from upsell_rules.plugin.guard import EXACT, describe_value, failure_text, quick_fits


def guarded_call(function: Any) -> Callable[..., Any]:
    """``function.call`` wrapped so that an exception names the function and its plugin."""
    call = function.call
    label = f"function '{function.name}' (plugin '{function.plugin or '?'}')"

    returns = function.returns
    exact = EXACT.get(returns, frozenset())
    fits = quick_fits(returns)

    # A list argument is the account's own value: handed over as a tuple, so a function
    # that sorts or appends to it fails instead of changing what later rules read.
    lists = tuple(i for i, kind in enumerate(function.args) if kind.endswith("_list"))

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if lists:
            args = tuple(tuple(a) if i in lists and type(a) is list else a
                         for i, a in enumerate(args))
        try:
            result = call(*args, **kwargs)
        except Exception as exc:
            raise PluginError(f"{label} failed: {failure_text(exc)}") from exc
        # The usual case costs one set lookup; a wrong type must not pass silently.
        if result is not None and type(result) not in exact and not fits(result):
            raise PluginError(
                f"{label} returned {describe_value(result)}; it declares {returns}"
            )
        return result

    return guarded
