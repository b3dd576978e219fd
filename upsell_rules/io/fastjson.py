"""JSON with orjson when it is installed, giving exactly the standard library's results.

orjson parses and serializes several times faster than :mod:`json`. It is a dependency,
but the code does not rely on it: without it everything uses :mod:`json`. Output
must stay byte-identical either way, so orjson's result is used only where the two
agree:

- :func:`dumps_compact` matches ``json.dumps(obj, ensure_ascii=False,
  separators=(",", ":"))``. The one formatting difference is a float below 1e-4, which
  json writes as ``1e-05`` or ``5.9e-08`` and orjson as ``0.00001`` or ``5.9e-8``:
  output that may hold one (``0.0000``, or a digit followed by ``e-``) is redone with
  json. Anything orjson refuses (an integer beyond 64 bits, a lone
  surrogate, a date or dataclass, which json refuses too) is also redone with json, so
  errors are json's own. Decision records hold no NaN or infinity (orjson would write
  ``null`` where json writes ``NaN``).
- :func:`loads_or_none` returns what json would return, or ``None`` when orjson does not
  accept the text (or might read a long integer as a float); the caller then decodes
  with json, which also reports any error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_orjson: Any
try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

# bytes.translate table: ASCII digits become 0, every other byte 1.
_DIGIT_BYTES = bytes(0 if 48 <= byte <= 57 else 1 for byte in range(256))
_LONG_RUN = b"\x00" * 19
# bytes.translate table: ASCII digits become "0", every other byte stays.
_DIGITS_TO_ZERO = bytes(48 if 48 <= byte <= 57 else byte for byte in range(256))

#: True when orjson is installed and used.
AVAILABLE = _orjson is not None


def _may_differ(data: bytes) -> bool:
    """True when orjson's output may hold a float json writes differently.

    Plain substring searches, not a regular expression: this runs once per decision
    record and must cost next to nothing. Digits are folded to ``0`` first, so one
    search finds a digit followed by ``e-`` (an exponent) anywhere.
    """
    return b"0.0000" in data or b"0e-" in data.translate(_DIGITS_TO_ZERO)


def _json_compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


if _orjson is not None:
    _dumps: Callable[..., bytes] = _orjson.dumps
    _loads: Callable[[str | bytes], Any] = _orjson.loads
    _OPTIONS = (
        _orjson.OPT_PASSTHROUGH_DATETIME
        | _orjson.OPT_PASSTHROUGH_DATACLASS
        | _orjson.OPT_PASSTHROUGH_SUBCLASS
    )

    def dumps_compact(obj: Any) -> str:
        """``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))``, faster."""
        try:
            data = _dumps(obj, option=_OPTIONS)
        except TypeError:
            return _json_compact(obj)
        if _may_differ(data):
            return _json_compact(obj)
        return data.decode()

    def loads_or_none(text: str) -> Any:
        """The decoded value, or ``None`` when orjson rejects ``text`` (or it is null).

        Text with a run of 19 or more digits is declined: orjson reads an integer beyond
        64 bits as a float, where json keeps it an exact int. The text goes through
        :func:`loads_bytes_or_none` (lone surrogates become bytes orjson refuses).
        """
        return loads_bytes_or_none(text.encode("utf-8", "surrogatepass"))

    def loads_bytes_or_none(data: bytes) -> Any:
        """:func:`loads_or_none` for UTF-8 bytes (``None`` also for bytes that are not UTF-8).

        The digit-run check maps every byte to digit / not digit in one C call, several
        times cheaper than a regular expression.
        """
        if _LONG_RUN in data.translate(_DIGIT_BYTES):
            return None
        try:
            return _loads(data)
        except ValueError:
            return None

else:  # pragma: no cover - depends on the environment
    dumps_compact = _json_compact

    def loads_or_none(text: str) -> Any:
        """Without orjson nothing is decoded here: the caller uses json."""
        return None

    def loads_bytes_or_none(data: bytes) -> Any:
        """Without orjson nothing is decoded here: the caller uses json."""
        return None
