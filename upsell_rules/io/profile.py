"""Profile an export against a ruleset: what ``check-data`` reports, per signal.

For each input signal the rules read: how many records carry it, the values left out
because they did not parse (by field, with examples) or were out of range, and min /
quartiles / max of the numbers read. Together with the header check (signals no record
carries and the rules they silence), it says whether using the file would change
decisions without a word.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from upsell_rules.errors import RecordError
from upsell_rules.io.columns import ColumnReport, effects_text
from upsell_rules.io.records import Account

#: Example values kept per signal.
EXAMPLES = 3


@dataclass
class SignalProfile:
    """What the data says about one signal."""

    name: str
    carried: int = 0
    unparsed: int = 0
    out_of_range: int = 0
    examples: list[str] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)

    def stats(self) -> dict[str, float] | None:
        """min, quartiles and max of the numbers read (lists: their last item)."""
        if not self.numbers:
            return None
        values = sorted(self.numbers)
        if len(values) == 1:
            q1 = median = q3 = values[0]
        else:
            q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return {"min": values[0], "q1": q1, "median": median, "q3": q3, "max": values[-1]}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "signal": self.name,
            "records_with_value": self.carried,
            "unparsed": self.unparsed,
            "out_of_range": self.out_of_range,
            "examples": list(self.examples),
            "stats": self.stats(),
        }


@dataclass
class DataProfile:
    """The whole profile: records, failures, per-signal figures, the header check."""

    records: int = 0
    failed: int = 0
    failures: list[RecordError] = field(default_factory=list)
    signals: dict[str, SignalProfile] = field(default_factory=dict)
    columns: ColumnReport = field(default_factory=ColumnReport)
    #: Signal -> what the rules do without it, for each signal some records carry but
    #: none of them readably (:meth:`unreadable`; filled in by the caller, who has the
    #: ruleset).
    silenced: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def unreadable(self) -> list[str]:
        """Signals with values left out and no record's value read: every decision would
        be made as if the column were not there."""
        return [s.name for s in self.signals.values()
                if not s.carried and (s.unparsed or s.out_of_range)]

    @property
    def silent_changes(self) -> bool:
        """True when using the data would change decisions without a record failing."""
        return bool(self.columns.warnings) or any(
            s.unparsed or s.out_of_range for s in self.signals.values()
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "records": self.records,
            "failed": self.failed,
            "failures": [f.to_dict() for f in self.failures[:20]],
            "signals": [s.to_dict() for s in self.signals.values()],
            "header_check": self.columns.to_dict(),
            "read_for_no_record": [{"signal": name, "silences": list(self.silenced.get(name, ()))}
                                   for name in self.unreadable()],
            "silent_changes": self.silent_changes,
        }


def profile(
    items: Iterable[Account | RecordError], signals: Iterable[str], columns: ColumnReport
) -> DataProfile:
    """Profile the reader's output for ``signals``."""
    result = DataProfile(signals={name: SignalProfile(name) for name in signals},
                         columns=columns)
    seen_failures: set[Any] = set()
    for item in items:
        if isinstance(item, RecordError):
            if item.location not in seen_failures:
                seen_failures.add(item.location)
                result.failed += 1
                result.records += 1
            result.failures.append(item)
            continue
        result.records += 1
        for name, value in item.values.items():
            sig = result.signals.get(name)
            if sig is None:
                continue
            sig.carried += 1
            number = value[-1] if isinstance(value, list) and value else value
            if isinstance(number, int | float) and not isinstance(number, bool):
                sig.numbers.append(float(number))
        for warning in item.warnings:
            sig = result.signals.get(warning.field)
            if sig is None:
                continue
            if "minimum" in warning.reason or "maximum" in warning.reason:
                sig.out_of_range += 1
            else:
                sig.unparsed += 1
            if len(sig.examples) < EXAMPLES and warning.value not in sig.examples:
                sig.examples.append(warning.value)
    return result


def render(result: DataProfile) -> list[str]:
    """The terminal table and the lines around it."""
    out = [f"{result.records} records, {result.failed} failed"]
    header = ("signal", "with value", "unparsed", "out of range", "min", "q1", "median", "q3",
              "max", "examples")
    rows = []
    for sig in result.signals.values():
        stats = sig.stats()
        rows.append((
            sig.name, f"{sig.carried}/{result.records - result.failed}", str(sig.unparsed),
            str(sig.out_of_range),
            *(f"{stats[k]:g}" if stats else "" for k in ("min", "q1", "median", "q3", "max")),
            ", ".join(repr(e) for e in sig.examples),
        ))
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]
    for warning in result.columns.warnings:
        out.append(f"missing from every record: {warning.message}")
    for name in result.unreadable():
        sig = result.signals[name]
        left_out = sig.unparsed + sig.out_of_range
        out.append(f"read for no record: not one value of '{name}' could be read ({left_out} "
                   f"left out): {effects_text(result.silenced.get(name, ()))}")
    for failure in result.failures[:20]:
        out.append(f"failed: {failure}")
    out.append("decisions would change silently: "
               + ("yes (see above)" if result.silent_changes else "no"))
    return out
