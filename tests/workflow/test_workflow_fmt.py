"""``upsell-rules fmt``: the bundled files are canonical; a messy copy comes back intact."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.workflow.support import ROOT, run
from upsell_rules.ruleset.yamlload import load_yaml
from upsell_rules.workflow.fmt import format_text

BUNDLED = sorted(p.name for p in (ROOT / "rulesets").glob("*.yaml"))


def comments(text: str) -> list[str]:
    """Every comment's text, in order (whole-line and end-of-line)."""
    return [m.group(1).strip() for m in re.finditer(r"(?:^|\s)(#.*)$", text, re.MULTILINE)]


def messy(text: str) -> str:
    """The same YAML indented differently: 3 more spaces on every indented line, trailing
    spaces after comments and keys, no final newline."""
    out = []
    for line in text.split("\n"):
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        tail = "   " if body.startswith("#") or body.endswith(":") else ""
        out.append(" " * (indent + 3 if indent else 0) + body + tail)
    return "\n".join(out).rstrip("\n")


def test_bundled_files_are_canonical(tmp_path: Path) -> None:
    check = run("fmt", "--check", *(f"rulesets/{n}" for n in BUNDLED))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == ""
    for name in BUNDLED:
        shutil.copy(ROOT / "rulesets" / name, tmp_path / name)
    result = run("fmt", *BUNDLED, cwd=tmp_path)
    assert result.returncode == 0
    for name in BUNDLED:
        assert (tmp_path / name).read_bytes() == (ROOT / "rulesets" / name).read_bytes(), name


@pytest.mark.parametrize("name", BUNDLED)
def test_reformatted_copy_is_restored_with_every_comment(tmp_path: Path, name: str) -> None:
    original = (ROOT / "rulesets" / name).read_text("utf-8")
    target = tmp_path / name
    target.write_text(messy(original), "utf-8")
    assert target.read_text("utf-8") != original
    check = run("fmt", "--check", name, cwd=tmp_path)
    assert check.returncode == 1 and check.stdout == f"would reformat {name}\n"
    assert target.read_text("utf-8") == messy(original)  # --check writes nothing
    result = run("fmt", name, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == f"reformatted {name}\n"
    restored = target.read_text("utf-8")
    assert comments(restored) == comments(original)
    assert restored == original


def test_meaning_and_key_order_are_kept() -> None:
    text = "b: 1    # one\na:\n    - {x: 1,   y: 2}\n    -   z\nc: null\nd: 'quoted'\n"
    out = format_text(text)
    assert out == "b: 1    # one\na:\n  - {x: 1, y: 2}\n  - z\nc: null\nd: 'quoted'\n"
    before, _ = load_yaml("a", text)
    after, _ = load_yaml("b", out)
    assert before is not None and after is not None and before.data == after.data


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n", "utf-8")
    result = run("fmt", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout.startswith("bad.yaml:2:1: E001 YAML syntax error")
    assert bad.read_text("utf-8") == "a: [1, 2\n"
