"""Coercion: raw values (JSON types, CSV text) to the typed values of a field type.

:func:`coerce` is the reference: every rule and every message. The fast paths take the
values that already have their form (a JSON number, an ISO date, digits in a CSV cell)
and hand anything else to it; each type's fast path is written once, in
:data:`FAST_PATHS`, and both the per-value functions and the straight-line record coercer
(:func:`compile_coercer`) are generated from it. tests/test_speed_paths.py checks, over
random values, that the fast paths and :func:`coerce` agree.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from upsell_rules.io.account import shown_item

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
_FLOAT_MAX = int(sys.float_info.max)
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


class CoercionError(ValueError):
    """A value that does not fit its field's type; the message says what was expected."""


_DAY_MONTH = re.compile(r"\s*(\d{1,2})[/.](\d{1,2})[/.](\d{4})\s*", re.ASCII)


def date_advice(text: str) -> str:
    """``(expected YYYY-MM-DD)``, with the ISO form written out when ``text`` is a date
    in a spreadsheet's form: ``03/04/2026`` is 4 March in one country and 3 April in
    another, so both readings are given and the person picks one."""
    found = _DAY_MONTH.fullmatch(text)
    readings: list[str] = []
    if found is not None:
        first, second, year = (int(part) for part in found.groups())
        for month, day in ((first, second), (second, first)):
            try:
                readings.append(date(year, month, day).isoformat())
            except ValueError:
                continue
    if not readings:
        return "(expected YYYY-MM-DD)"
    return f"(expected YYYY-MM-DD: write {' or '.join(dict.fromkeys(readings))})"


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise CoercionError("is not a number")
    if isinstance(value, int | float):
        result: float | int = value
    elif isinstance(value, str):
        text = value.strip()
        if not _NUMBER.match(text):
            if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
                raise CoercionError("is not a finite number")
            raise CoercionError("is not a number")
        try:
            result = int(text)
        except ValueError:
            try:
                result = float(text)
            except ValueError:
                raise CoercionError("is not a number") from None
    else:
        raise CoercionError("is not a number")
    if isinstance(result, float) and not math.isfinite(result):
        raise CoercionError("is not a finite number")
    if isinstance(result, int) and not -_FLOAT_MAX < result < _FLOAT_MAX:
        # Rules mix integers with fractions; one beyond float range would raise
        # OverflowError in the middle of an evaluation instead of failing here.
        raise CoercionError("is too large")
    return result


def _integer(value: Any) -> int:
    number = _number(value)
    if isinstance(number, float):
        if not number.is_integer():
            raise CoercionError("is not a whole number")
        return int(number)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise CoercionError("is not true or false")


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise CoercionError("is not text")


def _date(value: Any) -> date:
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CoercionError("is not a date (expected YYYY-MM-DD)")


_SCALAR = {
    "number": _number,
    "integer": _integer,
    "boolean": _boolean,
    "string": _string,
    "date": _date,
}


# --- fast paths ---------------------------------------------------------------------
# Most values already have their JSON type (or are plain digits in a CSV cell). The fast
# paths take exactly those cases and return _SLOW for anything else, which then goes
# through coerce() above, so every message and every edge case stays coerce()'s own.
# Each type's fast path is written once, in FAST_PATHS; the per-value functions and the
# straight-line record coercer (compile_coercer) are both generated from it.

_SLOW: Any = object()


@dataclass(frozen=True)
class FastPath:
    """How values of one type skip :func:`coerce`, as Python expressions on ``v``.

    ``take``: ``v`` is already the typed value. ``guard`` / ``make``: when ``guard``
    holds, ``make`` is the typed value (or raises ``ValueError``: then the slow way).
    ``item``: ``take`` for an item of a list of this type, when it differs.
    ``in_record``: the compiled record coercer uses ``guard`` / ``make`` too (otherwise
    such a value sends the record to the general loop: digit strings come from CSV
    cells, and a CSV record nearly always has a value that needs the loop anyway, so
    converting them in the straight line first would do the work twice). Names
    available: ``M`` (the float range), ``fromiso`` (:meth:`date.fromisoformat`).
    """

    take: str
    guard: str = ""
    make: str = ""
    item: str = ""
    in_record: bool = False


