"""Find the files shipped with upsell-rules: the default rulesets and the sample data.

In a source checkout (or an editable install) they live in ``rulesets/`` and
``samples/`` next to the package. A wheel copies them into ``upsell_rules/_bundled/``
(see ``force-include`` in pyproject.toml). Both places are looked at, installed copy
first, so ``upsell-rules init`` works however the tool was installed.
"""

from __future__ import annotations

from pathlib import Path

from upsell_rules.errors import UpsellRulesError

_PACKAGE = Path(__file__).resolve().parent.parent


class BundledFileMissing(UpsellRulesError):
    """A bundled file is in neither the installed package nor the source tree."""


def bundled_dir(kind: str, probe: str) -> Path:
    """The folder holding bundled ``kind`` files (``rulesets`` or ``samples``).

    ``probe`` is a file name that must be in it, so an unrelated folder of the same name
    (say, a ``rulesets/`` in site-packages) is never taken by mistake.
    """
    for base in (_PACKAGE / "_bundled", _PACKAGE.parent):
        candidate = base / kind
        if (candidate / probe).is_file():
            return candidate
    raise BundledFileMissing(
        f"the bundled {kind} folder (with {probe}) is missing from this installation; "
        "reinstall upsell-rules"
    )


def bundled_file(kind: str, name: str) -> Path:
    """The path of one bundled file, e.g. ``bundled_file("rulesets", "upsell_timing.yaml")``."""
    return bundled_dir(kind, name) / name


def schema_file(name: str) -> Path:
    """A JSON Schema file shipped inside the package (``ruleset.schema.json``, ...)."""
    return _PACKAGE / "ruleset" / "schema" / name
