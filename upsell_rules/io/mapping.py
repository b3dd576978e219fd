"""Column mapping and declared formats for any signal source (docs/data.md).

A mapping says "column X is field Y" and "field Y is written like this". It lives in the
ruleset's ``sources:`` section (so it is reviewed in git with the rules), optionally on
top of a shipped preset for a vendor's export::

    sources:
      csv:
        preset: salesforce_accounts      # upsell_rules/io/presets/salesforce_accounts.yaml
        columns: {"Customer Health": health_score}
        date_order: DMY                  # 06/04/2027 is 6 April
        number_format: "1.234,56"
        formats: {headcount_growth_90d: percent, seats_active_history: "list:,"}

Formats are declared, never guessed: without a declaration only the data contract's own
forms are read (ISO dates, plain numbers, ``a|b|c`` lists), and anything else reaches the
core unchanged, which reports it (``'06/04/2027' is not a date ...``). A value a declared
format cannot read is also passed on unchanged, so it is reported the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from upsell_rules.errors import InputError
from upsell_rules.plugin.types import ParamSpec

#: Date orders a source may declare; ``03/04/2026`` is read only under one of them.
DATE_ORDERS = ("YMD", "DMY", "MDY")
#: Number formats, written as an example of one thousand two hundred thirty-four and a half.
NUMBER_FORMATS = {"1234.56": ("", "."), "1,234.56": (",", "."), "1.234,56": (".", ","),
                  "1 234,56": (" ", ","), "1'234.56": ("'", ".")}
_CURRENCY = re.compile(r"^(?:[A-Z]{3}\s*)?[$€£¥]?\s*(.*?)\s*(?:[$€£¥]|\s[A-Z]{3})?$")
_DATE_PARTS = re.compile(r"^(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})"
                         r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?"
                         r"\s*(?:Z|[+-]\d{2}:?\d{2})?)?$")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")

Converter = Callable[[str], Any]

_FORMAT_WORDS = (f"{', '.join(DATE_ORDERS)}, {', '.join(repr(s) for s in NUMBER_FORMATS)}, "
                 "percent, or list:SEPARATOR (list:SEPARATOR:ORDER for dates)")


def format_problem(spec: str) -> str | None:
    """Why ``spec`` is not a per-field format (``None`` when it is one)."""
    kind, _, arg = spec.partition(":")
    if spec in DATE_ORDERS or spec in NUMBER_FORMATS or spec == "percent":
        return None
    if kind == "list" and arg and (not arg2(spec) or arg2(spec) in DATE_ORDERS):
        return None
    return f"'{spec}' is not a format (use one of {_FORMAT_WORDS}; see docs/data.md)"


def _check_formats(value: Any) -> list[tuple[str, str]]:
    return [(str(name), problem) for name, spec in value.items()
            if (problem := format_problem(str(spec))) is not None]


def _one_of(choices: Sequence[str], what: str) -> Callable[[Any], list[tuple[str, str]]]:
    def check(value: Any) -> list[tuple[str, str]]:
        if value in choices:
            return []
        return [("", f"{what} '{value}' is not one of {', '.join(repr(c) for c in choices)}")]

    return check


def check_preset(source: str | None) -> Callable[[Any], list[tuple[str, str]]]:
    """A check that a ``preset:`` is shipped and is one for ``source`` (None: the files)."""

    def check(value: Any) -> list[tuple[str, str]]:
        fitting = [n for n in preset_names() if load_preset(n).get("source") == source]
        if value in fitting:
            return []
        return [("", f"preset '{value}' is not a preset of this source (presets: "
                     f"{', '.join(fitting) or 'none'}; see docs/data.md)")]

    return check


def _check_tokens(value: Any) -> list[tuple[str, str]]:
    problems = []
    for i, token in enumerate(value):
        if not isinstance(token, str | int | float) or isinstance(token, bool):
            problems.append((str(i), f"missing_values: {token!r} is not a text token "
                                     "(write it in quotes)"))
        elif not str(token).strip():
            problems.append((str(i), "missing_values: an empty token (an empty cell is "
                                     "missing already)"))
    return problems


#: The options a source offers to take a mapping (add them to ``Source.options``).
MAPPING_OPTIONS: dict[str, ParamSpec] = {
    "preset": ParamSpec("string", description="A shipped mapping for a vendor's export "
                        "(hubspot_companies, salesforce_accounts); see docs/data.md.",
                        check=check_preset(None)),
    "columns": ParamSpec("mapping", description="Column name -> field, e.g. "
                         "{\"Health Score\": health_score}."),
    "formats": ParamSpec("mapping", description="Field -> format: YMD / DMY / MDY, a number "
                         "format such as '1,234.56', percent, or list:SEPARATOR.",
                         check=_check_formats),
    "date_order": ParamSpec("string", description="Order of day, month and year in every "
                            "date field: YMD, DMY or MDY (never guessed).",
                            check=_one_of(DATE_ORDERS, "date_order")),
    "number_format": ParamSpec("string", description="Thousands and decimal marks of every "
                               "number field, as an example: '1,234.56', '1.234,56', "
                               "'1 234,56'; currency symbols are dropped.",
                               check=_one_of(tuple(NUMBER_FORMATS), "number_format")),
    "list_separator": ParamSpec("string", description="Separator of every list field "
                                "(default |)."),
    "missing_values": ParamSpec("list", description="Cell texts that mean 'no value' in "
                                "this export ('N/A', '-', '#N/A', 'NULL'): read as missing, "
                                "without a warning, and counted in the run summary.",
                                check=_check_tokens),
}


def _date(order: str) -> Converter:
    """Text in ``order`` (any of - / . between parts, a time part dropped) to ISO text."""

    def convert(text: str) -> Any:
        match = _DATE_PARTS.match(text.strip())
        if match is None:
            return text
        a, b, c = match.groups()
        if order == "YMD":
            year, month, day = a, b, c
        elif order == "DMY":
            day, month, year = a, b, c
        else:
            month, day, year = a, b, c
        if len(year) != 4 or len(month) > 2 or len(day) > 2:
            return text
        return f"{year}-{int(month):02d}-{int(day):02d}"

    return convert


def _number(style: str) -> Converter:
    """Text with the declared thousands/decimal marks and an optional currency to plain."""
    thousands, decimal = NUMBER_FORMATS[style]
    # Spreadsheets group digits with a no-break space (French Excel: U+00A0 or the narrow
    # U+202F) where the format shows a space, and Swiss ones with a typographic apostrophe.
    same_mark = {" ": "\u00a0\u202f", "'": "\u2019"}.get(thousands, "")

    def convert(text: str) -> Any:
        body = text.strip()
        for mark in same_mark:
            body = body.replace(mark, thousands)
        match = _CURRENCY.match(body)
        if match is not None:
            body = match.group(1)
        negative = body.startswith("(") and body.endswith(")")
        if negative:
            body = body[1:-1].strip()
        if thousands:
            groups = body.lstrip("+-").split(decimal)[0].split(thousands)
            if len(groups) > 1 and (
                not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])
            ):
                return text  # 1,5 is not one thousand five hundred
            body = body.replace(thousands, "")
        if decimal != ".":
            if "." in body:
                return text
            body = body.replace(decimal, ".")
        if not _PLAIN_NUMBER.match(body):
            return text
        return f"-{body.lstrip('+')}" if negative else body

    return convert


def _percent(number: Converter) -> Converter:
    """``84%`` or ``84`` (percentage points) to the fraction 0.84."""

    def convert(text: str) -> Any:
        body = text.strip()
        if body.endswith("%"):
            body = body[:-1].strip()
        plain = number(body)
        if not isinstance(plain, str) or not _PLAIN_NUMBER.match(plain):
            return text
        return float(plain) / 100

    return convert


def _list(separator: str, item: Converter | None) -> Converter:
    """``14, 16, 19`` (the declared separator) to ``14|16|19``."""

    def convert(text: str) -> Any:
        parts = [p.strip() for p in text.split(separator)]
        if item is not None:
            parts = [str(item(p)) if p else p for p in parts]
        return "|".join(parts)

    return convert


@dataclass
class Mapping_:
    """Column renames and per-field converters for one source."""

    columns: dict[str, str] = field(default_factory=dict)
    converters: dict[str, Converter] = field(default_factory=dict)
    preset: str = ""
    #: Cell texts declared to mean "no value" (``missing_values:``), compared stripped.
    missing: frozenset[str] = frozenset()
    #: How many cells were read as missing because of them (for the run summary).
    missing_read: int = 0

    def __bool__(self) -> bool:
        return bool(self.columns or self.converters or self.missing)

    def field_for(self, column: str) -> str:
        """The field a column feeds (itself when not mapped)."""
        return self.columns.get(column, column)

    def apply(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Rename the columns and convert the declared text values of one record."""
        out: dict[str, Any] = {}
        columns, converters, missing = self.columns, self.converters, self.missing
        for key, value in values.items():
            if missing and isinstance(value, str) and value.strip() in missing:
                self.missing_read += 1
                continue
            name = columns.get(key, key)
            convert = converters.get(name)
            if convert is not None and isinstance(value, str):
                value = convert(value)
            if name in out and key not in columns:
                continue  # a mapped column wins over a same-named raw one
            out[name] = value
        return out


