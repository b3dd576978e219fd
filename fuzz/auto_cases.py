"""Odd inputs for the default engine's differential check (``fuzz/auto_diff.py``).

Each case takes clean generated accounts and puts one oddity a CRM export might hold
(HubSpot, Salesforce, Gainsight: a BOM, CRLF, thousands separators, US dates, "N/A", a
stray quote, NaN, a huge integer, a non-breaking space...) into one row in the middle,
so that the oddity has to be found inside a file otherwise clean. The same cases are
used on large files by ``fuzz/auto_diff.py`` and on small ones by
``tests/engine/test_auto_differential.py``.

A case is ``(name, format, make)``: ``make(records, row)`` gives the file's bytes, with
the oddity at ``records[row]``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

Records = list[dict[str, Any]]
Make = Callable[[Records, int], bytes]
Case = tuple[str, str, Make]


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def _jsonl(lines: list[str], end: str = "\n") -> bytes:
    return "".join(line + end for line in lines).encode("utf-8")


def _lines(records: Records) -> list[str]:
    return [_line(r) for r in records]


def set_field(name: str, value: Any) -> Make:
    """The record at ``row`` with field ``name`` set to ``value``."""
    def make(records: Records, row: int) -> bytes:
        lines = _lines(records)
        lines[row] = _line({**records[row], name: value})
        return _jsonl(lines)
    return make


def raw_field(name: str, text: str) -> Make:
    """The record at ``row`` with field ``name`` written as the raw JSON ``text``."""
    def make(records: Records, row: int) -> bytes:
        lines = _lines(records)
        rec = {k: v for k, v in records[row].items() if k != name}
        body = _line(rec)[1:-1]
        lines[row] = "{" + body + f', "{name}": {text}' + "}"
        return _jsonl(lines)
    return make


def raw_line(text: str) -> Make:
    """The line at ``row`` replaced by ``text``."""
    def make(records: Records, row: int) -> bytes:
        lines = _lines(records)
        lines[row] = text
        return _jsonl(lines)
    return make


def edit_line(edit: Callable[[str], str]) -> Make:
    def make(records: Records, row: int) -> bytes:
        lines = _lines(records)
        lines[row] = edit(lines[row])
        return _jsonl(lines)
    return make


def whole(edit: Callable[[bytes], bytes]) -> Make:
    def make(records: Records, row: int) -> bytes:
        return edit(_jsonl(_lines(records)))
    return make


def _rename(old: str, new: str) -> Make:
    def make(records: Records, row: int) -> bytes:
        lines = _lines(records)
        rec = records[row]
        lines[row] = _line({(new if k == old else k): v for k, v in rec.items()})
        return _jsonl(lines)
    return make


def _dup_id(records: Records, row: int) -> bytes:
    lines = _lines(records)
    lines[row] = _line({**records[row], "account_id": records[0]["account_id"]})
    return _jsonl(lines)


def _insert_line(text: str) -> Make:
    def make(records: Records, row: int) -> bytes:
        lines = _lines(records)
        lines.insert(row, text)
        return _jsonl(lines)
    return make


JSONL_CASES: list[Case] = [
    ("clean", "jsonl", whole(lambda b: b)),
    ("bom", "jsonl", whole(lambda b: b"\xef\xbb\xbf" + b)),
    ("crlf-all", "jsonl", whole(lambda b: b.replace(b"\n", b"\r\n"))),
    ("crlf-one", "jsonl", edit_line(lambda s: s + "\r")),
    ("lone-cr", "jsonl", edit_line(lambda s: s + "\r" + s.replace("SYN-", "SYX-"))),
    ("blank-line", "jsonl", _insert_line("")),
    ("spaces-line", "jsonl", _insert_line("   ")),
    ("no-final-newline", "jsonl", whole(lambda b: b[:-1])),
    ("two-final-newlines", "jsonl", whole(lambda b: b + b"\n")),
    ("array-line", "jsonl", raw_line("[1, 2, 3]")),
    ("number-line", "jsonl", raw_line("42")),
    ("null-line", "jsonl", raw_line("null")),
    ("string-line", "jsonl", raw_line('"SYN-1"')),
    ("two-objects-one-line", "jsonl", edit_line(lambda s: s + " " + s)),
    ("truncated-line", "jsonl", edit_line(lambda s: s[: len(s) // 2])),
    ("trailing-comma", "jsonl", edit_line(lambda s: s[:-1] + ",}")),
    ("trailing-comma-list", "jsonl", raw_field("usage_history", "[1, 2,]")),
    ("trailing-comma-list-tab", "jsonl", raw_field("seats_active_history", "[1,\t]")),
    ("trailing-comma-unknown", "jsonl", raw_field("hubspot", '{"id": 1,}')),
    ("trailing-comma-space", "jsonl", edit_line(lambda s: s[:-1] + ", }")),
    ("escaped-comma", "jsonl", raw_field("account_name", '"Acme\\u002c Inc"')),
    ("escaped-comma-and-trailing", "jsonl", edit_line(
        lambda s: s[:-1] + ', "x": "\\u002c",}')),
    ("nan-lower-unknown", "jsonl", raw_field("hubspot_score", "nan")),
    ("inf-lower-unknown", "jsonl", raw_field("hubspot_score", "-inf")),
    ("infinity-lower-unknown", "jsonl", raw_field("hubspot_score", "infinity")),
    ("nan-lower", "jsonl", raw_field("health_score", "nan")),
    ("inf-lower", "jsonl", raw_field("arr", "inf")),
    ("inf-lower-list", "jsonl", raw_field("usage_history", "[1, inf]")),
    ("nan-upper-unknown", "jsonl", raw_field("hubspot_score", "NAN")),
    ("comment", "jsonl", edit_line(lambda s: s + " // note")),
    ("block-comment", "jsonl", edit_line(lambda s: "/* x */ " + s)),
    ("single-quotes", "jsonl", edit_line(lambda s: s.replace('"plan"', "'plan'"))),
    ("leading-spaces", "jsonl", edit_line(lambda s: "   " + s)),
    ("leading-tab", "jsonl", edit_line(lambda s: "\t" + s)),
    ("form-feed", "jsonl", edit_line(lambda s: s + "\x0c")),
    ("vertical-tab", "jsonl", edit_line(lambda s: "\x0b" + s)),
    ("nul-byte-after", "jsonl", edit_line(lambda s: s + "\x00")),
    ("nested-object", "jsonl", set_field("health_score", {"value": 70})),
    ("nested-unknown", "jsonl", set_field("hubspot", {"owner": "x", "id": 1})),
    ("colon-in-text", "jsonl", set_field("account_name", "Acme: Europe")),
    ("dup-key-contract", "jsonl", raw_field("health_score", '10, "health_score": 90')),
    ("dup-key-unknown", "jsonl", raw_field("x_extra", '1, "x_extra": 2')),
    ("dup-key-id", "jsonl", raw_field("account_id", '"SYN-X1", "account_id": "SYN-X2"')),
    ("recased-key", "jsonl", _rename("health_score", "Health_Score")),
    ("upper-key", "jsonl", _rename("arr", "ARR")),
    ("renamed-key", "jsonl", _rename("health_score", "healthScore")),
    ("escaped-key", "jsonl", edit_line(
        lambda s: s.replace('"health_score"', '"health\\u005fscore"'))),
    ("unknown-key", "jsonl", set_field("hubspot_owner_id", "123")),
    ("quoted-number", "jsonl", set_field("arr", "6300")),
    ("thousands", "jsonl", set_field("arr", "1,234")),
    ("currency", "jsonl", set_field("arr", "$6,300.00")),
    ("percent", "jsonl", set_field("headcount_growth_90d", "1.5%")),
    ("us-date", "jsonl", set_field("renewal_date", "11/02/2026")),
    ("iso-datetime", "jsonl", set_field("renewal_date", "2026-11-02T00:00:00Z")),
    ("date-space", "jsonl", set_field("renewal_date", " 2026-11-02")),
    ("date-feb30", "jsonl", set_field("renewal_date", "2026-02-30")),
    ("date-year0", "jsonl", set_field("renewal_date", "0000-01-01")),
    ("date-9999", "jsonl", set_field("renewal_date", "9999-12-31")),
    ("date-number", "jsonl", set_field("renewal_date", 20261102)),
    ("date-fullwidth", "jsonl", set_field("renewal_date", "\uff12\uff10\uff12\uff16-11-02")),
    ("date-arabic-digits", "jsonl", set_field("renewal_date", "\u0662\u0660\u0662\u0666-11-02")),
    ("bool-TRUE", "jsonl", set_field("competitor_evaluation", "TRUE")),
    ("bool-yes", "jsonl", set_field("competitor_evaluation", "yes")),
    ("bool-1", "jsonl", set_field("competitor_evaluation", 1)),
    ("bool-0.0", "jsonl", set_field("competitor_evaluation", 0.0)),
    ("null-word", "jsonl", set_field("plan", "null")),
    ("na-word", "jsonl", set_field("plan", "N/A")),
    ("empty-text", "jsonl", set_field("plan", "")),
    ("null-value", "jsonl", set_field("plan", None)),
    ("null-number", "jsonl", set_field("health_score", None)),
    ("nan", "jsonl", raw_field("health_score", "NaN")),
    ("infinity", "jsonl", raw_field("arr", "Infinity")),
    ("neg-infinity", "jsonl", raw_field("headcount_growth_90d", "-Infinity")),
    ("nan-in-text", "jsonl", set_field("account_name", "NaN Industries")),
    ("1e400", "jsonl", raw_field("arr", "1e400")),
    ("-1e400", "jsonl", raw_field("headcount_growth_90d", "-1e400")),
    ("1e-400", "jsonl", raw_field("headcount_growth_90d", "1e-400")),
    ("big-int-number", "jsonl", raw_field("arr", "9007199254740993")),
    ("2**53-number", "jsonl", raw_field("arr", "9007199254740992")),
    ("big-int-integer", "jsonl", raw_field("seats_licensed", "9223372036854775808")),
    ("2**63-1-integer", "jsonl", raw_field("seats_licensed", "9223372036854775807")),
    ("2**64-integer", "jsonl", raw_field("seats_licensed", "18446744073709551616")),
    ("huge-digits", "jsonl", raw_field("arr", "1" * 5000)),
    ("neg-zero-int", "jsonl", raw_field("arr", "-0")),
    ("neg-zero-float", "jsonl", raw_field("arr", "-0.0")),
    ("neg-zero-growth", "jsonl", raw_field("headcount_growth_90d", "-0.0")),
    ("zero-exp", "jsonl", raw_field("headcount_growth_90d", "0e0")),
    ("1e3", "jsonl", raw_field("arr", "1e3")),
    ("1E3", "jsonl", raw_field("arr", "1E3")),
    ("1.0e3", "jsonl", raw_field("arr", "1.0e3")),
    ("6300.0", "jsonl", raw_field("arr", "6300.0")),
    ("6300.00", "jsonl", raw_field("arr", "6300.00")),
    ("long-fraction", "jsonl", raw_field("arr", "6300.000000000000000000001")),
    ("17-digits", "jsonl", raw_field("headcount_growth_90d", "0.10000000000000001")),
    ("leading-zero", "jsonl", raw_field("arr", "06300")),
    ("plus-sign", "jsonl", raw_field("arr", "+6300")),
    ("dot-first", "jsonl", raw_field("headcount_growth_90d", ".5")),
    ("hex", "jsonl", raw_field("arr", "0x10")),
    ("integer-as-float", "jsonl", raw_field("seats_licensed", "10.0")),
    ("integer-as-1e1", "jsonl", raw_field("seats_licensed", "1e1")),
    ("integer-fraction", "jsonl", raw_field("seats_licensed", "10.5")),
    ("integer-neg-zero", "jsonl", raw_field("nps_score", "-0")),
    ("integer-string", "jsonl", set_field("seats_licensed", "10")),
    ("bool-for-number", "jsonl", set_field("arr", True)),
    ("bool-for-integer", "jsonl", set_field("seats_licensed", False)),
    ("min-boundary", "jsonl", raw_field("health_score", "0")),
    ("max-boundary", "jsonl", raw_field("health_score", "100")),
    ("max-boundary-float", "jsonl", raw_field("health_score", "100.0")),
    ("over-max", "jsonl", raw_field("health_score", "100.0000001")),
    ("under-min", "jsonl", raw_field("health_score", "-0.0000001")),
    ("under-min-integer", "jsonl", raw_field("seats_licensed", "-1")),
    ("min-neg-zero", "jsonl", raw_field("health_score", "-0.0")),
    ("list-under-min", "jsonl", set_field("seats_active_history", [5, -1])),
    ("list-string-item", "jsonl", set_field("seats_active_history", [5, "5"])),
    ("list-null-item", "jsonl", set_field("seats_active_history", [5, None])),
    ("list-empty", "jsonl", set_field("seats_active_history", [])),
    ("list-nested", "jsonl", set_field("seats_active_history", [[5]])),
    ("list-float-item", "jsonl", set_field("seats_active_history", [5, 5.0])),
    ("list-as-text", "jsonl", set_field("seats_active_history", "5|5")),
    ("list-scalar", "jsonl", set_field("seats_active_history", 5)),
    ("list-big-int", "jsonl", raw_field("usage_history", "[1, 9007199254740993]")),
    ("list-1e3", "jsonl", raw_field("usage_history", "[1e3, 2]")),
    ("list-neg-zero", "jsonl", raw_field("usage_history", "[-0.0, 2]")),
    ("list-nan", "jsonl", raw_field("usage_history", "[NaN, 2]")),
    ("list-bool", "jsonl", raw_field("usage_history", "[true, 2]")),
    ("strlist-empty-item", "jsonl", set_field("open_ticket_priorities", ["P1", ""])),
    ("strlist-space-item", "jsonl", set_field("open_ticket_priorities", [" P1"])),
    ("strlist-nbsp-item", "jsonl", set_field("open_ticket_priorities", ["\u00a0P1"])),
    ("strlist-scalar", "jsonl", set_field("open_ticket_priorities", "P1")),
    ("strlist-number", "jsonl", set_field("open_ticket_priorities", [1])),
    ("strlist-null", "jsonl", set_field("open_ticket_priorities", [None])),
    ("strlist-escaped", "jsonl", set_field("open_ticket_priorities", ['P1 "urgent"'])),
    ("datelist", "jsonl", set_field("gated_feature_attempts", ["2026-10-01", "2026-10-02"])),
    ("datelist-bad", "jsonl", set_field("gated_feature_attempts", ["2026-10-01", "10/02/2026"])),
    ("datelist-empty", "jsonl", set_field("gated_feature_attempts", [])),
    ("datelist-null", "jsonl", set_field("gated_feature_attempts", None)),
    ("rtl", "jsonl", set_field("account_name", "شركة الأفق")),
    ("rtl-mark", "jsonl", set_field("account_name", "\u200fAcme")),
    ("emoji", "jsonl", set_field("account_name", "Acme 🚀 Rockets")),
    ("emoji-first", "jsonl", set_field("owner", "🚀 Priya")),
    ("combining", "jsonl", set_field("account_name", "Cafe\u0301 Ltd")),
    ("combining-first", "jsonl", set_field("account_name", "\u0301Cafe")),
    ("nbsp-name", "jsonl", set_field("account_name", "\u00a0Acme")),
    ("nbsp-name-end", "jsonl", set_field("account_name", "Acme\u00a0")),
    ("nbsp-id", "jsonl", set_field("account_id", "SYN-9\u00a0")),
    ("nbsp-plan", "jsonl", set_field("plan", "Team\u00a0")),
    ("zwsp-plan", "jsonl", set_field("plan", "Team\u200b")),
    ("zwsp-first", "jsonl", set_field("plan", "\u200bTeam")),
    ("zwsp-id", "jsonl", set_field("account_id", "SYN-9\u200b")),
    ("bom-in-text", "jsonl", set_field("plan", "\ufeffTeam")),
    ("ideographic-space", "jsonl", set_field("plan", "\u3000Team")),
    ("en-quad", "jsonl", set_field("plan", "\u2000Team")),
    ("line-sep-first", "jsonl", set_field("plan", "\u2028Team")),
    ("raw-u2028", "jsonl", set_field("account_name", "Acme\u2028Europe")),
    ("raw-nel", "jsonl", set_field("account_name", "Acme\u0085Europe")),
    ("nel-first", "jsonl", set_field("plan", "\u0085Team")),
    ("ogham-space", "jsonl", set_field("plan", "\u1680Team")),
    ("mongolian-vs", "jsonl", set_field("plan", "\u180eTeam")),
    ("fs-first", "jsonl", set_field("plan", "\x1cTeam")),
    ("control-escaped", "jsonl", set_field("account_name", "Acme\u0001")),
    ("control-first", "jsonl", set_field("plan", "\u0001Team")),
    ("del-char", "jsonl", set_field("account_name", "Acme\x7f")),
    ("raw-tab-in-text", "jsonl", edit_line(lambda s: s.replace('"Team"', '"Te\tam"'))),
    ("raw-newline-escaped", "jsonl", set_field("account_name", "Acme\nEurope")),
    ("trailing-space-plan", "jsonl", set_field("plan", "Team ")),
    ("leading-space-owner", "jsonl", set_field("owner", " Priya Raman")),
    ("space-id", "jsonl", set_field("account_id", " SYN-9")),
    ("tab-id", "jsonl", set_field("account_id", "SYN-9\t")),
    ("newline-id", "jsonl", set_field("account_id", "SYN-9\n")),
    ("fs-id", "jsonl", set_field("account_id", "SYN-9\x1c")),
    ("us-id", "jsonl", set_field("account_id", "\x1fSYN-9")),
    ("vt-id", "jsonl", set_field("account_id", "SYN-9\x0b")),
    ("escaped-quote-end-id", "jsonl", set_field("account_id", 'SYN-"9"')),
    ("backslash-end-id", "jsonl", set_field("account_id", "SYN-9\\")),
    ("long-name", "jsonl", set_field("account_name", "A" * 200_000)),
    ("long-line-over-limit", "jsonl", set_field("account_name", "A" * 1_100_000)),
    ("lone-surrogate", "jsonl", raw_field("account_name", '"Acme \\ud800"')),
    ("surrogate-pair", "jsonl", raw_field("account_name", '"Acme \\ud83d\\ude80"')),
    ("nul-escaped", "jsonl", raw_field("account_name", '"Acme\\u0000x"')),
    ("dup-account-id", "jsonl", _dup_id),
    ("id-number", "jsonl", set_field("account_id", 12345)),
    ("id-empty", "jsonl", set_field("account_id", "")),
    ("id-null", "jsonl", set_field("account_id", None)),
    ("id-missing", "jsonl", edit_line(lambda s: "{" + s[s.index(",") + 1:].lstrip())),
    ("id-case-dup", "jsonl", lambda r, i: _jsonl(
        [*_lines(r[:i]), _line({**r[i], "account_id": r[0]["account_id"].lower()}),
         *_lines(r[i + 1:])])),
    ("owner-number", "jsonl", set_field("owner", 5)),
    ("name-number", "jsonl", set_field("account_name", 5)),
    ("name-list", "jsonl", set_field("account_name", ["a"])),
    ("plan-number", "jsonl", set_field("plan", 3)),
    ("engagement-bool", "jsonl", set_field("engagement_trend", True)),
    ("ws-around-colon", "jsonl", edit_line(lambda s: s.replace('": ', '"  :  '))),
    ("compact", "jsonl", edit_line(lambda s: json.dumps(json.loads(s), separators=(",", ":")))),
    ("escaped-letter", "jsonl", edit_line(
        lambda s: s.replace('"plan": "Team"', '"plan": "Te\\u0061m"'))),
    ("escaped-quote-in-id", "jsonl", set_field("account_id", 'SYN-"9"')),
    ("backslash-in-id", "jsonl", set_field("account_id", "SYN\\9")),
]


def _bytes_edit(old: bytes, new: bytes) -> Make:
    def make(records: Records, row: int) -> bytes:
        lines = [line.encode("utf-8") for line in _lines(records)]
        lines[row] = lines[row].replace(old, new, 1)
        return b"".join(line + b"\n" for line in lines)
    return make


_NAME = b'"account_name": "'
JSONL_CASES += [
    ("invalid-utf8", "jsonl", _bytes_edit(_NAME, _NAME + b"\xff")),
    ("latin1-name", "jsonl", _bytes_edit(_NAME, _NAME + b"Caf\xe9 ")),
    ("overlong-utf8", "jsonl", _bytes_edit(_NAME, _NAME + b"\xc0\xaf")),
    ("cesu-surrogate", "jsonl", _bytes_edit(_NAME, _NAME + b"\xed\xa0\x80")),
]


# --- CSV ---------------------------------------------------------------------------------

def _csv_rows(records: Records, columns: list[str]) -> list[list[str]]:
    from upsell_rules.io.synthetic import _csv_cell

    return [[_csv_cell(r.get(c)) for c in columns] for r in records]


def _columns() -> list[str]:
    from upsell_rules.io.contract import CONTRACT_FIELDS

    return list(CONTRACT_FIELDS)


def _csv_text(header: list[str], rows: list[list[str]], sep: str = ",",
              end: str = "\n") -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator=end)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def csv_cell(name: str, text: str) -> Make:
    """The CSV file with the cell ``name`` of ``row`` set to ``text`` (quoted as needed)."""
    def make(records: Records, row: int) -> bytes:
        cols = _columns()
        rows = _csv_rows(records, cols)
        rows[row][cols.index(name)] = text
        return _csv_text(cols, rows)
    return make


def csv_raw(edit: Callable[[bytes], bytes]) -> Make:
    """The CSV file with line ``row + 2`` (the row's own line) edited as bytes."""
    def make(records: Records, row: int) -> bytes:
        cols = _columns()
        lines = _csv_text(cols, _csv_rows(records, cols)).split(b"\n")
        lines[row + 1] = edit(lines[row + 1])
        return b"\n".join(lines)
    return make


def csv_whole(edit: Callable[[bytes], bytes]) -> Make:
    def make(records: Records, row: int) -> bytes:
        cols = _columns()
        return edit(_csv_text(cols, _csv_rows(records, cols)))
    return make


def csv_header(edit: Callable[[list[str]], list[str]]) -> Make:
    def make(records: Records, row: int) -> bytes:
        cols = _columns()
        return _csv_text(edit(list(cols)), _csv_rows(records, cols))
    return make


def csv_sep(sep: str) -> Make:
    def make(records: Records, row: int) -> bytes:
        cols = _columns()
        return _csv_text(cols, _csv_rows(records, cols), sep=sep)
    return make


def _csv_dup_id(records: Records, row: int) -> bytes:
    cols = _columns()
    rows = _csv_rows(records, cols)
    rows[row][0] = rows[0][0]
    return _csv_text(cols, rows)


def _recase(old: str, new: str) -> Callable[[list[str]], list[str]]:
    return lambda cols: [new if c == old else c for c in cols]


CSV_CASES: list[Case] = [
    ("clean", "csv", csv_whole(lambda b: b)),
    ("bom", "csv", csv_whole(lambda b: b"\xef\xbb\xbf" + b)),
    ("crlf-all", "csv", csv_whole(lambda b: b.replace(b"\n", b"\r\n"))),
    ("crlf-one", "csv", csv_raw(lambda b: b + b"\r")),
    ("lone-cr", "csv", csv_raw(lambda b: b.replace(b",", b"\r", 1))),
    ("bom-crlf", "csv", csv_whole(lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"))),
    ("semicolon", "csv", csv_sep(";")),
    ("tab", "csv", csv_sep("\t")),
    ("pipe", "csv", csv_sep("|")),
    ("quoted-thousands", "csv", csv_cell("arr", "1,234")),
    ("thousands-unquoted-dot", "csv", csv_cell("arr", "1.234.567")),
    ("quoted-number", "csv", csv_raw(lambda b: b.replace(b",6300,", b',"6300",', 1))),
    ("quoted-all", "csv", csv_raw(lambda b: b",".join(b'"' + c + b'"' for c in b.split(b",")))),
    ("currency", "csv", csv_cell("arr", "$6300")),
    ("percent", "csv", csv_cell("headcount_growth_90d", "1.5%")),
    ("decimal-comma", "csv", csv_cell("headcount_growth_90d", "0,015")),
    ("us-date", "csv", csv_cell("renewal_date", "11/02/2026")),
    ("eu-date", "csv", csv_cell("renewal_date", "02.11.2026")),
    ("iso-datetime", "csv", csv_cell("renewal_date", "2026-11-02T00:00:00Z")),
    ("date-space", "csv", csv_cell("renewal_date", "2026-11-02 ")),
    ("date-feb30", "csv", csv_cell("renewal_date", "2026-02-30")),
    ("date-year0", "csv", csv_cell("renewal_date", "0000-01-01")),
    ("bool-TRUE", "csv", csv_cell("competitor_evaluation", "TRUE")),
    ("bool-Yes", "csv", csv_cell("competitor_evaluation", "Yes")),
    ("bool-N", "csv", csv_cell("competitor_evaluation", "N")),
    ("bool-on", "csv", csv_cell("competitor_evaluation", "on")),
    ("bool-1.0", "csv", csv_cell("competitor_evaluation", "1.0")),
    ("bool-dotted-i", "csv", csv_cell("competitor_evaluation", "tr\u0130e")),
    ("bool-kelvin", "csv", csv_cell("competitor_evaluation", "\u212a")),
    ("null-word", "csv", csv_cell("plan", "null")),
    ("NULL-word", "csv", csv_cell("arr", "NULL")),
    ("na-word", "csv", csv_cell("health_score", "N/A")),
    ("dash", "csv", csv_cell("health_score", "-")),
    ("none-word", "csv", csv_cell("health_score", "None")),
    ("nan", "csv", csv_cell("health_score", "NaN")),
    ("inf", "csv", csv_cell("arr", "inf")),
    ("infinity", "csv", csv_cell("arr", "Infinity")),
    ("huge-int", "csv", csv_cell("arr", "9007199254740993")),
    ("15-digits", "csv", csv_cell("arr", "999999999999999")),
    ("16-digits", "csv", csv_cell("arr", "1000000000000000")),
    ("huge-int-integer", "csv", csv_cell("seats_licensed", "9223372036854775808")),
    ("neg-zero", "csv", csv_cell("headcount_growth_90d", "-0")),
    ("neg-zero-float", "csv", csv_cell("headcount_growth_90d", "-0.0")),
    ("neg-zero-frac", "csv", csv_cell("headcount_growth_90d", "-0.000")),
    ("exp", "csv", csv_cell("arr", "1e3")),
    ("leading-zero", "csv", csv_cell("arr", "06300")),
    ("plus", "csv", csv_cell("arr", "+6300")),
    ("dot-first", "csv", csv_cell("headcount_growth_90d", ".5")),
    ("dot-last", "csv", csv_cell("arr", "6300.")),
    ("integer-float", "csv", csv_cell("seats_licensed", "10.0")),
    ("integer-plus", "csv", csv_cell("seats_licensed", "+10")),
    ("integer-neg-zero", "csv", csv_cell("nps_score", "-0")),
    ("underscore-number", "csv", csv_cell("arr", "6_300")),
    ("fullwidth-number", "csv", csv_cell("arr", "\uff16\uff13\uff10\uff10")),
    ("arabic-digits", "csv", csv_cell("arr", "\u0666\u0663\u0660\u0660")),
    ("long-fraction", "csv", csv_cell("headcount_growth_90d", "0.10000000000000000555111512")),
    ("max-boundary", "csv", csv_cell("health_score", "100")),
    ("over-max", "csv", csv_cell("health_score", "100.01")),
    ("under-min", "csv", csv_cell("arr", "-1")),
    ("list-spaces", "csv", csv_cell("seats_active_history", "5 | 5")),
    ("list-empty-item", "csv", csv_cell("seats_active_history", "5||5")),
    ("list-trailing-bar", "csv", csv_cell("seats_active_history", "5|5|")),
    ("list-comma", "csv", csv_cell("seats_active_history", "5,5")),
    ("list-json", "csv", csv_cell("seats_active_history", "[5, 5]")),
    ("list-under-min", "csv", csv_cell("seats_active_history", "5|-1")),
    ("list-float", "csv", csv_cell("seats_active_history", "5|5.0")),
    ("numlist-int", "csv", csv_cell("usage_history", "100|200.5")),
    ("strlist-spaces", "csv", csv_cell("open_ticket_priorities", "P1 | P2")),
    ("strlist-bar-only", "csv", csv_cell("open_ticket_priorities", "|")),
    ("datelist", "csv", csv_cell("gated_feature_attempts", "2026-10-01|2026-10-02")),
    ("datelist-bad", "csv", csv_cell("gated_feature_attempts", "2026-10-01|10/02/2026")),
    ("trailing-delim-row", "csv", csv_raw(lambda b: b + b",")),
    ("trailing-delim-all", "csv", csv_whole(lambda b: b.replace(b"\n", b",\n"))),
    ("missing-cell", "csv", csv_raw(lambda b: b.rsplit(b",", 1)[0])),
    ("extra-cell", "csv", csv_raw(lambda b: b + b",extra")),
    ("stray-quote", "csv", csv_raw(lambda b: b[:15] + b'"' + b[15:])),
    ("stray-quote-open", "csv", csv_raw(lambda b: b.replace(b",Team,", b',"Team,', 1)
                                         .replace(b",Starter,", b',"Starter,', 1)
                                         .replace(b",Business,", b',"Business,', 1)
                                         .replace(b",Enterprise,", b',"Enterprise,', 1))),
    ("quote-mid-cell", "csv", csv_cell("account_name", 'Acme "Big" Co')),
    ("embedded-newline", "csv", csv_cell("account_name", "Acme\nEurope")),
    ("embedded-crlf", "csv", csv_cell("account_name", "Acme\r\nEurope")),
    ("backslash-quote", "csv", csv_raw(
        lambda b: b.split(b",", 2)[0] + b',"A\\"B",' + b.split(b",", 2)[2])),
    ("blank-line", "csv", csv_raw(lambda b: b"\n" + b)),
    ("spaces-line", "csv", csv_raw(lambda b: b"   \n" + b)),
    ("commas-only-line", "csv", csv_raw(lambda b: b"," * 29 + b"\n" + b)),
    ("no-final-newline", "csv", csv_whole(lambda b: b[:-1])),
    ("two-final-newlines", "csv", csv_whole(lambda b: b + b"\n")),
    ("recased-header", "csv", csv_header(_recase("health_score", "Health_Score"))),
    ("upper-id-header", "csv", csv_header(_recase("account_id", "Account_ID"))),
    ("renamed-header", "csv", csv_header(_recase("health_score", "Health Score"))),
    ("spaced-header", "csv", csv_header(_recase("health_score", " health_score"))),
    ("dup-header", "csv", csv_header(_recase("nps_score", "health_score"))),
    ("quoted-header", "csv", csv_whole(lambda b: b.replace(b"account_id,", b'"account_id",', 1))),
    ("bom-quoted-header", "csv", csv_whole(lambda b: b"\xef\xbb\xbf" +
                                           b.replace(b"account_id,", b'"account_id",', 1))),
    ("header-trailing-delim", "csv", csv_whole(lambda b: b.replace(b"engagement_trend\n",
                                                                   b"engagement_trend,\n", 1))),
    ("empty-header-name", "csv", csv_header(lambda c: [*c[:-1], ""])),
    ("dup-account-id", "csv", _csv_dup_id),
    ("id-empty", "csv", csv_cell("account_id", "")),
    ("id-space", "csv", csv_cell("account_id", " SYN-9")),
    ("id-nbsp", "csv", csv_cell("account_id", "SYN-9\u00a0")),
    ("id-zwsp", "csv", csv_cell("account_id", "SYN-9\u200b")),
    ("rtl", "csv", csv_cell("account_name", "شركة الأفق")),
    ("emoji", "csv", csv_cell("account_name", "Acme 🚀")),
    ("combining-first", "csv", csv_cell("plan", "\u0301Team")),
    ("nbsp-plan", "csv", csv_cell("plan", "Team\u00a0")),
    ("zwsp-plan", "csv", csv_cell("plan", "\u200bTeam")),
    ("bom-in-cell", "csv", csv_cell("plan", "\ufeffTeam")),
    ("nel-plan", "csv", csv_cell("plan", "Team\u0085")),
    ("u2028-plan", "csv", csv_cell("plan", "Team\u2028")),
    ("control-cell", "csv", csv_cell("account_name", "Acme\x01")),
    ("control-first", "csv", csv_cell("plan", "\x1fTeam")),
    ("fs-last", "csv", csv_cell("plan", "Team\x1c")),
    ("nul-cell", "csv", csv_cell("account_name", "Acme\x00")),
    ("tab-in-cell", "csv", csv_cell("plan", "Team\t")),
    ("vt-in-cell", "csv", csv_cell("plan", "Team\x0b")),
    ("long-cell", "csv", csv_cell("account_name", "A" * 200_000)),
    ("too-long-line", "csv", csv_cell("account_name", "A" * 1_100_000)),
    ("formula", "csv", csv_cell("account_name", "=HYPERLINK(\"x\")")),
    ("invalid-utf8", "csv", csv_raw(lambda b: b.replace(b",", b",\xff", 1))),
    ("latin1", "csv", csv_raw(
        lambda b: b.split(b",", 2)[0] + b",Caf\xe9," + b.split(b",", 2)[2])),
]


__all__ = ["CSV_CASES", "JSONL_CASES", "Case"]
