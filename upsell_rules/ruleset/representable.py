"""Values no engine can hold: refused before a ruleset is built.

Every engine must decide alike (the Python reference, DuckDB, PostgreSQL, a warehouse),
so a ruleset may only hold values all of them represent:

- numbers a double holds: finite, and no integer beyond about 1.8e308 (``1e400`` and
  ``.inf`` read as infinity, ``.nan`` compares false with everything, and an integer
  past a double's range makes float arithmetic raise);
- text without a NUL character, which a PostgreSQL string cannot hold, and without a
  lone surrogate (``"\\ud800"``), half a character no UTF-8 file or query can hold.

A value that breaks either is hostile or a slip; either way it is reported at its
position (E015 for a number, E013 for text) and the ruleset is not built, as a YAML
bomb is not: every later check would have to guard against it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from upsell_rules.errors import Diagnostic
from upsell_rules.ruleset.schema import field_path
from upsell_rules.ruleset.yaml_document import Path, YamlDocument

_SURROGATE = re.compile("[\ud800-\udfff]")


def unrepresentable_findings(doc: YamlDocument,
                             within: Callable[[Path], bool] | None = None,
                             nul: bool = True) -> list[Diagnostic]:
    """One finding per number or text of ``doc`` some engine could not hold (only at
    the paths ``within`` accepts, when given; a NUL only with ``nul``: text that never
    reaches SQL may hold one)."""
    findings: list[Diagnostic] = []
    for path, value, is_key in _scalars(doc.data, ()):
        if within is not None and not within(path):
            continue
        problem = _problem(value, nul)
        if problem is None:
            continue
        code, why = problem
        what = f"{field_path(path)} (a key)" if is_key else field_path(path)
        findings.append(Diagnostic(doc.locate(path, key=is_key), code, f"{what}: {why}"))
    return findings


def _scalars(value: Any, path: Path) -> Iterator[tuple[Path, Any, bool]]:
    """Every scalar under ``value`` with its path; keys too (``True`` as the third)."""
    if isinstance(value, dict):
        for key, item in value.items():
            at: Path = (*path, key if isinstance(key, str | int) else str(key))
            if not isinstance(key, bool):
                yield at, key, True
            yield from _scalars(item, at)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _scalars(item, (*path, index))
    else:
        yield path, value, False


def _problem(value: Any, nul: bool) -> tuple[str, str] | None:
    """``(code, message)`` when ``value`` is a number or text no engine can hold."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            return ("E015", f"an integer of {len(str(abs(value))):,} digits is beyond what a "
                    "number can hold (about 1.8e308)")
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        shown = "not a number (.nan)" if math.isnan(value) else "infinite"
        return ("E015", f"{shown}: a number must be finite and at most about 1.8e308")
    if isinstance(value, str):
        return _text_problem(value, nul)
    return None


def _text_problem(text: str, nul: bool) -> tuple[str, str] | None:
    if nul and "\0" in text:
        return ("E013", f"the text holds a NUL character (\\0) at position "
                f"{text.index(chr(0)) + 1}, which a database cannot store: remove it")
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        return ("E013", f"the text holds a lone surrogate (\\u{ord(surrogate.group()):04x}) "
                f"at position {surrogate.start() + 1}: half of a character, which no "
                "output file or database can hold: remove it")
    return None
