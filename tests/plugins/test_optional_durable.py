"""Issue 12, item 20: durable-rules (no release since 2020) stays optional and isolated.

Only the durable engine plugin imports it, and only when that engine is chosen: a run
with any other engine never loads it, so an unmaintained C extension is not on the path
of ordinary runs.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_durable_plugin_imports_durable() -> None:
    offenders = []
    for folder in ("upsell_rules", "plugins", "fuzz", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if "upsell_rules_durable" in path.parts:
                continue
            if imports_of(path) & {"durable", "durable_rules_engine"}:
                offenders.append(str(path.relative_to(ROOT)))
    # bench/ measures durable-rules as a peer; everything else must not touch it.
    assert [p for p in offenders if not p.startswith("bench/")] == []


def test_durable_is_not_a_required_dependency() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    required = text.split("[project.optional-dependencies]")[0]
    assert "durable" not in required.split("dependencies = [", 1)[1].split("]", 1)[0]


def test_an_ordinary_run_never_loads_durable() -> None:
    code = (
        "import sys\n"
        "from upsell_rules.cli.main import main\n"
        "sys.argv = ['upsell-rules', 'dry-run', 'rulesets/upsell_timing.yaml', '--data',\n"
        "            'samples/accounts.csv', '--as-of', '2026-11-02', '--format', 'jsonl']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    loaded = sorted(m for m in sys.modules if m.split('.')[0] in\n"
        "                    ('durable', 'durable_rules_engine'))\n"
        "    sys.stderr.write(f'EXIT {exc.code} LOADED {loaded}\\n')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert "EXIT 0 LOADED []" in result.stderr, result.stderr[-500:]
