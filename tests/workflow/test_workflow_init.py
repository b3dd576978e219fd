"""``init``, ``schema`` and the pre-commit hooks: a new rules repository passes its own CI."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workflow.support import ROOT, run
from upsell_rules.ruleset.bundled import bundled_file
from upsell_rules.ruleset.yamlload import load_yaml

EXPECTED = {
    "rulesets/upsell_timing.yaml",
    "rulesets/upsell_timing.tests.yaml",
    "rulesets/expansion_triggers.yaml",
    "rulesets/expansion_triggers.tests.yaml",
    "samples/README.md",
    "samples/accounts.csv",
    "samples/accounts.jsonl",
    "samples/bad_accounts.csv",
    "samples/crm_accounts.csv",
    "samples/events.jsonl",
    "samples/tickets.csv",
    "samples/history/outcomes.csv",
    "samples/history/snapshots.csv",
    "samples/history/truth.json",
    "samples/history-product/outcomes.csv",
    "samples/history-product/snapshots.csv",
    "samples/history-product/truth.json",
    "requirements.txt",
    "schema/ruleset.schema.json",
    "schema/ruleset_tests.schema.json",
    "README.md",
    ".github/workflows/rules.yml",
    ".pre-commit-config.yaml",
}


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    result = run("init", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return target


def test_init_writes_a_rules_repository(repo: Path) -> None:
    written = {str(p.relative_to(repo)).replace(os.sep, "/") for p in repo.rglob("*")
               if p.is_file()}
    assert written == EXPECTED
    for name, schema in (("upsell_timing.yaml", "ruleset.schema.json"),
                         ("upsell_timing.tests.yaml", "ruleset_tests.schema.json"),
                         ("expansion_triggers.yaml", "ruleset.schema.json"),
                         ("expansion_triggers.tests.yaml", "ruleset_tests.schema.json")):
        first = (repo / "rulesets" / name).read_text("utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema=../schema/{schema}"
        assert (repo / "rulesets" / ".." / "schema" / schema).is_file()
    original = bundled_file("rulesets", "upsell_timing.yaml").read_text("utf-8")
    copied = (repo / "rulesets/upsell_timing.yaml").read_text("utf-8")
    assert copied.splitlines()[1:] == original.splitlines()[1:]


def test_init_output_passes_its_own_ci(repo: Path, tmp_path: Path) -> None:
    """Run every unconditional upsell-rules step of the generated workflow, as written."""
    workflow, findings = load_yaml(str(repo / ".github/workflows/rules.yml"))
    assert workflow is not None and not findings
    steps = workflow.data["jobs"]["check"]["steps"]
    commands = [s["run"] for s in steps
                if "run" in s and "if" not in s and s["run"].startswith("upsell-rules ")]
    assert any(c.startswith("upsell-rules validate") for c in commands)
    assert any(c.startswith("upsell-rules test") for c in commands)
    # The workflow calls the installed `upsell-rules`; point it at this interpreter.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "upsell-rules"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m upsell_rules "$@"\n', "utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    for command in commands:
        done = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    assert (repo / "ruleset-tests.xml").is_file()


def test_pre_commit_config_runs_the_same_checks(repo: Path) -> None:
    config, findings = load_yaml(str(repo / ".pre-commit-config.yaml"))
    assert config is not None and not findings
    hooks = config.data["repos"][0]["hooks"]
    ids = {h["id"] for h in hooks}
    assert {"upsell-rules-validate", "upsell-rules-test"} <= ids
    validate = next(h for h in hooks if h["id"] == "upsell-rules-validate")
    files = re.compile(validate["files"])
    assert files.search("rulesets/upsell_timing.yaml")
    assert not files.search(".github/workflows/rules.yml")


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", "utf-8")
    refused = run("init", str(target), cwd=tmp_path)
    assert refused.returncode == 2 and "is not empty" in refused.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    forced = run("init", str(target), "--force", cwd=tmp_path)
    assert forced.returncode == 0
    assert (target / "notes.txt").read_text("utf-8") == "keep me"
    assert (target / "rulesets/upsell_timing.yaml").is_file()


def test_schema_command_prints_the_shipped_schemas(tmp_path: Path) -> None:
    rules = run("schema", cwd=tmp_path)
    assert rules.returncode == 0
    shipped = json.loads((ROOT / "upsell_rules/ruleset/schema/ruleset.schema.json").read_text("utf-8"))
    assert json.loads(rules.stdout) == shipped
    tests = run("schema", "--tests", cwd=tmp_path)
    assert tests.returncode == 0
    assert json.loads(tests.stdout)["title"] == "upsell-rules ruleset tests"


def test_bundled_files_name_their_schema() -> None:
    for path in sorted((ROOT / "rulesets").glob("*.yaml")):
        first = path.read_text("utf-8").splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(.+)", first)
        assert match, path
        assert (path.parent / match.group(1)).resolve().is_file(), path


def test_test_files_match_their_schema() -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads((ROOT / "upsell_rules/ruleset/schema/ruleset_tests.schema.json")
                        .read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    for path in sorted((ROOT / "rulesets").glob("*.tests.yaml")):
        doc, _ = load_yaml(str(path))
        assert doc is not None
        assert list(Draft202012Validator(schema).iter_errors(doc.data)) == [], path


def test_project_ships_pre_commit_hooks() -> None:
    hooks_doc, findings = load_yaml(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hooks_doc is not None and not findings
    hooks = {h["id"]: h for h in hooks_doc.data}
    assert {"upsell-rules-validate", "upsell-rules-test"} <= set(hooks)
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["entry"].startswith("upsell-rules ")
        files = re.compile(hook["files"])
        assert files.search("rulesets/upsell_timing.yaml")
        assert files.search("rulesets/upsell_timing.tests.yaml")
        assert not files.search(".pre-commit-config.yaml")
    # What the hooks would run on the bundled files passes.
    staged = ["rulesets/upsell_timing.yaml", "rulesets/upsell_timing.tests.yaml"]
    for hook_id in ("upsell-rules-validate", "upsell-rules-test"):
        args = hooks[hook_id]["entry"].split()[1:]
        result = run(*args, *staged)
        assert result.returncode == 0, f"{hook_id}: {result.stdout}{result.stderr}"


def test_init_says_where_ci_installs_from_and_uses_main(tmp_path: Path) -> None:
    target = tmp_path / "rules"
    result = run("init", str(target), "--install-from", "upsell-rules @ git+https://example.org/u.git@v1",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "git init -b main" in result.stdout
    lines = (target / "requirements.txt").read_text("utf-8").splitlines()
    assert lines[-1] == "upsell-rules @ git+https://example.org/u.git@v1"
    workflow = (target / ".github/workflows/rules.yml").read_text("utf-8")
    assert "pip install -r requirements.txt" in workflow
    readme = (target / "README.md").read_text("utf-8")
    assert "pip install -r requirements.txt" in readme


def test_next_steps_go_to_the_new_folder_only_when_it_is_elsewhere(tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    steps = run("init", ".", cwd=here).stdout.split("Next steps:", 1)[1]
    assert "cd " not in steps and "git init -b main" in steps
    spaced = run("init", "my rules", cwd=tmp_path).stdout.split("Next steps:", 1)[1]
    assert "cd 'my rules'" in spaced
