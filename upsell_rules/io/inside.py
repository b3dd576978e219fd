"""Whether a path under a folder stays inside it once symbolic links are followed.

A folder the tool writes into (a dbt project, a rules repository ``init --force`` fills,
a ruleset's folder) may hold links planted by whoever shared it: ``models/x.sql ->
~/.bashrc`` would make writing the model overwrite a start-up file. Every such write
checks the path first.
"""

from __future__ import annotations

import os

__all__ = ["outside_through_link", "stays_inside"]


def stays_inside(folder: str | os.PathLike[str], relative: str | os.PathLike[str]) -> bool:
    """True when ``folder/relative``, links followed (dangling ones too), is in ``folder``."""
    base = os.path.realpath(folder)
    full = os.path.realpath(os.path.join(base, relative))
    return os.path.commonpath([base, full]) == base


def outside_through_link(folder: str | os.PathLike[str],
                         relatives: list[str]) -> str | None:
    """Why writing ``relatives`` under ``folder`` is refused, or ``None`` when it is not:
    the first that a symbolic link leads out of the folder."""
    for relative in relatives:
        if not stays_inside(folder, relative):
            target = os.path.realpath(os.path.join(folder, relative))
            return (f"{relative} leads out of the folder through a symbolic link (to "
                    f"{target}); nothing was written: remove the link or choose another "
                    "folder")
    return None
