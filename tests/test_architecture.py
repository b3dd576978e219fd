"""The house rules: layers, no import cycles, a docstring naming each package's stage."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "upsell_rules"
STAGES = ("plugin", "expr", "ruleset", "engine", "sql", "io", "workflow", "history", "spark",
          "cli")


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(module: str) -> None:
        nonlocal counter
        index[module] = low[module] = counter
        counter += 1
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycles_not_even_behind_function_level_imports() -> None:
    # grimp sees every import statement, including those inside functions; only
    # `if TYPE_CHECKING:` imports (annotations) are left out.
    graph = grimp.build_graph("upsell_rules", exclude_type_checking_imports=True)
    assert import_cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    package = tmp_path / "loopy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from loopy import b\n")
    (package / "b.py").write_text("from loopy import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles(grimp.build_graph("loopy")) == [["loopy.a", "loopy.b"]]


def test_the_layer_contracts_hold() -> None:
    linter = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    done = subprocess.run([linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_every_stage_package_says_what_it_holds_in_its_first_line() -> None:
    for stage in STAGES:
        init = PACKAGE / stage / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring, f"{init} has no docstring"
        summary = docstring.splitlines()[0]
        assert summary.endswith("."), f"{init}: the first line says what the package holds"


def test_the_public_facade_names_resolve_and_import_lazily() -> None:
    code = (
        "import sys, upsell_rules as ur\n"
        "assert 'upsell_rules.engine.evaluate' not in sys.modules\n"
        "missing = [n for n in ur.__all__ if getattr(ur, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert sorted(set(ur.__all__) - {'__version__'}) == sorted(ur._EXPORTS)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_the_facade_example_decides_the_samples() -> None:
    from datetime import date

    import upsell_rules as ur

    registry = ur.default_registry()
    ruleset = ur.load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"), registry)
    evaluator = ur.Evaluator(ruleset, registry)
    reader = ur.AccountReader(registry, ruleset.input_types())
    summary = ur.Summary()
    decisions = list(ur.decide_all(evaluator, reader.read(str(ROOT / "samples" / "accounts.csv")),
                                   date(2026, 11, 2), summary))
    assert summary.read == summary.decided == len(decisions) == 50


def test_the_architecture_page_shows_the_layers_the_contract_enforces() -> None:
    import re
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layers = next(c["layers"] for c in config["tool"]["importlinter"]["contracts"]
                  if c["type"] == "layers")
    page = (ROOT / "docs" / "architecture.md").read_text()
    block = page.split("<!-- layers:")[1].split("<!-- /layers -->")[0]
    drawn = [m.group(1).strip()
             for m in re.finditer(r"^ (\w+(?: \| \w+)*)(?:\s{2,}|$)", block, re.M)]
    assert drawn == layers


def test_every_diagnostic_code_is_catalogued_and_documented() -> None:
    import re

    from upsell_rules.errors import DIAGNOSTIC_CODES

    used: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        used |= set(re.findall(r'"([EW]\d{3})"', path.read_text()))
    used.discard("E999")  # never raised; a test of the catalogue check uses it
    assert used <= set(DIAGNOSTIC_CODES), sorted(used - set(DIAGNOSTIC_CODES))
    for code, (summary, doc) in DIAGNOSTIC_CODES.items():
        page, _anchor = doc.split("#")
        assert summary and re.search(rf"^\| {code} \|", (ROOT / "docs" / page).read_text(), re.M), (
            f"{code} has no row in docs/{page}")


def test_an_uncatalogued_code_cannot_be_raised() -> None:
    import pytest

    from upsell_rules.errors import Diagnostic, Location

    with pytest.raises(ValueError, match="E999"):
        Diagnostic(Location("r.yaml", 1, 1), "E999", "made up")


#: Core modules over :data:`MAX_MODULE_LINES`, with why they may be.
LONG_MODULES_ALLOWED: dict[str, str] = {}

#: Core functions over :data:`MAX_FUNCTION_LINES` (``path:function``), with why they may
#: be. A reason "one function on purpose" is also written in the function's docstring.
LONG_FUNCTIONS_ALLOWED: dict[str, str] = {
    "upsell_rules/io/records.py:_coerce": "one function on purpose: the per-record hot path",
    "upsell_rules/ruleset/templates.py:compile_render": "one function on purpose: writes one "
                                                        "generated function top to bottom",
    "upsell_rules/io/synthetic.py:_account": "one function on purpose: the draws' fixed order",
    "upsell_rules/history/simulated_accounts.py:advance_month": "one function on purpose: "
                                                                "the draws' fixed order",
}

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def core_sizes(root: Path = ROOT) -> tuple[dict[str, int], dict[str, int]]:
    """Lines of every core module (all of ``upsell_rules/`` but ``cli/``) over the module
    limit, and of every function in them over the function limit."""
    modules: dict[str, int] = {}
    functions: dict[str, int] = {}
    for path in sorted((root / "upsell_rules").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("upsell_rules/cli/"):
            continue
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            modules[relative] = lines
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    functions[f"{relative}:{node.name}"] = length
    return modules, functions


def test_no_long_module_or_function_in_the_core_without_a_reason() -> None:
    modules, functions = core_sizes()
    new_modules = {m: n for m, n in modules.items() if m not in LONG_MODULES_ALLOWED}
    new_functions = {f: n for f, n in functions.items() if f not in LONG_FUNCTIONS_ALLOWED}
    assert new_modules == {}, f"split these modules (over {MAX_MODULE_LINES} lines)"
    assert new_functions == {}, (
        f"split these functions (over {MAX_FUNCTION_LINES} lines), or list them in "
        "LONG_FUNCTIONS_ALLOWED with the reason, written in the docstring too"
    )


def test_the_long_code_allow_lists_hold_nothing_stale() -> None:
    modules, functions = core_sizes()
    assert sorted(set(LONG_MODULES_ALLOWED) - set(modules)) == []
    assert sorted(set(LONG_FUNCTIONS_ALLOWED) - set(functions)) == []
    for entry, reason in LONG_FUNCTIONS_ALLOWED.items():
        if reason.startswith("one function on purpose"):
            path, name = entry.split(":")
            tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
            docs = [ast.get_docstring(node) or "" for node in ast.walk(tree)
                    if isinstance(node, ast.FunctionDef) and node.name == name]
            assert any("One function on purpose" in doc for doc in docs), entry


def test_the_size_check_finds_a_long_function_and_module_but_not_in_cli(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    source = f"def long():\n{body}\n" + "\n" * MAX_MODULE_LINES
    for folder in ("upsell_rules/engine", "upsell_rules/cli"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "big.py").write_text(source, encoding="utf-8")
    modules, functions = core_sizes(tmp_path)
    assert modules == {"upsell_rules/engine/big.py": MAX_MODULE_LINES + MAX_FUNCTION_LINES + 1}
    assert functions == {"upsell_rules/engine/big.py:long": MAX_FUNCTION_LINES + 1}
