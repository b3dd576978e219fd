"""The bundled rulesets and samples by name, from any folder.

After ``pip install`` there is no ``rulesets/`` or ``samples/`` folder next to the user,
yet the README and ``--help`` name them. A RULESET argument that is not a file but the
name of a bundled ruleset (``upsell_timing``, ``upsell_timing.yaml`` or
``rulesets/upsell_timing.yaml``) is that ruleset, unless the current folder has its own
``rulesets/upsell_timing.yaml`` (as a repository made by ``init`` does); a ``--data``
path under ``samples/`` that is not in the current folder is the bundled sample of that
name. A file in the current folder always wins, and using a bundled file says so on
stderr.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from upsell_rules.errors import closest
from upsell_rules.ruleset.bundled import BundledFileMissing, bundled_dir

_RULESETS_PROBE = "upsell_timing.yaml"
_SAMPLES_PROBE = "accounts.csv"


def bundled_ruleset_names() -> list[str]:
    """The names of the bundled rulesets (``upsell_timing``, ...)."""
    try:
        folder = bundled_dir("rulesets", _RULESETS_PROBE)
    except BundledFileMissing:
        return []
    return sorted(p.name[: -len(".yaml")] for p in folder.glob("*.yaml")
                  if not p.name.endswith(".tests.yaml"))


def bundled_ruleset(text: str) -> Path | None:
    """The bundled ruleset ``text`` names, or ``None``."""
    name = text.replace("\\", "/")
    if name.startswith("./"):
        name = name[2:]
    if name.startswith("rulesets/"):
        name = name[len("rulesets/"):]
    if "/" in name:
        return None
    if not name.endswith(".yaml"):
        name += ".yaml"
    try:
        path = bundled_dir("rulesets", _RULESETS_PROBE) / name
    except BundledFileMissing:
        return None
    return path if path.is_file() else None


def bundled_sample(text: str) -> Path | None:
    """The bundled sample ``samples/NAME`` names, or ``None``."""
    name = text.replace("\\", "/")
    if name.startswith("./"):
        name = name[2:]
    if not name.startswith("samples/"):
        return None
    rest = name[len("samples/"):]
    if not rest or ".." in rest.split("/"):
        return None
    try:
        path = bundled_dir("samples", _SAMPLES_PROBE) / rest
    except BundledFileMissing:
        return None
    return path if path.is_file() else None


def local_ruleset(text: str) -> str | None:
    """``rulesets/NAME.yaml`` in the current folder for a bare NAME, when it exists.

    A repository made by ``init`` holds its own copies of the bundled rulesets, which
    its team edits: ``upsell_timing`` there means the edited copy, not the package's.
    """
    if "/" in text or "\\" in text or not text:
        return None
    name = text if text.endswith(".yaml") else f"{text}.yaml"
    path = os.path.join("rulesets", name)
    if not os.path.isfile(path):
        return None
    if not os.environ.get("UPSELL_RULES_QUIET_BUNDLED"):
        click.echo(f"upsell-rules: using {path} from this folder", err=True)
    return path


def _note(text: str, path: Path) -> None:
    if os.environ.get("UPSELL_RULES_QUIET_BUNDLED"):
        return
    click.echo(f"upsell-rules: using the bundled {text} ({path})", err=True)


if TYPE_CHECKING:
    StrParam = click.ParamType[str]
else:  # click.ParamType is generic for the type checker only on click >= 8.2
    StrParam = click.ParamType


class RulesetPath(StrParam):
    """A ruleset file, or the name of a bundled ruleset (``upsell_timing``)."""

    name = "RULESET"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if os.path.isfile(text):
            return text
        if os.path.isdir(text):
            self.fail(f"{text!r} is a directory, not a ruleset file.", param, ctx)
        local = local_ruleset(text)
        if local is not None:
            return local
        bundled = bundled_ruleset(text)
        if bundled is not None:
            _note(f"ruleset {bundled.stem}", bundled)
            return str(bundled)
        names = ", ".join(bundled_ruleset_names())
        hint = near_file(text) or (f" (bundled rulesets, usable by name: {names})"
                                   if names else "")
        self.fail(f"{text!r} does not exist{hint}.", param, ctx)


def near_file(text: str) -> str:
    """`` (did you mean 'samples/accounts.csv'?)`` for a mistyped file name whose folder
    holds a file of a close name; else an empty string."""
    folder, name = os.path.split(text)
    try:
        names = [n for n in os.listdir(folder or ".")
                 if os.path.isfile(os.path.join(folder or ".", n))]
    except OSError:
        return ""
    # Compared without a shared extension, or '.yaml' alone would make names look close.
    stem, ext = os.path.splitext(name)
    same_ext = {os.path.splitext(n)[0]: n for n in names if os.path.splitext(n)[1] == ext}
    if same_ext:
        near_stem = closest(stem, same_ext)
        near = same_ext[near_stem] if near_stem is not None else None
    else:
        near = closest(name, names)
    return "" if near is None else f" (did you mean '{os.path.join(folder, near)}'?)"


def resolve_data_path(text: str) -> str | None:
    """``samples/NAME`` as the bundled sample when it is not in the current folder."""
    if os.path.exists(text):
        return None
    bundled = bundled_sample(text)
    if bundled is None:
        return None
    _note(f"sample {text}", bundled)
    return str(bundled)