def preset_names() -> list[str]:
    """The presets shipped with the file sources."""
    folder = resources.files("upsell_rules.io") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_preset(name: str) -> dict[str, Any]:
    """A shipped preset (``presets/NAME.yaml``) as a mapping."""
    from ruamel.yaml import YAML

    if name not in preset_names():
        raise InputError(
            f"sources: preset '{name}' is not shipped (presets: {', '.join(preset_names())})"
        )
    text = (resources.files("upsell_rules.io") / "presets" / f"{name}.yaml").read_text("utf-8")
    data = YAML(typ="safe").load(text)
    assert isinstance(data, dict)
    return data


def mapped_columns(options: Mapping[str, Any]) -> dict[str, str]:
    """Column -> field of the source options (the preset's, then the ruleset's own)."""
    preset = str(options.get("preset") or "")
    columns: dict[str, str] = {}
    if preset:
        shipped = load_preset(preset).get("columns") or {}
        columns.update({str(k): str(v) for k, v in shipped.items()})
    columns.update({str(k): str(v) for k, v in (options.get("columns") or {}).items()})
    return columns


def build_mapping(options: Mapping[str, Any], types: Mapping[str, str]) -> Mapping_:
    """The mapping the source options declare (``preset`` first, then the ruleset's own).

    ``types`` are the field types (the data contract), so a source-wide date order
    applies to every date field and a number format to every number field. Raises
    :class:`InputError` for a format that is not one of the declared kinds.
    """
    merged: dict[str, Any] = {"columns": {}, "formats": {}, "missing_values": []}
    preset = str(options.get("preset") or "")
    layers = [load_preset(preset)] if preset else []
    if layers and "source" in layers[0]:
        layers = []  # an events or tickets preset: that source reads it (docs/data.md)
    layers.append(dict(options))
    for layer in layers:
        merged["columns"].update(layer.get("columns") or {})
        merged["formats"].update(layer.get("formats") or {})
        merged["missing_values"] += [str(t).strip() for t in layer.get("missing_values") or ()]
        for key in ("date_order", "number_format", "list_separator"):
            if layer.get(key):
                merged[key] = str(layer[key])
    order = merged.get("date_order", "")
    if order and order not in DATE_ORDERS:
        raise InputError(f"sources: date_order '{order}' is not one of {', '.join(DATE_ORDERS)}")
    style = merged.get("number_format", "")
    if style and style not in NUMBER_FORMATS:
        raise InputError(f"sources: number_format '{style}' is not one of "
                         f"{', '.join(NUMBER_FORMATS)}")
    mapping = Mapping_(columns={str(k): str(v) for k, v in merged["columns"].items()},
                       preset=preset, missing=frozenset(merged["missing_values"]))
    number = _number(style or "1234.56")
    separator = merged.get("list_separator", "")
    for name, kind in types.items():
        base = kind.removesuffix("_list")
        item: Converter | None = None
        if base == "date" and order:
            item = _date(order)
        elif base in ("number", "integer") and style:
            item = number
        if kind.endswith("_list") and (separator or item is not None):
            # The items of a list follow the declared date order and number format
            # whether or not the list's separator is declared too.
            mapping.converters[name] = _list(separator or "|", item)
        elif item is not None and not kind.endswith("_list"):
            mapping.converters[name] = item
    for name, spec in merged["formats"].items():
        mapping.converters[str(name)] = _format(str(name), str(spec), types, number)
    return mapping


def _format(name: str, spec: str, types: Mapping[str, str], number: Converter) -> Converter:
    """One per-field format: a date order, ``number``, ``percent``, or ``list:SEP``."""
    kind, _, arg = spec.partition(":")
    base = types.get(name, "string").removesuffix("_list")
    if spec in DATE_ORDERS:
        return _date(spec)
    if spec in NUMBER_FORMATS:
        return _number(spec)
    if kind == "percent":
        return _percent(number)
    if kind == "list" and arg:
        item = None
        if base == "date" and arg2(spec) in DATE_ORDERS:
            item = _date(arg2(spec))
        elif base in ("number", "integer"):
            item = number
        return _list(arg[0], item)
    raise InputError(f"sources: formats: {name}: {format_problem(spec)}")


def arg2(spec: str) -> str:
    """The item format of ``list:SEP:ORDER`` (``list:,:DMY``), or ``""``."""
    parts = spec.split(":")
    return parts[2] if len(parts) > 2 else ""
