"""Dotted paths into a loaded ruleset, the way RevOps people name its parts.

``bands.act_now.min``, ``constants.health_floor``, ``gates.health_floor.severity``:
mapping keys are written as they are, and an item of a list is named by its ``id``
(or, for lists whose items have no id, by its position counted from 0). What-if
overrides (``--set``) and ruleset diffs share this notation, so what ``diff`` reports
can be pasted back into ``--set``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upsell_rules.errors import did_you_mean
from upsell_rules.ruleset.yamlload import Path


class PathError(ValueError):
    """A dotted path that does not lead anywhere in the document."""


@dataclass(frozen=True)
class Resolved:
    """Where a dotted path leads: the container, the key in it, and the concrete path.

    ``key`` is a mapping key (str) or a list index (int). ``exists`` is False when the
    last key is not in the mapping yet.
    """

    container: dict[str, Any] | list[Any]
    key: str | int
    path: Path
    exists: bool


def split_path(text: str) -> tuple[str, ...]:
    """``"bands.act_now.min"`` as its parts; empty parts are an error."""
    parts = tuple(text.strip().split("."))
    if not text.strip() or any(not part for part in parts):
        raise PathError(f"'{text}' is not a path (write it like bands.act_now.min)")
    return parts


def dotted(path: Path, data: Any) -> str:
    """A concrete path as dotted text, naming list items by id where they have one."""
    out: list[str] = []
    node = data
    for part in path:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            item = node[part]
            rid = item.get("id") if isinstance(item, dict) else None
            out.append(rid if isinstance(rid, str) else str(part))
            node = item
        else:
            out.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(out)


def list_index(items: list[Any], part: str) -> int | None:
    """The index of the item whose id is ``part`` (or of position ``part``), else None."""
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == part:
            return index
    if part.isdigit() and int(part) < len(items):
        return int(part)
    return None


def _names(items: list[Any]) -> list[str]:
    return [str(i["id"]) for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]


def resolve(data: Any, parts: tuple[str, ...]) -> Resolved:
    """Follow ``parts`` through ``data``; raise :class:`PathError` with a hint if lost.

    Every part but the last must exist. The last may be missing from a mapping (the
    caller decides whether a new key is acceptable).
    """
    node = data
    concrete: list[str | int] = []
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        where = ".".join(parts[:position]) or "the top level"
        if isinstance(node, dict):
            if part not in node and not last:
                hint = did_you_mean(part, list(node))
                raise PathError(f"{where} has no '{part}'{hint}")
            concrete.append(part)
            if last:
                return Resolved(node, part, tuple(concrete), part in node)
            node = node[part]
        elif isinstance(node, list):
            index = list_index(node, part)
            if index is None:
                names = _names(node)
                hint = did_you_mean(part, names)
                known = f" (ids: {', '.join(names)})" if names and not hint else ""
                raise PathError(f"{where} has no item '{part}'{hint}{known}")
            concrete.append(index)
            if last:
                return Resolved(node, index, tuple(concrete), True)
            node = node[index]
        else:
            raise PathError(f"{where} is a single value ({node!r}); it has no '{part}'")
    raise PathError("empty path")
