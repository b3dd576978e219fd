"""The queue people work from: status, filters, views and a table that fits the screen.

Everything here reads decision records (and error rows) only, so the same queue comes
out of ``dry-run`` whatever engine or worker made the decisions. The table chooses its
columns by the width it is given: identifiers and numbers are never cut, long text
(names, reasons, plays, windows) is shortened with an ellipsis, and the least useful
columns are left out first when even that is not enough.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from upsell_rules.errors import did_you_mean
from upsell_rules.io.formatters import (
    CSV_ERRORS,
    CSV_LEAD,
    CSV_TAIL,
    CsvRowWriter,
    csv_row,
    is_error_record,
    queue_order,
    safe_cell,
)
from upsell_rules.safetext import printable

#: The statuses ``--status`` filters on.
STATUSES = ("ready", "prep", "blocked")

#: What ``--group-by`` can group the queue by.
GROUP_BY = ("owner", "band", "plan")

ELLIPSIS = "\u2026"


def status_of(decision: dict[str, Any]) -> str:
    """``blocked``, ``prep`` (a step before outreach), ``ready`` (act now) or ``-``.

    ``ready`` only where outreach is the play; other bands have nothing to start.
    Error rows are ``error``.
    """
    if is_error_record(decision):
        return "error"
    if decision["blocked"]:
        return "blocked"
    if decision["action"].get("prepare"):
        return "prep"
    if decision["band"] == "act_now":
        return "ready"
    return "-"


def prep_steps(decision: dict[str, Any]) -> list[str]:
    """Each preparatory play with the rule that asked for it: ``health_intervention
    (gate health_marginal)``."""
    if is_error_record(decision):
        return []
    askers: dict[str, list[str]] = {}
    for gate in decision["gates"]:
        if not gate["passed"] and gate.get("severity") == "soft" and gate.get("play"):
            askers.setdefault(gate["play"], []).append(f"gate {gate['id']}")
    for flag in decision["red_flags"]:
        if flag["effect"] == "prepare" and flag.get("play"):
            askers.setdefault(flag["play"], []).append(f"red flag {flag['id']}")
    steps = []
    for play in decision["action"].get("prepare", []):
        why = askers.get(play)
        steps.append(f"{play} ({', '.join(why)})" if why else play)
    return steps


def reason(decision: dict[str, Any]) -> str:
    """Why the account is where it is: the blocking rule, else the first trigger."""
    if decision["blocked"]:
        flags = [f["id"] for f in decision["red_flags"] if f["effect"] == "block"]
        gates = [g["id"] for g in decision["gates"] if not g["passed"]]
        return ", ".join(flags or gates[:1])
    if decision["triggers"]:
        return str(decision["triggers"][0]["id"])
    return ""


@dataclass(frozen=True)
class QueueFilter:
    """Which decisions a view keeps (every part optional)."""

    bands: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    top: int | None = None
    #: Every owner the filter has seen on a decision (filled as it checks them), so an
    #: ``--owner`` that matched nobody can be said out loud with the names there are.
    seen_owners: set[str] = field(default_factory=set, compare=False)

    def active(self) -> bool:
        """True when the filter leaves anything out."""
        return bool(self.bands or self.owners or self.statuses or self.top is not None)

    def keeps(self, decision: dict[str, Any]) -> bool:
        """Whether ``decision`` passes band, owner and status (``top`` aside).

        Error rows pass only when nothing filters, so a filtered view shows the
        accounts asked for; the failures are on stderr either way.
        """
        if is_error_record(decision):
            return not (self.bands or self.owners or self.statuses)
        if self.bands and decision["band"] not in self.bands:
            return False
        if self.owners:
            person = decision.get("owner") or ""
            self.seen_owners.add(person)
            if not any(o.casefold() == person.casefold() for o in self.owners):
                return False
        return not self.statuses or status_of(decision) in self.statuses

    def unmatched_owners(self) -> list[str]:
        """A sentence for each ``--owner`` no decision had, with the nearest owner seen
        (or, when none is near, the owners there are, if they are few)."""
        seen = sorted(self.seen_owners - {""})
        found = {o.casefold() for o in seen}
        out = []
        for wanted in (o for o in self.owners if o.casefold() not in found):
            hint = did_you_mean(wanted, seen)
            if not hint and 0 < len(seen) <= 10:
                hint = f" (owners: {', '.join(seen)})"
            out.append(f"--owner '{wanted}': no account in the data has this owner{hint}")
        return out

    def apply(self, ordered: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The kept decisions of an already ordered queue, the first ``top`` of them."""
        kept = [d for d in ordered if self.keeps(d)]
        return kept if self.top is None else kept[: self.top]


# -- the table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One queue column: how to fill it and how it gives way when space is short."""

    name: str
    cell: Callable[[int, dict[str, Any]], str]
    #: Lower keeps longer: columns are dropped from the highest drop rank down.
    drop: int
    #: Shortest a shortened column may get; 0 = never shortened.
    shrink_to: int = 0


