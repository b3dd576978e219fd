"""Make the core and the first-party plugins importable when the project is not installed.

``pip install -e .`` exposes ``plugins/*`` as top-level packages; this only matters for a
checkout that has not been installed, and does nothing otherwise.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]

if importlib.util.find_spec("upsell_rules") is None:
    sys.path.insert(0, str(_ROOT))
if importlib.util.find_spec("upsell_rules_files") is None:
    sys.path.insert(0, str(_ROOT / "plugins"))
