"""JSON with orjson when it is installed, giving exactly the standard library's results.

orjson parses and serializes several times faster than :mod:`json`. It is optional
(``pip install 'upsell-rules[fast]'``); without it everything uses :mod:`json`. Output
must stay byte-identical either way, so orjson's result is used only where the two
agree:

- :func:`dumps_compact` matches ``json.dumps(obj, ensure_ascii=False,
  separators=(",", ":"))``. The one formatting difference is a float below 1e-4, which
  json writes as ``1e-05`` and orjson as ``0.00001``: output containing ``0.0000`` is
  redone with json. Anything orjson refuses (an integer beyond 64 bits, a lone
  surrogate, a date or dataclass, which json refuses too) is also redone with json, so
  errors are json's own. Decision records hold no NaN or infinity (orjson would write
  ``null`` where json writes ``NaN``).
- :func:`loads_or_none` returns what json would return, or ``None`` when orjson does not
  accept the text; the caller then decodes with json, which reports the error.
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

#: True when orjson is installed and used.
AVAILABLE = _orjson is not None


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
        if b"0.0000" in data:
            return _json_compact(obj)
        return data.decode()

    def loads_or_none(text: str) -> Any:
        """The decoded value, or ``None`` when orjson rejects ``text`` (or it is null)."""
        try:
            return _loads(text)
        except ValueError:
            return None

else:  # pragma: no cover - depends on the environment
    dumps_compact = _json_compact

    def loads_or_none(text: str) -> Any:
        """Without orjson nothing is decoded here: the caller uses json."""
        return None
