"""Message templates: ``{signal}`` placeholders with formats and optional parts.

A template is parsed once when the ruleset loads. ``{name}`` inserts a value,
``{name:fmt}`` formats it (``int``, ``num``, ``pct``, ``money``, ``list``), and a part in
square brackets is dropped when any value inside it is missing. Templates are never
passed to ``str.format``: a placeholder can only read a value, never an attribute.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

FORMATS = ("int", "num", "pct", "money", "list", "text")

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}")


class TemplateError(ValueError):
    """A malformed template; ``offset`` is the 0-based character position."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _fmt_number(value: Any) -> str:
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return str(value)


def format_value(value: Any, fmt: str | None) -> str:
    """Render one value for people (dates ISO, lists joined, numbers trimmed)."""
    kind = type(value)
    # Fast paths for the common exact types; everything else takes the general route.
    if kind is str:
        return value  # type: ignore[no-any-return]
    if fmt is None and kind is int:
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    if fmt == "int" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{round(value):,}"
    if fmt == "pct" and isinstance(value, int | float) and not isinstance(value, bool):
        scaled = value * 100
        # A ratio near the float limit overflows to inf when scaled; round(inf) raises.
        if isinstance(scaled, float) and not math.isfinite(scaled):
            return "n/a"
        return f"{round(scaled)}%"
    if fmt == "money" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"${round(value):,}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v, None) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _fmt_number(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


Part = tuple[str, str | None]  # (literal text, None) or (name, format)


Segments = tuple[tuple[bool, tuple[tuple[str, str | None, bool], ...]], ...]


@dataclass(frozen=True)
class Template:
    """A parsed template: a list of segments, each required or optional."""

    source: str
    segments: Segments
    _render: Callable[[Mapping[str, Any]], str] | None = field(
        default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_render", compile_render(self.segments))

    @property
    def names(self) -> list[str]:
        """Every placeholder name, in order."""
        return [
            text
            for _, parts in self.segments
            for text, _fmt, is_name in parts
            if is_name
        ]

    def render(self, values: Mapping[str, Any]) -> str:
        """Fill the template; missing values drop their optional part or show 'n/a'."""
        assert self._render is not None
        return self._render(values)

    def render_reference(self, values: Mapping[str, Any]) -> str:
        """:meth:`render` by walking the segments (what the compiled form must equal)."""
        out: list[str] = []
        for optional, parts in self.segments:
            mark = len(out)
            for text, fmt, is_name in parts:
                if not is_name:
                    out.append(text)
                    continue
                value = values.get(text)
                if value is None or value == []:
                    if optional:
                        del out[mark:]
                        break
                    out.append("n/a")
                else:
                    out.append(format_value(value, fmt))
        text = "".join(out)
        # A dropped part or an empty value can leave a double space: collapse all runs.
        return " ".join(text.split())


def compile_render(segments: Segments) -> Callable[[Mapping[str, Any]], str]:
    """One straight-line function that renders ``segments`` (a template's hot path).

    The source is built from the parsed segments only: literal text goes in through
    ``repr`` and placeholder names have already matched ``[A-Za-z_][A-Za-z0-9_]*``, so
    nothing a ruleset author writes is ever run. An optional part reads all its values
    first and is left out when any is missing, which is what dropping it amounts to.
    """
    lines = ["def render(values):", "    get = values.get", "    out = []"]
    counter = 0
    for optional, parts in segments:
        names = [(text, fmt) for text, fmt, is_name in parts if is_name]
        local: dict[int, str] = {}
        indent = "    "
        if optional:
            checks = []
            for index, (text, _fmt, is_name) in enumerate(parts):
                if is_name:
                    var = f"v{counter}"
                    counter += 1
                    local[index] = var
                    lines.append(f"    {var} = get({text!r})")
                    checks.append(f"{var} is not None and {var} != []")
            if names:
                lines.append(f"    if {' and '.join(checks)}:")
                indent = "        "
            else:
                lines.append("    if True:")
                indent = "        "
        for index, (text, fmt, is_name) in enumerate(parts):
            if not is_name:
                lines.append(f"{indent}out.append({text!r})")
                continue
            if optional:
                var = local[index]
            else:
                var = f"v{counter}"
                counter += 1
                lines.append(f"{indent}{var} = get({text!r})")
            if fmt is None:
                shown = f"({var} if type({var}) is str else fmt({var}, None))"
            else:
                shown = f"fmt({var}, {fmt!r})"
            if optional:
                lines.append(f"{indent}out.append({shown})")
            else:
                lines.append(
                    f"{indent}out.append('n/a' if {var} is None or {var} == [] else {shown})"
                )
        if optional:
            lines.append(f"{indent}pass")  # an empty part, "[]", has no other statement
    # A dropped part or an empty value can leave a double space: collapse all runs.
    lines.append("    return ' '.join(''.join(out).split())")
    namespace: dict[str, Any] = {"__builtins__": {"type": type, "str": str}, "fmt": format_value}
    exec(compile("\n".join(lines) + "\n", "<upsell-rules template>", "exec"), namespace)
    render: Callable[[Mapping[str, Any]], str] = namespace["render"]
    return render


def _parts(text: str, base: int) -> tuple[tuple[str, str | None, bool], ...]:
    parts: list[tuple[str, str | None, bool]] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        literal = text[pos : match.start()]
        _check_literal(literal, base + pos)
        if literal:
            parts.append((_collapse(literal), None, False))
        fmt = match.group(2)
        if fmt is not None and fmt not in FORMATS:
            raise TemplateError(
                f"unknown format ':{fmt}' (expected one of {', '.join(FORMATS)})",
                base + match.start(),
            )
        parts.append((match.group(1), fmt, True))
        pos = match.end()
    tail = text[pos:]
    _check_literal(tail, base + pos)
    if tail:
        parts.append((_collapse(tail), None, False))
    return tuple(parts)


def _collapse(text: str) -> str:
    """Runs of white space (folded YAML line breaks included) become one space."""
    return re.sub(r"\s+", " ", text)


def _check_literal(text: str, base: int) -> None:
    for index, char in enumerate(text):
        if char in "{}":
            raise TemplateError(
                f"stray {char!r}: placeholders look like {{signal}} or {{signal:pct}}",
                base + index,
            )


def parse_template(text: str) -> Template:
    """Parse a template, or raise :class:`TemplateError` with the offending offset."""
    segments: list[tuple[bool, tuple[tuple[str, str | None, bool], ...]]] = []
    pos = 0
    while pos < len(text):
        open_at = text.find("[", pos)
        close_at = text.find("]", pos)
        if close_at != -1 and (open_at == -1 or close_at < open_at):
            raise TemplateError("']' without a matching '['", close_at)
        if open_at == -1:
            segments.append((False, _parts(text[pos:], pos)))
            break
        if open_at > pos:
            segments.append((False, _parts(text[pos:open_at], pos)))
        close_at = text.find("]", open_at)
        if close_at == -1:
            raise TemplateError("'[' without a matching ']'", open_at)
        inner = text[open_at + 1 : close_at]
        if "[" in inner:
            raise TemplateError("optional parts cannot nest", open_at + 1 + inner.index("["))
        segments.append((True, _parts(inner, open_at + 1)))
        pos = close_at + 1
    return Template(text, tuple(segments))


def check_names(template: Template, known: Callable[[str], bool]) -> list[str]:
    """Placeholder names in ``template`` for which ``known(name)`` is false."""
    return [name for name in template.names if not known(name)]
