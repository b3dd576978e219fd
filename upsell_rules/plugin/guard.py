"""One rule for plugin code that misbehaves while a run is under way.

Whatever a plugin's code does at a hook (raise, return the wrong type, yield the wrong
thing), the failure becomes one line naming the plugin, the object or hook, the account
where it applies, and the error. This module holds the pieces the core wraps around
each place it calls plugin code:

- :func:`guard_source`: a source's records, checked one by one; a source that breaks
  part-way keeps what it already read and reports where it stopped;
- :func:`frozen_view`: the signals as plugin code sees them, lists included read-only;
- :func:`value_fits`: whether a value a derivation or function returned has the type it
  declared;
- :func:`blame`: which plugin an arbitrary exception came from (the innermost frame of
  the traceback that lies in a plugin's module), so the core can name it.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from upsell_rules.errors import InputError, Location, PluginError, PluginTimeout, RecordError
from upsell_rules.plugin.locating import failure_text
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import RawRecord
from upsell_rules.plugin.watchdog import PROGRESS

#: Python types a non-missing value of each signal type may have.
_SCALARS: dict[str, tuple[type, ...]] = {
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "string": (str,),
    "date": (date,),
}


def value_fits(value: Any, kind: str) -> bool:
    """True when ``value`` (not ``None``) is a value of signal type ``kind``.

    ``bool`` is not a number, a ``datetime`` is not a date, and a list's items must
    all have the element type (``number_list`` accepts integers, as ``number`` does).
    """
    if kind.endswith("_list"):
        if not isinstance(value, list | tuple):
            return False
        element = kind[: -len("_list")]
        return all(item is not None and value_fits(item, element) for item in value)
    allowed = _SCALARS.get(kind)
    if allowed is None:
        return True
    if isinstance(value, bool) and kind != "boolean":
        return False
    if isinstance(value, datetime):
        return False
    return isinstance(value, allowed)


#: The exact Python types a value of each scalar signal type usually has: checking
#: ``type(v) in EXACT[kind]`` costs one set lookup; :func:`value_fits` decides the rest
#: (subclasses, lists).
EXACT: dict[str, frozenset[type]] = {
    "number": frozenset({int, float}),
    "integer": frozenset({int}),
    "boolean": frozenset({bool}),
    "string": frozenset({str}),
    "date": frozenset({date}),
}
_CONTAINERS = frozenset({list, tuple})


def quick_fits(kind: str) -> Callable[[Any], bool]:
    """A fast check that a (not ``None``) value has type ``kind``: exact types first,
    :func:`value_fits` only for the unusual ones. Lists check their items' types in C
    (``set(map(type, v))``)."""
    if kind.endswith("_list"):
        items = EXACT.get(kind[: -len("_list")], frozenset())

        def fits_list(value: Any) -> bool:
            if type(value) in _CONTAINERS and set(map(type, value)) <= items:
                return True
            return value_fits(value, kind)

        return fits_list
    exact = EXACT.get(kind, frozenset())

    def fits(value: Any) -> bool:
        return type(value) in exact or value_fits(value, kind)

    return fits


def frozen_view(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of ``values`` for plugin code, its lists as tuples: code that
    writes a signal or appends to (sorts, clears) a list raises instead of changing
    what the rules read."""
    return MappingProxyType({k: tuple(v) if type(v) is list else v for k, v in values.items()})


def describe_value(value: Any) -> str:
    """``'12' (str)``: a short form of a value and its Python type, for messages."""
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({type(value).__name__})"


def blame(exc: BaseException, registry: Registry | None) -> str | None:
    """``plugin 'x' (at module:line, in function)`` for the innermost traceback frame
    that lies in a plugin's module, or ``None`` when no plugin code is involved."""
    if registry is None:
        return None
    from upsell_rules.plugin.watchdog import plugin_packages

    packages = plugin_packages(registry)
    found: str | None = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        module = frame.f_globals.get("__name__")
        owner = _owner(module, packages) if isinstance(module, str) else None
        if owner is not None:
            found = f"plugin '{owner}' (at {module}:{line}, in {frame.f_code.co_name})"
    return found


def _owner(module: str, packages: Mapping[str, str]) -> str | None:
    while module:
        if module in packages:
            return packages[module]
        module = module.rpartition(".")[0]
    return None


def guard_source(
    items: Iterable[Any],
    *,
    source: str,
    plugin: str,
    spec: str,
    start: Callable[[], Iterable[Any]] | None = None,
) -> Iterator[RawRecord | RecordError]:
    """A source's records, each checked, with the source's failures made records.

    ``items`` is what ``read`` returned (or, with ``start``, ``start()`` is called here
    so an exception raised before the first record is caught too). Anything that is
    not a :class:`RawRecord` or :class:`RecordError` becomes a record error naming the
    plugin and what it yielded. An exception stops the reading: the records already
    read stay, and one error says where the source stopped (after which record) and why.
    An exception before the first record raises :class:`PluginError` (nothing could be
    read: the run cannot be done); an :class:`InputError` passes through unchanged.
    """
    label = f"source '{source}' (plugin '{plugin}')"
    count = 0
    last: Location | None = None
    try:
        iterator = iter(start() if start is not None else items)
        progress = PROGRESS  # the command-wide watchdog's counter: one step per item
        for item in iterator:
            count += 1
            progress[0] += 1
            good = isinstance(item, RecordError) or (
                isinstance(item, RawRecord) and isinstance(item.location, Location)
            )
            if good:
                last = item.location
                yield item
            else:
                # Each wrong item is a failed record of its own (counted, not merged).
                account = item.get("account_id") if isinstance(item, Mapping) else None
                yield RecordError(
                    Location(f"{spec} (item {count})"),
                    f"{label} yielded a {type(item).__name__}, not a RawRecord or "
                    "RecordError; record left out",
                    account_id=str(account) if isinstance(account, str | int) else "",
                )
    except InputError:
        raise  # the input as a whole cannot be read: said by the source on purpose
    except (Exception, PluginTimeout) as exc:  # a plugin bug costs what it touches
        why = str(exc) if isinstance(exc, PluginError | PluginTimeout) else failure_text(exc)
        if count == 0:
            # Nothing read at all: the run cannot be done.
            if isinstance(exc, PluginTimeout):
                raise
            raise PluginError(f"{label} failed reading {spec}: {why}") from exc
        yield _stopped(label, spec, count, last, why)


def _stopped(label: str, spec: str, count: int, last: Location | None, why: str) -> RecordError:
    where: Location = last if last is not None else Location(spec, 0, 0)
    after = f"after {count} item(s)" + (f" (the last at {last})" if last else "")
    # The line after the last record: a place of its own, counted as one failure.
    if where.line:
        where = Location(where.path, where.line + 1, 0)
    return RecordError(
        where,
        f"{label} stopped reading {spec} {after}: {why}; the records read before it are "
        "kept, the rest of the input was not read",
    )


__all__ = [
    "EXACT", "blame", "describe_value", "failure_text", "frozen_view", "guard_source", "quick_fits",
    "value_fits",
]
