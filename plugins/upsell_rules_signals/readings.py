"""Derivations for reading thresholds and wording exactly.

- ``consecutive_above``: the strict twin of ``consecutive_at_or_above``, for rules the
  research words as "above" / "exceeds" (usage above 70% of the limit: exactly 70% does
  not count).
- ``ahead``: a number only while it is above zero (a projected "days to the ceiling"
  that is 0 at or over the ceiling becomes unknown, so a ``[...]`` template part that
  would say "in about 0 days" drops out).
- ``text_if``: one of two texts by a yes/no signal, for windows and messages that depend
  on the account (say "immediately" only when the ceiling is actually near).
- ``titled``: a list of ids as the titles people know them by (``sso|audit_log`` as
  "SSO", "audit log"), for customer-facing text.

Same conventions as :mod:`upsell_rules_signals.derivations`: a missing input gives
``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from upsell_rules.plugin.types import Derivation, DeriveFn, ParamSpec

from .params import LIST_TYPES, derivation, number_param, signal_name, signal_param


def _build_consecutive_above(params: Mapping[str, Any]) -> DeriveFn:
    series = signal_name(params, "series")
    threshold = number_param(params, "threshold")

    def consecutive_above(signals: Mapping[str, Any], as_of: date) -> int | None:
        values = signals.get(series)
        if values is None:
            return None
        if not isinstance(values, LIST_TYPES):
            return 1 if values > threshold else 0
        run = 0
        for value in reversed(values):
            if value is None or value <= threshold:
                break
            run += 1
        return run

    return consecutive_above


def _build_ahead(params: Mapping[str, Any]) -> DeriveFn:
    name = signal_name(params, "value")

    def ahead(signals: Mapping[str, Any], as_of: date) -> Any:
        value = signals.get(name)
        if isinstance(value, LIST_TYPES):
            value = value[-1] if value else None
        if value is None or isinstance(value, bool) or value <= 0:
            return None
        return value

    return ahead


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"parameter '{name}' must be a text, got {value!r}")
    return value


def _build_text_if(params: Mapping[str, Any]) -> DeriveFn:
    condition = signal_name(params, "condition")
    then = _text(params, "then")
    if then is None:
        raise ValueError("parameter 'then' must be a text, got None")
    otherwise = _text(params, "otherwise") or None

    def text_if(signals: Mapping[str, Any], as_of: date) -> str | None:
        return then if signals.get(condition) is True else otherwise

    return text_if


def _build_titled(params: Mapping[str, Any]) -> DeriveFn:
    name = signal_name(params, "list")
    titles = params.get("titles") or {}
    if not isinstance(titles, Mapping):
        raise ValueError(f"parameter 'titles' must map ids to titles, got {titles!r}")
    known = {str(k).casefold(): str(v) for k, v in titles.items()}

    def titled(signals: Mapping[str, Any], as_of: date) -> list[str] | None:
        values = signals.get(name)
        if values is None:
            return None
        if not isinstance(values, LIST_TYPES):
            values = (values,)
        # An id without a title still reads as words: audit_log -> "audit log".
        return [known.get(str(v).casefold(), str(v).replace("_", " ")) for v in values]

    return titled


READINGS: tuple[Derivation, ...] = (
    derivation(
        "consecutive_above",
        "How many of the most recent cycles in a row were strictly above a threshold, "
        "e.g. cycles in a row above 70% of the limit (exactly 70% does not count).",
        "integer",
        _build_consecutive_above,
        {
            "series": signal_param("The per-cycle series to check, oldest first."),
            "threshold": ParamSpec(
                "number", required=True, description="The value each cycle must exceed."
            ),
        },
    ),
    derivation(
        "ahead",
        "A number while it is above zero, else unknown: days to a ceiling that is "
        "already reached become unknown, so '[in about {x} days]' drops out.",
        "number",
        _build_ahead,
        {"value": signal_param("The number to keep while positive.")},
    ),
    derivation(
        "text_if",
        "One text when a yes/no signal is yes, another (or unknown) otherwise.",
        "string",
        _build_text_if,
        {
            "condition": signal_param("A yes/no signal (a named condition)."),
            "then": ParamSpec("string", required=True, description="The text when yes."),
            "otherwise": ParamSpec(
                "string", default="", description="The text when no (empty: unknown)."
            ),
        },
    ),
    derivation(
        "titled",
        "A list of ids as their titles (from a mapping; an id without one reads as "
        "words, audit_log as 'audit log'), for customer-facing text.",
        "string_list",
        _build_titled,
        {
            "list": signal_param("The list of ids, e.g. named_gaps."),
            "titles": ParamSpec("mapping", default={}, description="id: title"),
        },
    ),
)
