"""Message templates: ``{signal}`` placeholders with formats and optional parts.

A template is parsed once when the ruleset loads. ``{name}`` inserts a value,
``{name:fmt}`` formats it (``int``, ``num``, ``pct``, ``money``, ``list``), and a part in
square brackets is dropped when any value inside it is missing. Templates are never
passed to ``str.format``: a placeholder can only read a value, never an attribute.

Two limits keep a hostile template inside the time and memory budget: at most
:data:`MAX_PLACEHOLDERS` placeholders per template (refused when parsed, so at
``validate``), and at most :data:`MAX_RENDERED` characters rendered (a longer text fails
that account's record with :class:`RenderLimitError`; no single value longer than the
limit is ever concatenated).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules.errors import UpsellRulesError

FORMATS = ("int", "num", "pct", "money", "list", "text")

#: Placeholders one template may hold (a real one holds fewer than ten).
MAX_PLACEHOLDERS = 100
#: Placeholders in all the templates of one ruleset (the bundled ones hold about 60).
MAX_RULESET_PLACEHOLDERS = 2_000
#: Characters one rendered template may have (a real message has a few hundred).
MAX_RENDERED = 65_536

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}")


class TemplateError(ValueError):
    """A malformed template; ``offset`` is the 0-based character position."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class RenderLimitError(UpsellRulesError):
    """A template rendered to more than :data:`MAX_RENDERED` characters."""

    def __init__(self, length: int | None = None) -> None:
        size = f"{length:,} characters, " if length is not None else ""
        super().__init__(
            f"a message template rendered to more than {MAX_RENDERED:,} characters "
            f"({size}a limit: see docs/security.md); shorten the template or the values"
        )


def _too_long(length: int | None = None) -> None:
    raise RenderLimitError(length)


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

    def _compiled(self) -> Callable[[Mapping[str, Any]], str]:
        # Compiled on first use, not when parsed: validating a ruleset compiles nothing.
        render = compile_render(self.segments)
        object.__setattr__(self, "_render", render)
        return render

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
        render = self._render
        if render is None:
            render = self._compiled()
        return render(values)

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
                    piece = format_value(value, fmt)
                    if len(piece) > MAX_RENDERED:
                        _too_long(len(piece))
                    out.append(piece)
        text = "".join(out)
        if len(text) > MAX_RENDERED:
            _too_long(len(text))
        # A dropped part or an empty value can leave a double space: collapse all runs.
        return " ".join(text.split())


def compile_render(segments: Segments) -> Callable[[Mapping[str, Any]], str]:
    """One straight-line function that renders ``segments`` (a template's hot path).

    The source is built from the parsed segments only: literal text goes in through
    ``repr`` and placeholder names have already matched ``[A-Za-z_][A-Za-z0-9_]*``, so
    nothing a ruleset author writes is ever run. An optional part reads all its values
    first and is left out when any is missing, which is what dropping it amounts to.
    One function on purpose: it writes one generated function top to bottom, and the
    source lines it emits read in the same order as the code that emits them.
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
                lines.append(f"{indent}{var} = {shown}")
            else:
                lines.append(f"{indent}{var} = 'n/a' if {var} is None or {var} == [] else {shown}")
            # Each value is checked before it is kept, so memory stays bounded by
            # MAX_PLACEHOLDERS * MAX_RENDERED however long the values are.
            lines.append(f"{indent}if len({var}) > {MAX_RENDERED}: too_long(len({var}))")
            lines.append(f"{indent}out.append({var})")
        if optional:
            lines.append(f"{indent}pass")  # an empty part, "[]", has no other statement
    lines.append("    text = ''.join(out)")
    lines.append(f"    if len(text) > {MAX_RENDERED}: too_long(len(text))")
    # A dropped part or an empty value can leave a double space: collapse all runs.
    lines.append("    return ' '.join(text.split())")
    namespace: dict[str, Any] = {
        "__builtins__": {"type": type, "str": str, "len": len},
        "fmt": format_value,
        "too_long": _too_long,
    }
    exec(compile("\n".join(lines) + "\n", "<upsell-rules template>", "exec"), namespace)
    render: Callable[[Mapping[str, Any]], str] = namespace["render"]
    return render


def _parts(
    text: str, base: int, seen: list[int]
) -> tuple[tuple[str, str | None, bool], ...]:
    parts: list[tuple[str, str | None, bool]] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        seen[0] += 1
        if seen[0] > MAX_PLACEHOLDERS:
            raise TemplateError(
                f"more than {MAX_PLACEHOLDERS} placeholders in one template (a limit: see "
                "docs/security.md)",
                base + match.start(),
            )
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
    if len(text) > MAX_RENDERED:
        raise TemplateError(
            f"the template is longer than {MAX_RENDERED:,} characters, the most a "
            "rendered template may have (a limit: see docs/security.md)",
            MAX_RENDERED,
        )
    seen = [0]
    pos = 0
    while pos < len(text):
        open_at = text.find("[", pos)
        close_at = text.find("]", pos)
        if close_at != -1 and (open_at == -1 or close_at < open_at):
            raise TemplateError("']' without a matching '['", close_at)
        if open_at == -1:
            segments.append((False, _parts(text[pos:], pos, seen)))
            break
        if open_at > pos:
            segments.append((False, _parts(text[pos:open_at], pos, seen)))
        close_at = text.find("]", open_at)
        if close_at == -1:
            raise TemplateError("'[' without a matching ']'", open_at)
        inner = text[open_at + 1 : close_at]
        if "[" in inner:
            raise TemplateError("optional parts cannot nest", open_at + 1 + inner.index("["))
        segments.append((True, _parts(inner, open_at + 1, seen)))
        pos = close_at + 1
    return Template(text, tuple(segments))


def constants_overflow(template: Template, constants: Mapping[str, Any]) -> int | None:
    """The rendered length when the ruleset's constants alone already exceed the limit.

    Counts the literal text and every placeholder that names a constant; ``None`` when
    that stays within :data:`MAX_RENDERED` (values from the data are checked per account).
    """
    total = 0
    for _optional, parts in template.segments:
        for text, fmt, is_name in parts:
            if not is_name:
                total += len(text)
            elif constants.get(text) is not None:
                total += len(format_value(constants[text], fmt))
    return total if total > MAX_RENDERED else None


def check_names(template: Template, known: Callable[[str], bool]) -> list[str]:
    """Placeholder names in ``template`` for which ``known(name)`` is false."""
    return [name for name in template.names if not known(name)]
