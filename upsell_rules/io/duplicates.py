"""Finding a second record with an ``account_id`` already read, in little memory per id."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

from upsell_rules.errors import Location, RecordError


def duplicate_error(location: Location, account_id: str, first: Location) -> RecordError:
    """The error for a record whose ``account_id`` an earlier record (at ``first``) has.

    The first is named by its line in the same file, by its whole location in another
    (another file, another Spark partition).
    """
    where = f"line {first.line}" if first.path == location.path else str(first)
    return RecordError(
        location,
        f"duplicate account_id {account_id!r} (first at {where})",
        field="account_id",
        value=account_id,
        account_id=account_id,
    )


class FirstSeen(MutableMapping[str, Location]):
    """Account id -> where it was first seen, in less memory than a dict of locations.

    Reporting duplicates means remembering every id of a file, so this is the one thing
    that grows with the input while records stream. Keeping one int per id (line and
    column packed) instead of a :class:`Location` object cuts it by about a third, to
    about 150 bytes per account. Locations from another file than the first are kept as
    they are.
    """

    _COL = 1 << 32

    def __init__(self) -> None:
        self._path: str | None = None
        self._packed: dict[str, int] = {}
        self._other: dict[str, Location] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._packed or key in self._other

    def __getitem__(self, key: str) -> Location:
        packed = self._packed.get(key)
        if packed is None or self._path is None:
            return self._other[key]
        line, col = divmod(packed, self._COL)
        return Location(self._path, line, col)

    def __setitem__(self, key: str, value: Location) -> None:
        if self._path is None:
            self._path = value.path
        if value.path == self._path and value.line >= 0 and 0 <= value.col < self._COL:
            self._packed[key] = value.line * self._COL + value.col
            self._other.pop(key, None)
        else:
            self._other[key] = value
            self._packed.pop(key, None)

    def __delitem__(self, key: str) -> None:
        if key in self._packed:
            del self._packed[key]
        else:
            del self._other[key]

    def __iter__(self) -> Iterator[str]:
        yield from self._packed
        yield from self._other

    def __len__(self) -> int:
        return len(self._packed) + len(self._other)
