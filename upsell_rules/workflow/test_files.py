"""Finding ruleset test files: in folders, given by name, or beside a ruleset they name."""

from __future__ import annotations

import os
from collections.abc import Iterable

from upsell_rules.errors import UpsellRulesError
from upsell_rules.ruleset.yamlload import load_yaml

#: File names that mark a ruleset test file.
TEST_SUFFIXES = (".tests.yaml", ".tests.yml")


class TestFileError(UpsellRulesError):
    """A path given to the test runner that is not a test file, a ruleset or a folder."""


def is_test_file(path: str) -> bool:
    """True for ``*.tests.yaml`` / ``*.tests.yml``."""
    return path.endswith(TEST_SUFFIXES)


def tests_for_ruleset(ruleset_path: str) -> list[str]:
    """Test files in the ruleset's folder whose ``ruleset:`` names that ruleset."""
    folder = os.path.dirname(ruleset_path) or "."
    target = os.path.abspath(ruleset_path)
    found = []
    for name in sorted(os.listdir(folder)):
        candidate = os.path.join(folder, name)
        if not is_test_file(name) or not os.path.isfile(candidate):
            continue
        doc, _ = load_yaml(candidate)
        named = doc.data.get("ruleset") if doc is not None and isinstance(doc.data, dict) else None
        if isinstance(named, str) and os.path.abspath(os.path.join(folder, named)) == target:
            found.append(candidate)
    return found


def discover(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """Test files to run for ``paths``, and notes about paths that hold none.

    A folder is searched recursively for ``*.tests.yaml``; a test file is taken as it
    is; any other file is treated as a ruleset and stands for the test files beside it
    that name it (what a pre-commit hook passes when a ruleset changes).
    """
    files: list[str] = []
    notes: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            inside = sorted(
                os.path.join(root, name)
                for root, _dirs, names in os.walk(path)
                for name in names
                if is_test_file(name)
            )
            if not inside:
                notes.append(f"{path}: no ruleset test files (*.tests.yaml) in this folder")
            files.extend(inside)
        elif not os.path.exists(path):
            raise TestFileError(f"{path}: no such file or folder")
        elif is_test_file(path):
            files.append(path)
        else:
            beside = tests_for_ruleset(path)
            if not beside:
                notes.append(f"{path}: no test file names this ruleset")
            files.extend(beside)
    unique = list(dict.fromkeys(os.path.normpath(f) for f in files))
    return unique, notes