_DIGITS = "type(v) is str and v.isdigit() and v.isascii() and len(v) < 300"

FAST_PATHS: dict[str, FastPath] = {
    "number": FastPath(
        take="(type(v) is int and -M < v < M) or (type(v) is float and v - v == 0.0)",
        guard=_DIGITS, make="int(v)",
    ),
    "integer": FastPath(
        take="type(v) is int and -M < v < M",
        guard=f"(type(v) is float and v - v == 0.0 and v.is_integer()) or ({_DIGITS})",
        make="int(v)",
    ),
    "boolean": FastPath(take="type(v) is bool"),
    # Blank text is missing; text with no space at its start cannot be blank. List items
    # keep their spaces (coerce() drops only empty items).
    "string": FastPath(take="type(v) is str and v and not v[0].isspace()",
                       item="type(v) is str"),
    # YYYY-MM-DD: ten characters with dashes at 4 and 7. fromisoformat reads ASCII digits
    # only and its other ten-character form (2026-W45-1) has no dash at 7.
    "date": FastPath(take="False", guard="type(v) is str and len(v) == 10 and v[4] == '-' == v[7]",
                     make="fromiso(v)", in_record=True),
}

_NAMESPACE: dict[str, Any] = {
    "__builtins__": {"type": type, "len": len, "int": int, "float": float, "str": str,
                     "bool": bool, "ValueError": ValueError},
    "M": _FLOAT_MAX,
    "SLOW": _SLOW,
    "fromiso": date.fromisoformat,
}


def _branches(
    path: FastPath, take: str, store: Callable[[str], str], fail: str, indent: str,
    guard: bool = True,
) -> list[str]:
    """Source for one value ``v``: ``store(expression)`` of the typed value, or ``fail``."""
    lines = [f"{indent}if {take}:", f"{indent}    {store('v')}"]
    if path.guard and guard:
        lines += [f"{indent}elif {path.guard}:", f"{indent}    try:",
                  f"{indent}        {store(path.make)}", f"{indent}    except ValueError:",
                  f"{indent}        {fail}"]
    return [*lines, f"{indent}else:", f"{indent}    {fail}"]


def _compile(source: str, name: str) -> Any:
    namespace = dict(_NAMESPACE)
    exec(compile(source, "<upsell-rules coercion>", "exec"), namespace)
    return namespace[name]


def _fast_function(path: FastPath, item: bool = False) -> Any:
    take = (path.item or path.take) if item else path.take
    body = _branches(path, take, lambda value: f"return {value}", "return SLOW", "    ")
    return _compile("\n".join(["def fast(v):", *body]) + "\n", "fast")


_FAST_SCALAR = {kind: _fast_function(path) for kind, path in FAST_PATHS.items()}
_FAST_ITEM = {kind: _fast_function(path, item=True) for kind, path in FAST_PATHS.items()}


def _fast_list(element: Any, series: bool = False) -> Any:
    """A list whose items all take ``element``'s fast path; blank items are dropped,
    except in a ``series`` (see :data:`SERIES`), which goes the slow way to be refused."""

    def fast_list(value: Any) -> Any:
        if type(value) is not list:
            return _SLOW
        out = []
        for item in value:
            if item is None or item == "":
                if series:
                    return _SLOW
                continue
            coerced = element(item)
            if coerced is _SLOW:
                return _SLOW
            out.append(coerced)
        return out or None

    return fast_list