def _score(_rank: int, d: dict[str, Any]) -> str:
    lowered = d["capped_at"] is not None and d.get("raw_score", d["score"]) > d["score"]
    return f"{d['score']:g}" + (" cap" if lowered else "")


def _status(_rank: int, d: dict[str, Any]) -> str:
    # With a state store, what memory says (snoozed until, cooling down, over capacity...)
    # follows what the decision says.
    status = status_of(d)
    state = d.get("state")
    return f"{status}, {state}" if state else status


def _owner(_rank: int, d: dict[str, Any]) -> str:
    return str(d.get("owner") or "-")


COLUMNS: dict[str, Column] = {
    column.name: column
    for column in (
        Column("rank", lambda r, d: str(r), 8),
        Column("account", lambda r, d: str(d["account_id"]), 0),
        Column("name", lambda r, d: str(d["account_name"] or "-"), 3, 12),
        Column("score", _score, 0),
        Column("band", lambda r, d: str(d["band"]), 0),
        Column("status", _status, 0),
        Column("types", lambda r, d: ",".join(d["upsell_types"]) or "-", 9, 9),
        Column("why", lambda r, d: reason(d) or "-", 2, 12),
        # The status column already says "prep"; the steps are the first detail to go,
        # after the rank, types and role, so the person and the window stay longer.
        Column("prepare", lambda r, d: "; ".join(prep_steps(d)) or "-", 6, 18),
        Column("play", lambda r, d: str(d["action"]["play"]), 1, 12),
        Column("owner", _owner, 4, 12),
        Column("role", lambda r, d: str(d["action"]["owner"]), 7),
        Column("window", lambda r, d: str(d["action"]["window"]), 5, 12),
    )
}

#: The table's columns, in order, when ``--columns`` does not pick them.
DEFAULT_COLUMNS = ("rank", "account", "name", "score", "band", "status", "types", "why",
                   "prepare", "play", "owner", "role", "window")

GAP = "  "


def parse_columns(text: str) -> tuple[str, ...]:
    """``--columns account,score,why``: the names, checked (ValueError says which)."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    for name in names:
        if name not in COLUMNS:
            raise ValueError(
                f"unknown column {name!r}{did_you_mean(name, list(COLUMNS))} "
                f"(columns: {', '.join(DEFAULT_COLUMNS)})"
            )
    if not names:
        raise ValueError(f"no columns given (columns: {', '.join(DEFAULT_COLUMNS)})")
    return names


def _error_cells(rank: int, d: dict[str, Any], names: Sequence[str]) -> list[str]:
    problem = d["error"]
    where = f"{problem['field']}: " if problem.get("field") else ""
    text = f"{problem['location']}: {where}{problem['message']}"
    filled = {"account": d["account_id"] or "-", "status": "error",
              "why": text}
    return [printable(filled.get(name, "-")) for name in names]


def queue_cells(
    decisions: Sequence[dict[str, Any]], names: Sequence[str]
) -> list[list[str]]:
    """The table's cells (decisions already in queue order), terminal-safe."""
    rows = []
    for rank, d in enumerate(decisions, 1):
        if is_error_record(d):
            rows.append(_error_cells(rank, d, names))
        else:
            rows.append([printable(COLUMNS[name].cell(rank, d)) for name in names])
    return rows


def fit(
    names: Sequence[str], rows: Sequence[Sequence[str]], width: int | None, keep_all: bool
) -> tuple[list[int], list[int]]:
    """Which columns (indexes into ``names``) to show and how wide, within ``width``.

    While optional columns remain (types, rank, role, prepare, window, owner, left out
    in that order), text is shortened only a little and the least useful optional
    column goes first; then the core text columns (name, why, play) are shortened down
    to their floor, and only then left out. Columns that are never shortened (ids,
    scores, bands) are never cut: a table that cannot fit overflows. With ``keep_all``
    (``--columns``) nothing is left out.
    """
    natural = [max([len(name), *(len(r[i]) for r in rows)]) for i, name in enumerate(names)]
    shown = [i for i in range(len(names)) if keep_all or not _empty(rows, i)]
    if width is None:
        return shown, natural
    while True:
        optional = [i for i in shown if COLUMNS[names[i]].drop >= OPTIONAL_FROM]
        soft = bool(optional) and not keep_all
        widths = _shrink(names, natural, shown, width, soft)
        if _total(widths, shown) <= width or keep_all:
            return shown, widths
        droppable = optional or [i for i in shown if COLUMNS[names[i]].drop > 0]
        if not droppable:
            return shown, widths
        shown.remove(max(droppable, key=lambda i: (COLUMNS[names[i]].drop, i)))


#: Columns with this drop rank or more are optional: they go before core text is cut hard.
OPTIONAL_FROM = 4
#: How much more than its floor a column keeps while optional columns can still go.
SOFT_EXTRA = 8


def _total(widths: Sequence[int], shown: Sequence[int]) -> int:
    return sum(widths[i] for i in shown) + len(GAP) * (len(shown) - 1)


