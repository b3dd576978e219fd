"""Plain YAML scalars typed as ruamel.yaml's round-trip loader types them (YAML 1.2
core: null, booleans, integers, floats; timestamps stay text)."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.resolver import implicit_resolvers

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
MERGE_TAG = "tag:yaml.org,2002:merge"
VALUE_TAG = "tag:yaml.org,2002:value"


def _implicit_resolvers() -> dict[str, list[tuple[str, Any]]]:
    """ruamel's YAML 1.2 implicit resolvers: first character -> [(tag, regexp.match)]."""
    table: dict[str, list[tuple[str, Any]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            for char in first:
                table.setdefault(char, []).append((tag, regexp.match))
    return table


_RESOLVERS = _implicit_resolvers()
_INF = float("inf")
# ruamel returns one NaN object for every .nan, so two .nan keys collide there: so here.
_NAN = float("nan")


class Unmodelled(Exception):
    """A construct this pass leaves to ruamel's constructor (see :func:`ruamel_load`)."""


#: Python refuses to read a decimal integer longer than this (CVE-2020-10735).
MAX_INT_DIGITS = 4300


class TooManyDigits(Exception):
    """A decimal integer longer than :data:`MAX_INT_DIGITS`: ``args[0]`` is its length."""


def _to_int(text: str) -> int:
    """An integer as ruamel's round-trip constructor reads it under YAML 1.2."""
    digits = text.replace("_", "")
    sign = 1
    if digits[:1] in ("+", "-"):
        sign = -1 if digits[0] == "-" else 1
        digits = digits[1:]
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if digits.startswith(prefix):
            if len(digits) < 3:  # ruamel fails on "0x_" too, with its own error
                raise Unmodelled(text)
            return sign * int(digits[2:], base)
    if len(digits) > MAX_INT_DIGITS:
        raise TooManyDigits(len(digits))
    return sign * int(digits)  # 1.2: a leading 0 is decimal


def _to_float(text: str) -> float:
    """A float as ruamel's round-trip constructor reads it under YAML 1.2."""
    lowered = text.replace("_", "").lower()
    sign = -1 if lowered[0] == "-" else 1
    if lowered[0] in "+-":
        lowered = lowered[1:]
    if lowered == ".inf":
        return sign * _INF
    if lowered == ".nan":
        return _NAN
    return sign * float(lowered)


def resolve_plain(text: str) -> tuple[str | None, Any]:
    """The implicit tag of a plain scalar (``None``: a string) and its Python value."""
    for tag, match in _RESOLVERS.get(text[:1], ()):
        if match(text):
            if tag == _NULL:
                return tag, None
            if tag == _BOOL:
                return tag, text.lower() == "true"
            try:
                if tag == _INT:
                    return tag, _to_int(text)
                if tag == _FLOAT:
                    return tag, _to_float(text)
            except (ValueError, IndexError):
                raise Unmodelled(text) from None
            return tag, text  # timestamps stay text; merge and value are the caller's
    return None, text
