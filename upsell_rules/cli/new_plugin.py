"""``upsell-rules new-plugin``: a ready plugin package to start from."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from upsell_rules import __version__
from upsell_rules.cli.exits import EXIT_OK, EXIT_USAGE, usage_error

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "upsell-rules plugin '{name}': a derived signal and an expression function."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["upsell-rules>={core_version}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# upsell-rules finds the plugin through this entry point: plugin name = module.
[project.entry-points.upsell_rules]
{name} = "{module}"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

MODULE = '''\
"""upsell-rules plugin '{name}'.

Adds the derived signal ``{name}_per_seat`` (any number divided by the licensed seats)
and the expression function ``{name}_share(part, whole)``. Replace them with your own;
docs/plugins.md in upsell-rules lists every hook you can implement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from upsell_rules.plugin.types import Derivation, DeriveFn, Function, ParamSpec
from upsell_rules.plugin.hookspecs import hookimpl

__version__ = "0.1.0"


def _build_per_seat(params: Mapping[str, Any]) -> DeriveFn:
    """Called once per ruleset load: check the parameters, return the per-account function."""
    value_name = params["value"]
    seats_name = params["seats"]

    def per_seat(signals: Mapping[str, Any], as_of: date) -> float | None:
        value = signals.get(value_name)
        seats = signals.get(seats_name)
        if value is None or not seats:
            return None  # unknown: conditions on it are false, and it is listed as missing
        return float(value) / float(seats)

    return per_seat


PER_SEAT = Derivation(
    name="{name}_per_seat",
    description="A signal divided by the licensed seats.",
    output_type="number",
    build=_build_per_seat,
    params={{
        "value": ParamSpec("signal", required=True, description="the signal to divide"),
        "seats": ParamSpec("signal", "seats_licensed", description="the seat count"),
    }},
)


def share(part: float, whole: float) -> float | None:
    """``part`` as a fraction of ``whole`` (missing when ``whole`` is 0)."""
    return None if whole == 0 else part / whole


SHARE = Function(
    name="{name}_share",
    description="part / whole, missing when whole is 0.",
    args=("number", "number"),
    arg_names=("part", "whole"),
    returns="number",
    call=share,
)


@hookimpl
def upsell_rules_derivations(register: Callable[[Derivation], None]) -> None:
    """Register the derived signals this plugin provides."""
    register(PER_SEAT)


@hookimpl
def upsell_rules_functions(register: Callable[[Function], None]) -> None:
    """Register the expression functions this plugin provides."""
    register(SHARE)
'''

TEST = '''\
"""Tests for the '{name}' plugin, with the fixtures upsell-rules ships for plugin authors."""

from __future__ import annotations

from datetime import date

import {module} as plugin
from upsell_rules.workflow.plugin_kit import minimal_ruleset

AS_OF = date(2026, 11, 2)

RULESET = minimal_ruleset(
    plugins=["{name}"],
    signals={{
        "power_users": {{"type": "integer"}},
        "seats_licensed": {{"type": "integer"}},
        "power_per_seat": {{
            "type": "number",
            "derive": "{name}_per_seat",
            "params": {{"value": "power_users"}},
        }},
    }},
    when="power_per_seat >= 0.1 and {name}_share(power_users, seats_licensed) >= 10%",
)


def test_the_plugin_loads_cleanly(upsell_registry):
    registry = upsell_registry(plugin)
    assert "{name}_per_seat" in registry.derivations
    assert "{name}_share" in registry.functions


def test_the_derivation_computes_per_seat():
    fn = plugin.PER_SEAT.build({{"value": "power_users", "seats": "seats_licensed"}})
    assert fn({{"power_users": 3, "seats_licensed": 30}}, AS_OF) == 0.1
    assert fn({{"power_users": 3}}, AS_OF) is None


def test_a_ruleset_decides_with_the_plugin(upsell_registry, upsell_evaluate,
                                           upsell_assert_decision):
    registry = upsell_registry(plugin)
    decisions = upsell_evaluate(
        RULESET,
        [
            {{"account_id": "A-1", "power_users": 4, "seats_licensed": 20}},
            {{"account_id": "A-2", "power_users": 1, "seats_licensed": 20}},
            {{"account_id": "A-3", "power_users": 4}},
        ],
        as_of=AS_OF,
        registry=registry,
    )
    upsell_assert_decision(decisions[0], band="act_now", fired=["fires"])
    upsell_assert_decision(decisions[1], band="wait", not_fired=["fires"])
    upsell_assert_decision(decisions[2], band="wait", missing_signals=["seats_licensed"])
'''

README = """\
# {dist}

An [upsell-rules](https://pypi.org/project/upsell-rules/) plugin. It registers itself
through the `upsell_rules` entry point as **`{name}`**, so once installed every
`upsell-rules` command picks it up; a ruleset that relies on it can say so with
`plugins: [{name}]`.

```console
$ pip install -e '.[test]'
$ upsell-rules plugins          # '{name}' is listed with what it provides
$ pytest                        # the tests use upsell-rules' plugin fixtures
```

To try it without installing: `upsell-rules -p {module} validate my_ruleset.yaml`
(with `src` on `PYTHONPATH`).
"""


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Create the plugin's folder inside this folder.",
)
def new_plugin_command(name: str, directory: str) -> None:
    """Create a plugin package called NAME, ready to install and test.

    NAME is the plugin's entry-point name (lower case, digits, underscores). The folder
    upsell-rules-NAME holds a pyproject.toml with the entry point, a module with a
    derived signal and an expression function, a test using the upsell-rules plugin
    fixtures, and a README. Its tests pass as created: pip install -e '.[test]' in it,
    then run pytest.
    """
    if not _NAME.match(name):
        click.echo(
            f"upsell-rules: error: plugin name {name!r} must be lower case letters, digits "
            "and underscores, starting with a letter (it becomes a Python module name)",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)
    dist = f"upsell-rules-{name.replace('_', '-')}"
    module = f"upsell_rules_{name}"
    root = Path(directory) / dist
    if os.path.lexists(root):  # a dangling link too: writing would follow it
        usage_error(f"{root} already exists; not overwriting it")
    values = {"name": name, "dist": dist, "module": module, "core_version": __version__}
    files = {
        root / "pyproject.toml": PYPROJECT.format(**values),
        root / "README.md": README.format(**values),
        root / "src" / module / "__init__.py": MODULE.format(**values),
        root / "src" / module / "py.typed": "",
        root / "tests" / f"test_{name}.py": TEST.format(**values),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(f"created {path}")
    click.echo(
        f"\nNext: cd {root} && pip install -e '.[test]' && pytest\n"
        f"Then 'upsell-rules plugins' lists '{name}'.",
    )
    raise SystemExit(EXIT_OK)
