"""Reading an input file as text, with errors that name the file and the place."""

from __future__ import annotations

from upsell_rules.errors import InputError


def read_text(path: str) -> str:
    """Return the whole file decoded as UTF-8 (a leading byte-order mark is dropped).

    Raises :class:`InputError` naming the file when it cannot be opened, and naming the
    line when it is not UTF-8.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a data file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            "export the file as UTF-8"
        ) from None


class LineTracker:
    """Turns character offsets into 1-based (line, column) pairs.

    Offsets are usually asked for in increasing order, so it counts newlines only
    between the previous offset and the new one, keeping a whole file linear.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._offset = 0
        self._line = 1
        self._line_start = 0

    def at(self, offset: int) -> tuple[int, int]:
        """The (line, column) of ``offset``, both counted from 1."""
        if offset < self._offset:
            self._offset, self._line, self._line_start = 0, 1, 0
        newlines = self._text.count("\n", self._offset, offset)
        if newlines:
            self._line += newlines
            self._line_start = self._text.rfind("\n", self._offset, offset) + 1
        self._offset = offset
        return self._line, offset - self._line_start + 1
