"""Render decision records: JSON, JSON Lines, CSV and the queue table.

JSON and the table are faithful: every value as it is. CSV is opened in spreadsheets,
which run a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a line break as a
formula, so every *text* cell starting that way gets a leading ``'`` (the OWASP advice
against CSV injection); numbers (scores, caps) are written as numbers and never changed.

With ``dry-run --errors include`` a record that could not be read appears in the output
as an error row (:func:`error_record`) instead of only on stderr, so that every input
account is accounted for.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from upsell_rules.errors import RecordError
from upsell_rules.io.direct_write import descriptor, write_buffers
from upsell_rules.io.fastjson import dumps_compact
from upsell_rules.safetext import printable

FORMATS = ("table", "json", "jsonl", "csv")

CSV_LEAD = ("account_id", "account_name", "owner", "as_of", "score", "raw_score", "band",
            "blocked", "capped_at")
CSV_TAIL = (
    "upsell_types",
    "triggers",
    "failed_gates",
    "red_flags",
    "play",
    "play_title",
    "action_owner",
    "window",
    "frame",
    "prepare",
    "narrative",
    "missing_signals",
)


#: Error columns of a CSV that includes failed records.
CSV_ERRORS = ("error_location", "error_field", "error_value", "error_message")

#: How a cell that a spreadsheet would run as a formula starts: the OWASP list, a line
#: feed, and the full-width forms some spreadsheets fold to ASCII.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> Any:
    """``value`` for a CSV cell: text that starts like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class CsvRowWriter:
    """A ``csv.DictWriter`` with ``\n`` line ends that also quotes cells holding ``\r``.

    The csv module quotes a cell only for the characters of its own line terminator, so
    with ``\n`` a lone carriage return went out bare. Spreadsheets end a row there: the
    rest of the cell became a new row whose first cell nothing had neutralised. Rows
    holding a carriage return are written with a ``\r\n`` terminator (which quotes the
    cell) and that terminator is then replaced by ``\n``; every other row is unchanged.
    """

    def __init__(self, out: TextIO, columns: Sequence[str]) -> None:
        self._out = out
        self._plain = csv.DictWriter(out, fieldnames=columns, lineterminator="\n",
                                     extrasaction="ignore")
        self._buffer = io.StringIO()
        self._quoting = csv.DictWriter(self._buffer, fieldnames=columns,
                                       lineterminator="\r\n", extrasaction="ignore")

    def writeheader(self) -> None:
        """The header row (column names come from the ruleset, never from data)."""
        self._plain.writeheader()

    def writerow(self, row: Mapping[str, Any]) -> None:
        """One row; a cell holding ``\r`` is quoted."""
        if not any(type(value) is str and "\r" in value for value in row.values()):
            self._plain.writerow(row)
            return
        self._buffer.seek(0)
        self._buffer.truncate()
        self._quoting.writerow(row)
        self._out.write(self._buffer.getvalue()[:-2] + "\n")


def error_record(errors: Sequence[RecordError]) -> dict[str, Any]:
    """The output row of one record that could not be read or decided.

    ``errors`` are all the problems of that one record (usually one). The row holds the
    ``account_id`` (``None`` when it is unknown), the first problem under ``error``
    (``location``, ``account_id``, ``field``, ``value``, ``message``) and every problem
    under ``errors``.
    """
    problems = [e.to_dict() for e in errors]
    account_id = next((e.account_id for e in errors if e.account_id), "")
    return {"account_id": account_id or None, "error": problems[0], "errors": problems}


def is_error_record(item: dict[str, Any]) -> bool:
    """True for a row made by :func:`error_record`."""
    return "error" in item


def _cell_number(value: Any) -> Any:
    """Whole numbers without a trailing .0 (85, not 85.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True, slots=True)
class EncodedDecision:
    """A decision a worker process already wrote as compact JSON, with its band.

    With ``dry-run --jobs N --format jsonl`` the text goes to the output as it is: the
    parent never decodes and re-encodes it, which would cost it more than the workers
    save. Only :func:`write_jsonl` and the run's counters see these.
    """

    text: str
    band: str
    account_id: str


@dataclass(slots=True)
class EncodedBatch:
    """Consecutive decisions DuckDB wrote as compact JSON lines (clean data: none holds
    ``data_warnings``), with their bands, passed on as one item: one object per account
    would cost more than writing its line. Each line is UTF-8 bytes ending in its
    newline, written out as it is where the output allows (``io/direct_write.py``).
    Only :func:`write_jsonl` and the run's counters see these."""

    lines: Sequence[bytes]
    bands: Sequence[str]


def to_json(decision: dict[str, Any]) -> str:
    """One decision as compact, key-order-stable JSON (orjson when installed)."""
    return dumps_compact(decision)


#: Lines :func:`write_jsonl` writes at once (one call per line costs more than the text).
WRITE_LINES = 256


def write_jsonl(decisions: Iterable[dict[str, Any] | EncodedDecision | EncodedBatch],
                out: TextIO) -> None:
    """One JSON object per line, streamed (a few hundred lines at a time)."""
    write = out.write
    pending: list[str] = []
    fd = descriptor(out)

    def flush() -> None:
        pending.append("")
        write("\n".join(pending))
        pending.clear()

    for decision in decisions:
        if type(decision) is EncodedBatch:
            if pending:
                flush()
            lines = decision.lines
            if fd is not None:
                out.flush()
                write_buffers(fd, lines)
                continue
            # A whole batch joined at once would be megabytes of text: the C library
            # maps blocks that large afresh from the system each time, and every page
            # faults. WRITE_LINES at a time reuse the same memory.
            for start in range(0, len(lines), WRITE_LINES):
                write(b"".join(lines[start:start + WRITE_LINES]).decode("utf-8"))
            continue
        pending.append(decision.text if type(decision) is EncodedDecision
                       else to_json(decision))  # type: ignore[arg-type]
        if len(pending) >= WRITE_LINES:
            flush()
    if pending:
        flush()


