"""Derivations that read the research's wording exactly: strictly above, still ahead,
one text or another, ids as titles."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import upsell_rules_signals

AS_OF = date(2026, 3, 15)
BY_NAME = {d.name: d for d in upsell_rules_signals.READINGS}


def run(name: str, signals: dict[str, Any], **params: Any) -> Any:
    return BY_NAME[name].build(params)(signals, AS_OF)


def test_consecutive_above_is_strict() -> None:
    series = {"u": [0.5, 0.71, 0.70, 0.72, 0.75]}
    assert run("consecutive_above", series, series="u", threshold=0.70) == 2
    assert run("consecutive_above", {"u": [0.70, 0.70]}, series="u", threshold=0.70) == 0
    assert run("consecutive_above", {"u": 0.71}, series="u", threshold=0.70) == 1
    assert run("consecutive_above", {}, series="u", threshold=0.70) is None


@given(st.lists(st.floats(0, 2, allow_nan=False), max_size=8), st.floats(0, 2))
def test_strict_never_counts_more_than_at_or_above(values: list[float], threshold: float) -> None:
    from upsell_rules_signals import DERIVATIONS

    loose = next(d for d in DERIVATIONS if d.name == "consecutive_at_or_above")
    at_or_above = loose.build({"series": "u", "threshold": threshold})({"u": values}, AS_OF)
    above = run("consecutive_above", {"u": values}, series="u", threshold=threshold)
    assert above <= at_or_above
    if threshold not in values:
        assert above == at_or_above


def test_ahead_drops_a_reached_ceiling() -> None:
    assert run("ahead", {"d": 30}, value="d") == 30
    assert run("ahead", {"d": 0}, value="d") is None
    assert run("ahead", {"d": -5}, value="d") is None
    assert run("ahead", {}, value="d") is None


def test_text_if() -> None:
    params = {"condition": "near", "then": "now", "otherwise": "later"}
    assert run("text_if", {"near": True}, **params) == "now"
    assert run("text_if", {"near": False}, **params) == "later"
    assert run("text_if", {}, **params) == "later"
    assert run("text_if", {"near": False}, condition="near", then="now", otherwise="") is None
    with pytest.raises(ValueError, match="'then'"):
        BY_NAME["text_if"].build({"condition": "near", "then": 5})


def test_titled() -> None:
    titles = {"sso": "SSO", "audit_log": "audit log"}
    got = run("titled", {"g": ["sso", "audit_log", "gis_export"]}, list="g", titles=titles)
    assert got == ["SSO", "audit log", "gis export"]
    assert run("titled", {}, list="g", titles=titles) is None
