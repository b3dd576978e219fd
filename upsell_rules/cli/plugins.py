"""``upsell-rules plugins``: every loaded plugin, what it provides, and load problems."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK
from upsell_rules.cli.options import text_or_json_option
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.registry import REGISTRATION_HOOKS, Registry
from upsell_rules.plugin.types import UpsellType

#: How each kind of extension is titled in the listing, in the order hooks are called.
KIND_TITLES = {
    "field": "fields",
    "source": "sources",
    "derivation": "derivations",
    "function": "functions",
    "upsell type": "upsell types",
    "engine": "engines",
    "sink": "sinks",
}


def plugins_payload(registry: Registry) -> dict[str, Any]:
    """The JSON form of the listing."""
    plugins = []
    for info in registry.info.values():
        entry = info.to_dict()
        entry["provides"] = {
            KIND_TITLES[kind].replace(" ", "_"): list(info.provides.get(kind, []))
            for _, kind, _ in REGISTRATION_HOOKS
        }
        entry["functions"] = {
            name: registry.functions[name].signature()
            for name in info.provides.get("function", [])
            if name in registry.functions
        }
        plugins.append(entry)
    return {
        "plugins": plugins,
        "left_out": [
            {"name": name, "origin": origin, "why": why}
            for name, (origin, why) in registry.failed.items()
        ],
        "disabled": list(registry.disabled),
        "problems": list(registry.problems),
        "fatal": list(registry.fatal),
    }


def _wrapped(label: str, items: list[str]) -> list[str]:
    text = ", ".join(items)
    lead = f"  {label + ':':<13} "  # a label longer than the column keeps one space
    return textwrap.wrap(
        text, width=96, initial_indent=lead, subsequent_indent=" " * len(lead),
        break_on_hyphens=False,
    ) or [lead.rstrip()]


def render_text(registry: Registry) -> str:
    """The human-readable listing."""
    out: list[str] = []
    for info in registry.info.values():
        version = f" {info.version}" if info.version else ""
        dist = f", {info.distribution}" if info.distribution else ""
        out.append(f"{info.name}{version}  ({info.origin}{dist})")
        out += _wrapped("module", [f"{info.module} ({info.path})" if info.path else info.module])
        out += _wrapped("hooks", info.hooks or ["none"])
        for _, kind, _ in REGISTRATION_HOOKS:
            names = info.provides.get(kind, [])
            if not names:
                continue
            if kind == "function":
                shown = [registry.functions[n].signature() if n in registry.functions else n
                         for n in names]
                for index, line in enumerate(shown):
                    label = KIND_TITLES[kind] if index == 0 else ""
                    out += _wrapped(label, [line]) if label else [" " * 16 + line]
                continue
            out += _wrapped(KIND_TITLES[kind], names)
            if kind == "engine":
                out += _unavailable_engines(registry, names)
        if info.overridden:
            out += _wrapped("overridden", info.overridden)
        types = [registry.upsell_types[n] for n in info.provides.get("upsell type", [])
                 if n in registry.upsell_types]
        for upsell_type in types:
            out += _upsell_type_lines(upsell_type)
        out.append("")
    for name, (origin, why) in registry.failed.items():
        out.append(f"{name}  ({origin}): LEFT OUT, nothing it provides is used")
        out += textwrap.wrap(why, width=96, initial_indent="  why:          ",
                             subsequent_indent=" " * 16, break_on_hyphens=False)
        out.append("")
    if registry.disabled:
        out.append("Disabled: " + ", ".join(registry.disabled))
    if registry.problems or registry.fatal:
        out.append("Problems:")
        left_out = {why for _origin, why in registry.failed.values()}
        out += [f"  error: {p}" for p in registry.fatal]
        out += [f"  {'error' if p in left_out else 'warning'}: {p}" for p in registry.problems]
    else:
        out.append("No load problems.")
    return "\n".join(out) + "\n"


def _unavailable_engines(registry: Registry, names: list[str]) -> list[str]:
    """A line for each of ``names`` that cannot run here, saying why."""
    lines: list[str] = []
    for name in names:
        engine = registry.engines.get(name)
        reason = engine.available() if engine is not None else None
        if reason:
            lines += _wrapped("cannot run", [f"{name}: {reason}"])
    return lines


def _upsell_type_lines(kind: UpsellType) -> list[str]:
    """The defaults an upsell type carries, one line each (only those it sets)."""
    rows = [
        ("type " + kind.name, f"{kind.title}: {kind.description}".rstrip(": ")),
        ("  window", kind.default_window),
        ("  owner", kind.default_owner),
        ("  frame", kind.frame),
        ("  opening", kind.default_opening),
        ("  trigger", kind.trigger_hint),
    ]
    out: list[str] = []
    for label, text in rows:
        if text:
            out += _wrapped(label, [text])
    return out


@click.command("plugins")
@text_or_json_option("text: one block per plugin; json: the same as one object.")
def plugins_command(fmt: str) -> None:
    """List every loaded plugin: version, where it came from (bundled entry point,
    third-party entry point, -p, --plugin file, built in), the hooks it implements and
    the fields, sources, derivations, functions, upsell types, engines and sinks it
    provides. A plugin that is broken (fails to import, registers a wrong object,
    returns a value instead of calling register, needs another upsell-rules version...)
    is listed as LEFT OUT with why, and under Problems.

    Exit status: 0 when every plugin loaded cleanly, 1 when any had a problem.
    """
    registry = default_registry()
    if fmt == "json":
        click.echo(json.dumps(plugins_payload(registry), indent=2))
    else:
        click.echo(render_text(registry), nl=False)
    raise SystemExit(EXIT_FINDINGS if registry.problems or registry.fatal else EXIT_OK)