def write_json(decisions: Iterable[dict[str, Any]], out: TextIO) -> None:
    """A JSON array, one object per account, streamed element by element."""
    out.write("[")
    first = True
    for decision in decisions:
        out.write("\n  " if first else ",\n  ")
        out.write(json.dumps(decision, ensure_ascii=False))
        first = False
    out.write("\n]\n" if not first else "]\n")


def csv_columns(first: dict[str, Any]) -> list[str]:
    """CSV header: fixed columns around one column per scoring category."""
    return [*CSV_LEAD, *first.get("category_scores", {}), *CSV_TAIL]


def csv_row(decision: dict[str, Any]) -> dict[str, Any]:
    """Flatten a decision (or an error row) into CSV cells, safe for spreadsheets.

    Lists are joined with ``|``; every text cell goes through :func:`safe_cell`.
    """
    if is_error_record(decision):
        return {k: safe_cell(v) for k, v in _error_cells(decision).items()}
    return {k: safe_cell(v) for k, v in _decision_cells(decision).items()}


def _error_cells(row: dict[str, Any]) -> dict[str, Any]:
    first = row["error"]
    messages = [
        f"{e['field']}: {e['message']}" if e.get("field") else str(e["message"])
        for e in row.get("errors") or [first]
    ]
    return {
        "account_id": row.get("account_id") or "",
        "error_location": first.get("location") or "",
        "error_field": first.get("field") or "",
        "error_value": first.get("value") or "",
        "error_message": "; ".join(messages),
    }


def _decision_cells(decision: dict[str, Any]) -> dict[str, Any]:
    action = decision.get("action", {})
    row: dict[str, Any] = {
        "account_id": decision["account_id"],
        "account_name": decision["account_name"],
        "owner": decision["owner"],
        "as_of": decision.get("as_of", ""),
        "score": _cell_number(decision["score"]),
        "raw_score": _cell_number(decision.get("raw_score", decision["score"])),
        "band": decision["band"],
        "blocked": "true" if decision["blocked"] else "false",
        "capped_at": "" if decision["capped_at"] is None else _cell_number(decision["capped_at"]),
    }
    for name, value in decision.get("category_scores", {}).items():
        row[name] = _cell_number(value)
    row.update(
        {
            "upsell_types": "|".join(decision["upsell_types"]),
            "triggers": "|".join(t["id"] for t in decision["triggers"]),
            "failed_gates": "|".join(g["id"] for g in decision["gates"] if not g["passed"]),
            "red_flags": "|".join(f["id"] for f in decision["red_flags"]),
            "play": action.get("play", ""),
            "play_title": action.get("title", ""),
            "action_owner": action.get("owner", ""),
            "window": action.get("window", ""),
            "frame": action.get("frame", ""),
            "prepare": "|".join(action.get("prepare", [])),
            "narrative": decision["narrative"],
            "missing_signals": "|".join(decision["missing_signals"]),
        }
    )
    return row


def write_csv(
    decisions: Iterable[dict[str, Any]],
    out: TextIO,
    *,
    categories: Sequence[str] | None = None,
    errors: bool = False,
) -> None:
    """A CSV file with one row per account.

    The category columns are ``categories`` when given, else those of the first
    decision. With ``errors`` the header ends with the :data:`CSV_ERRORS` columns, which
    error rows fill (their other cells stay empty).
    """
    stream = iter(decisions)
    first = next(stream, None)
    if categories is not None:
        columns = [*CSV_LEAD, *categories, *CSV_TAIL]
    elif first is not None and not is_error_record(first):
        columns = csv_columns(first)
    else:
        columns = [*CSV_LEAD, *CSV_TAIL]
    if errors:
        columns += CSV_ERRORS
    writer = CsvRowWriter(out, columns)
    writer.writeheader()
    if first is None:
        return
    writer.writerow(csv_row(first))
    for decision in stream:
        writer.writerow(csv_row(decision))


def queue_order(decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The prioritised queue: unblocked act-now first, then by band, score, account id.

    Error rows, if any, come last, in input order.
    """
    rank = {"act_now": 0, "warming": 1, "monitor": 2, "wait": 3}
    failed = [d for d in decisions if is_error_record(d)]
    if failed:
        decided = [d for d in decisions if not is_error_record(d)]
        return [*queue_order(decided), *failed]
    return sorted(
        decisions,
        key=lambda d: (
            d["blocked"],
            rank.get(d["band"], 9),
            -d["score"],
            d["account_id"],
        ),
    )


def type_legend(
    decisions: list[dict[str, Any]], types: Mapping[str, tuple[str, str]]
) -> list[str]:
    """``seat: Seat expansion. More seats for...`` for each upsell type in ``decisions``."""
    used: dict[str, None] = {}
    for d in decisions:
        for name in d.get("upsell_types") or ():
            used.setdefault(name)
    lines = []
    for name in used:
        if name in types:
            title, description = types[name]
            text = f"{name}: {title}" + (f". {description}" if description else "")
            lines.append(printable(text))
    return lines


def render(decisions: Iterable[dict[str, Any]], fmt: str) -> str:
    """Render decisions to a string (used by tests and small outputs)."""
    buffer = io.StringIO()
    if fmt == "json":
        write_json(decisions, buffer)
    elif fmt == "jsonl":
        write_jsonl(decisions, buffer)
    elif fmt == "csv":
        write_csv(decisions, buffer)
    else:
        raise ValueError(f"unknown format {fmt!r} (the queue table is io/queue.py's)")
    return buffer.getvalue()