def _shrink(
    names: Sequence[str], natural: Sequence[int], shown: Sequence[int], width: int, soft: bool
) -> list[int]:
    """Shorten the widest shortenable columns first, down to their (soft) floor."""
    widths = list(natural)

    def floor(i: int) -> int:
        hard = _floor(names[i])
        return min(natural[i], hard + SOFT_EXTRA) if soft and hard < 10**9 else hard

    while (over := _total(widths, shown) - width) > 0:
        shrinkable = [i for i in shown if widths[i] > floor(i)]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: (widths[i] - floor(i), -i))
        room = widths[widest] - floor(widest)
        widths[widest] -= max(1, min(over, room, (room + 1) // 2))
    return widths


def _floor(name: str) -> int:
    column = COLUMNS[name]
    return max(column.shrink_to, len(name)) if column.shrink_to else 10**9


def _empty(rows: Sequence[Sequence[str]], index: int) -> bool:
    """A column with nothing to say on any row (e.g. ``prepare`` when nobody preps)."""
    return bool(rows) and all(r[index] == "-" for r in rows)


def clip(text: str, width: int) -> str:
    """``text`` in ``width`` characters, an ellipsis marking a cut."""
    return text if len(text) <= width else text[: max(0, width - 1)] + ELLIPSIS


def queue_lines(
    decisions: Sequence[dict[str, Any]],
    width: int | None = None,
    columns: Sequence[str] | None = None,
) -> list[str]:
    """The queue table as lines (header first), fitted to ``width`` characters.

    ``decisions`` are already in queue order. ``columns`` picks and orders the columns
    (then all of them stay, shortened as needed); by default they are chosen to fit.
    """
    names = list(columns or DEFAULT_COLUMNS)
    rows = queue_cells(decisions, names)
    shown, widths = fit(names, rows, width, keep_all=columns is not None)
    lines = []
    for row in [names, *rows]:
        cells = [clip(row[i], widths[i]).ljust(widths[i]) for i in shown]
        lines.append(GAP.join(cells).rstrip())
    return lines


def ordered_queue(decisions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`queue_order` for any iterable."""
    return queue_order(list(decisions))


# -- group-by summary ---------------------------------------------------------------


def group_key(decision: dict[str, Any], by: str) -> str:
    """The group one decision falls in (``-`` when the record has no such value)."""
    if is_error_record(decision):
        return "(errors)"
    if by == "owner":
        return str(decision.get("owner") or "-")
    if by == "band":
        return str(decision["band"])
    return str(decision.get("plan") or "-")


def group_lines(
    decisions: Sequence[dict[str, Any]], by: str, band_order: Sequence[str] = ()
) -> list[str]:
    """A summary per group: accounts, ready / prep / blocked, each band, top account."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for d in decisions:
        groups.setdefault(group_key(d, by), []).append(d)
    bands = list(band_order) or sorted(
        {d["band"] for d in decisions if not is_error_record(d)}
    )
    headers = [by, "accounts", *STATUSES, *bands, "top"]
    rows: list[list[str]] = []
    order = band_order if by == "band" else ()
    keys = sorted(groups, key=lambda k: (order.index(k) if k in order else len(order), k))
    for key in keys:
        members = groups[key]
        decided = [d for d in members if not is_error_record(d)]
        statuses = [status_of(d) for d in decided]
        top = decided[0] if decided else None
        rows.append([
            printable(key),
            str(len(members)),
            *(str(statuses.count(s)) for s in STATUSES),
            *(str(sum(d["band"] == b for d in decided)) for b in bands),
            f"{printable(top['account_id'])} ({top['score']:g})" if top else "-",
        ])
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    return [
        GAP.join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in [headers, *rows]
    ]


# -- the queue as CSV ---------------------------------------------------------------


def write_queue_csv(
    ordered: Iterable[dict[str, Any]],
    out: TextIO,
    *,
    categories: Sequence[str] | None = None,
    errors: bool = False,
) -> None:
    """The decision CSV in queue order, led by ``rank`` and with ``status`` and
    ``prepare_steps`` (each preparatory play and the rule that asked for it).

    Every other column is the one :func:`~upsell_rules.io.formatters.write_csv` writes.
    """
    rows = list(ordered)
    if categories is None:
        first = next((d for d in rows if not is_error_record(d)), None)
        categories = list(first.get("category_scores", {})) if first else []
    lead = list(CSV_LEAD)
    lead.insert(lead.index("blocked") + 1, "status")
    tail = list(CSV_TAIL)
    tail.insert(tail.index("prepare") + 1, "prepare_steps")
    columns = ["rank", *lead, *categories, *tail, *(CSV_ERRORS if errors else ())]
    writer = CsvRowWriter(out, columns)
    writer.writeheader()
    for rank, decision in enumerate(rows, 1):
        row = csv_row(decision)
        row["rank"] = "" if is_error_record(decision) else rank
        row["status"] = status_of(decision)
        if not is_error_record(decision):
            row["prepare_steps"] = safe_cell("|".join(prep_steps(decision)))
        writer.writerow(row)
