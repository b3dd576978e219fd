"""Where a ``*.tests.yaml`` file may read from: its repository, or the current folder.

A test file arrives in pull requests like a ruleset; pass and fail would reveal the
values of any file it could name (``data: /etc/passwd``, ``data: ../../secrets.csv``). Its
``ruleset:`` and ``data:`` paths must resolve, symbolic links followed, inside the
repository that holds the test file (the nearest folder above it with a ``.git``) or
inside the folder the command runs in.
"""

from __future__ import annotations

import os

__all__ = ["allowed_roots", "outside_message"]


def _repository(path: str) -> str | None:
    folder = os.path.dirname(os.path.realpath(path))
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def allowed_roots(test_file: str) -> list[str]:
    """The folders a test file may read from."""
    roots = [os.path.realpath(os.getcwd())]
    repository = _repository(test_file)
    if repository is not None:
        roots.append(repository)
    return roots


def outside_message(target: str, test_file: str) -> str | None:
    """Why ``target`` may not be read by ``test_file``, or ``None`` when it may."""
    full = os.path.realpath(target)
    roots = allowed_roots(test_file)
    for root in roots:
        if os.path.commonpath([root, full]) == root:
            return None
    return (
        f"{target} is outside the repository and the current folder "
        f"({' and '.join(dict.fromkeys(roots))}); a test file reads only files inside them "
        "(run the command from a folder that holds it)"
    )