def _fast_number_list(integers: bool) -> Any:
    """A list of numbers, checked at C speed where it can be.

    A list of plain ints (or, unless ``integers``, finite floats) in range, or a CSV cell
    of ASCII digits between bars (``14|16|19``), is taken whole; anything else goes item
    by item through the element's own fast path, then the slow way.
    """
    slow = _fast_list(_FAST_ITEM["integer" if integers else "number"], series=True)
    just_ints = {int}
    numbers = {int, float}

    def fast_numbers(value: Any) -> Any:
        if type(value) is str:
            items = value.split("|")
            if (
                value.isascii()
                and "".join(items).isdigit()
                and all(items)
                and max(map(len, items)) < 300
            ):
                return list(map(int, items))
            return slow(value)
        if type(value) is not list or not value:
            return slow(value)
        kinds = set(map(type, value))
        if kinds == just_ints:
            if min(value) > -_FLOAT_MAX and max(value) < _FLOAT_MAX:
                return value[:]
        elif not integers and kinds <= numbers:
            try:
                if all(map(math.isfinite, value)):
                    return value[:]
            except OverflowError:
                pass
        return slow(value)

    return fast_numbers


_FAST = {
    **_FAST_SCALAR,
    "number_list": _fast_number_list(integers=False),
    "integer_list": _fast_number_list(integers=True),
    "string_list": _fast_list(_FAST_ITEM["string"]),
    "date_list": _fast_list(_FAST_ITEM["date"]),
}


def coerce_fast(value: Any, kind: str) -> Any:
    """:func:`coerce`, faster for values that already have their type."""
    fast = _FAST.get(kind)
    if fast is not None:
        coerced = fast(value)
        if coerced is not _SLOW:
            return coerced
    return coerce(value, kind)


#: List types whose items are a series, one per billing cycle, oldest first: a blank
#: item cannot be dropped (every cycle after it would move one place), so it makes the
#: whole value unusable. In the other lists (dates, texts) order carries no meaning.
SERIES = frozenset({"integer_list", "number_list"})


def coerce(value: Any, kind: str) -> Any:
    """Convert a raw value to ``kind``; ``None`` for missing (empty text, empty list)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind.endswith("_list"):
        element = _SCALAR[kind[: -len("_list")]]
        if isinstance(value, str):
            given: list[Any] = [p.strip() for p in value.split("|")]
        elif isinstance(value, list):
            given = value
        else:
            raise CoercionError("is not a list")
        items = [v for v in given if v is not None and v != ""]
        if not items:
            return None
        if kind in SERIES and len(items) < len(given):
            gap = next(n for n, v in enumerate(given, 1) if v is None or v == "")
            raise CoercionError(
                f"has no value for item {gap} of {len(given)} (one per cycle, oldest "
                f"first: without it every later cycle would move one place; fill it in "
                f"or leave the whole field empty)")
        out = []
        for item in items:
            try:
                out.append(element(item))
            except CoercionError as exc:
                raise CoercionError(f"has an item {shown_item(item)} that {exc}") from None
        return out
    return _SCALAR[kind](value)


def always_slow(value: Any) -> Any:
    return _SLOW


def compile_coercer(types: Mapping[str, str]) -> Any:
    """One straight-line function that coerces a record whose values all take a fast path.

    ``coerce(raw_values)`` returns the typed values, or ``None`` as soon as one value
    needs more than the fast path (text to convert, a missing-looking value, an error):
    the caller then runs the general loop, which gives the same values for the rest and
    every message. Scalar types are written inline from :data:`FAST_PATHS`; lists call
    their fast function. Field names go into the source through ``repr`` only.
    """
    lines = ["def coerce(raw):", "    get = raw.get", "    out = {}"]
    namespace = dict(_NAMESPACE)
    for index, (name, kind) in enumerate(types.items()):
        key = repr(name)
        lines += [f"    v = get({key})", "    if v is not None:"]
        path = FAST_PATHS.get(kind)
        if path is not None:
            # The scalar path inline; a value it does not take sends the record the slow way.
            lines += _branches(path, path.take, functools.partial("out[{}] = {}".format, key),
                               "return None", "        ", guard=path.in_record)
        else:
            namespace[f"f{index}"] = _FAST.get(kind, always_slow)
            lines += [f"        c = f{index}(v)", "        if c is SLOW:",
                      "            return None", "        if c is not None:",
                      f"            out[{key}] = c"]
    lines.append("    return out")
    exec(compile("\n".join(lines) + "\n", "<upsell-rules coercion>", "exec"), namespace)
    return namespace["coerce"]
