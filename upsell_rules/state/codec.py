"""Compact, exact encodings for what the store keeps: account inputs and decisions.

An account's typed values (numbers, text, booleans, dates, lists of them) are kept as
canonical JSON with dates tagged (``{"d": "2026-11-02"}``), compressed with zlib and
addressed by their sha256, so an account whose inputs did not change between two runs
costs one row, not two. Decoding gives back values equal to the originals, which is
what lets ``replay`` decide a logged run again byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import date
from typing import Any

from upsell_rules.io.fastjson import dumps_compact


def _encode(value: Any) -> Any:
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        return date.fromisoformat(value["d"])
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def encode_account(account_id: str, account_name: str, owner: str,
                   values: dict[str, Any]) -> tuple[str, bytes]:
    """``(sha256, compressed body)`` of one account's identity and typed values."""
    body = canonical({
        "id": account_id, "name": account_name, "owner": owner,
        "values": {name: _encode(value) for name, value in values.items()},
    })
    # Level 1: most of the saving at a fraction of the time (a run packs every account).
    return hashlib.sha256(body).hexdigest(), zlib.compress(body, 1)


def decode_account(blob: bytes) -> dict[str, Any]:
    """The mapping :func:`encode_account` stored (``id``, ``name``, ``owner``, ``values``)."""
    data: dict[str, Any] = json.loads(zlib.decompress(blob))
    data["values"] = {name: _decode(value) for name, value in data["values"].items()}
    return data


def pack(value: Any) -> bytes:
    """Compressed canonical JSON (outbox payloads, ruleset text)."""
    # Not digested, so key order does not matter: the fast encoder will do.
    return zlib.compress(dumps_compact(value).encode("utf-8"), 1)


def unpack(blob: bytes) -> Any:
    """The value :func:`pack` stored."""
    return json.loads(zlib.decompress(blob))


def digest(value: Any) -> str:
    """sha256 of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical(value)).hexdigest()
