"""Diagnostics and the located error types every part of the project raises."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file, counted from 1. ``line``/``col`` are 0 when unknown."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.path}:{self.line}:{self.col}"
        if self.line:
            return f"{self.path}:{self.line}"
        return self.path


#: Every diagnostic code: what it means (one line) and where the docs explain it, as
#: ``code -> (summary, page#anchor)`` under ``docs/``. A code not listed here cannot be
#: raised (:class:`Diagnostic` checks), and tests/test_architecture.py keeps this table,
#: the code and the docs' tables in step.
DIAGNOSTIC_CODES: dict[str, tuple[str, str]] = {
    "E001": (
        'the file cannot be read, is not UTF-8 text, or is not valid YAML',
        "authoring.md#diagnostic-codes",
    ),
    "E002": (
        'a YAML tag (!!something) was used; rulesets hold plain values only',
        "authoring.md#diagnostic-codes",
    ),
    "E003": (
        'a second YAML document (---) in the file',
        "authoring.md#diagnostic-codes",
    ),
    "E004": (
        'a file built to exhaust the checker: more than 100 aliases (*name), more than 25,000'
        ' values once aliases are expanded ("billion laughs"), an alias inside the value it '
        'refers to, nesting deeper than 64 levels (an alias counts as deep as the value it'
        ' repeats), or an integer of more than 4,300 digits',
        "authoring.md#diagnostic-codes",
    ),
    "E005": (
        'a list or mapping used as a mapping key',
        "authoring.md#diagnostic-codes",
    ),
    "E006": (
        'the same key twice in one mapping',
        "authoring.md#diagnostic-codes",
    ),
    "E007": (
        'the file is larger than the limit for a YAML file (1 MB; UPSELL_RULES_MAX_RULESET_MB'
        ' changes it); it is not parsed',
        "authoring.md#diagnostic-codes",
    ),
    "E010": (
        'a required key is missing',
        "authoring.md#diagnostic-codes",
    ),
    "E011": (
        'a key that does not belong there',
        "authoring.md#diagnostic-codes",
    ),
    "E012": (
        'an id or name that is not lower-case letters, digits and _',
        "authoring.md#diagnostic-codes",
    ),
    "E013": (
        'a value of the wrong kind (text where a number belongs, a file that is not a '
        'mapping)',
        "authoring.md#diagnostic-codes",
    ),
    "E014": (
        'a value not among the allowed choices',
        "authoring.md#diagnostic-codes",
    ),
    "E015": (
        'a number out of range (weights 0-1, band limits and caps 0-100, scores 0 or more, '
        'scale above 0)',
        "authoring.md#diagnostic-codes",
    ),
    "E016": (
        'an empty list or text where content is required',
        "authoring.md#diagnostic-codes",
    ),
    "E017": (
        'a signal with both derive: and when:',
        "authoring.md#diagnostic-codes",
    ),
    "E019": (
        'any other schema problem (the message comes from the schema checker)',
        "authoring.md#diagnostic-codes",
    ),
    "E101": (
        'an unknown signal or constant name (in a condition or a derivation parameter)',
        "authoring.md#diagnostic-codes",
    ),
    "E102": (
        'a type problem: comparing different types, a non-true/false value used as a '
        'condition, in without a list, a list mixing types, a malformed date',
        "authoring.md#diagnostic-codes",
    ),
    "E103": (
        'the condition does not parse',
        "authoring.md#diagnostic-codes",
    ),
    "E104": (
        'a call to a function no plugin provides, or with the wrong number of arguments (a '
        'wrong argument type is E102)',
        "authoring.md#diagnostic-codes",
    ),
    "E110": (
        'an id used twice (tiers, gates, red flags and triggers share one namespace; bands '
        'have their own)',
        "authoring.md#diagnostic-codes",
    ),
    "E111": (
        'a name that is both a signal and a constant',
        "authoring.md#diagnostic-codes",
    ),
    "E120": (
        'category weights do not add up to 1',
        "authoring.md#diagnostic-codes",
    ),
    "E121": (
        'bands leave a gap, overlap, do not start at 0 or end at 100, or have max not above '
        'min',
        "authoring.md#diagnostic-codes",
    ),
    "E124": (
        'the best tiers of every category add up to more than the 0-100 scale',
        "authoring.md#diagnostic-codes",
    ),
    "E130": (
        'a trigger names an upsell type no plugin provides',
        "authoring.md#diagnostic-codes",
    ),
    "E131": (
        'a band, gate, red flag or trigger names a play that does not exist',
        "authoring.md#diagnostic-codes",
    ),
    "E132": (
        'a play names an owner set that does not exist',
        "authoring.md#diagnostic-codes",
    ),
    "E133": (
        'an unknown derivation',
        "authoring.md#diagnostic-codes",
    ),
    "E134": (
        'a derivation parameter is missing, unknown or of the wrong kind, or params: without '
        'derive:',
        "authoring.md#diagnostic-codes",
    ),
    "E135": (
        "a signal's declared type does not match what it is (derivation output, or boolean "
        'for when:)',
        "authoring.md#diagnostic-codes",
    ),
    "E136": (
        'derived signals that depend on each other in a loop',
        "authoring.md#diagnostic-codes",
    ),
    "E140": (
        'a template problem: unknown placeholder, unknown format, stray { }, unmatched or '
        'nested [ ]',
        "authoring.md#diagnostic-codes",
    ),
    "E150": (
        'a plugin listed under plugins: is not installed (or is disabled for this run)',
        "authoring.md#diagnostic-codes",
    ),
    "E151": (
        'sources: names a source no plugin provides',
        "authoring.md#diagnostic-codes",
    ),
    "E152": (
        'a source option that does not exist or has the wrong type',
        "authoring.md#diagnostic-codes",
    ),
    "E153": (
        'sinks: names a sink no plugin provides',
        "authoring.md#diagnostic-codes",
    ),
    "E154": (
        'a sink option that does not exist, is missing or has the wrong type, or an unknown '
        'band',
        "authoring.md#diagnostic-codes",
    ),
    "E160": (
        "a signal's min: or max: is not a number range that fits it (min above max, or a "
        "range on a signal that is not a number)",
        "authoring.md#diagnostic-codes",
    ),
    "E301": (
        'ruleset: names a file that does not exist (the path is relative to the test file)',
        "cli.md#test",
    ),
    "E302": (
        'sample: names an account that is not in the data file',
        "cli.md#test",
    ),
    "E303": (
        'an expectation names a band, trigger, gate, red flag, play, upsell type or category '
        'the ruleset does not have',
        "cli.md#test",
    ),
    "E304": (
        'account: or overrides: names a field that is neither in the data contract nor in the'
        ' ruleset',
        "cli.md#test",
    ),
    "E305": (
        'a case has both or neither of sample: and account:, or a field value is malformed '
        "('abc' is not a number)",
        "cli.md#test",
    ),
    "E306": (
        'a date that is not YYYY-MM-DD, or a case with no as_of at all',
        "cli.md#test",
    ),
    "E307": (
        'two cases with the same name',
        "cli.md#test",
    ),
    "E308": (
        'the data file cannot be read, or sample: is used without data:',
        "cli.md#test",
    ),
    "E309": (
        'the ruleset has errors (listed first); run validate on it',
        "cli.md#test",
    ),
    "E310": (
        'a plugin failed while deciding the case',
        "cli.md#test",
    ),
    "W122": (
        "a tier that can never decide its category's score",
        "authoring.md#diagnostic-codes",
    ),
    "W123": (
        'a gate, red flag or trigger whose condition can never hold',
        "authoring.md#diagnostic-codes",
    ),
    "W155": (
        "a ruleset carries a SQL query (sources.sql.query), which runs only when the operator "
        "allows it for the run",
        "authoring.md#diagnostic-codes",
    ),
    "E170": (
        "memory: names a play or band that does not exist, a cooldown names both or neither, "
        "or a feedback outcome is malformed",
        "authoring.md#diagnostic-codes",
    ),
    "W201": (
        'an input field is declared with a different type than the data contract gives it',
        "authoring.md#diagnostic-codes",
    ),
    "W203": (
        'a constant that no rule, template or setting uses',
        "authoring.md#diagnostic-codes",
    ),
    "W260": (
        "a percent or fraction signal compared with a bare number above 1 (85 where 85% "
        "or 0.85 is meant): the condition can never hold",
        "authoring.md#diagnostic-codes",
    ),
    "W261": (
        "a signal counted in its own unit (points, seats, days) compared with a percentage: "
        "75% is 0.75, so health_score >= 75% holds for almost every account",
        "authoring.md#diagnostic-codes",
    ),
}


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a ruleset: where, a stable code, and a message.

    Codes starting with ``E`` are errors (the ruleset cannot be used); ``W`` codes are
    warnings (it can, but something looks wrong).
    """

    location: Location
    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in DIAGNOSTIC_CODES:
            raise ValueError(f"diagnostic code {self.code!r} is not in DIAGNOSTIC_CODES")

    @property
    def doc(self) -> str:
        """Where the docs explain this code: ``page.md#anchor`` under ``docs/``."""
        return DIAGNOSTIC_CODES[self.code][1]

    def as_dict(self) -> dict[str, object]:
        """The finding as ``validate`` and ``test`` print it with ``--format json``."""
        loc = self.location
        return {
            "path": loc.path,
            "line": loc.line,
            "col": loc.col,
            "code": self.code,
            "severity": "error" if self.is_error else "warning",
            "message": self.message,
            "doc": self.doc,
        }

    @property
    def is_error(self) -> bool:
        """True for ``E`` codes."""
        return self.code.startswith("E")

    def __str__(self) -> str:
        loc = self.location
        # Findings always carry line and column (counted from 1), even when unknown.
        return f"{loc.path}:{max(loc.line, 1)}:{max(loc.col, 1)}: {self.code} {self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order by file, then position, then code."""
        loc = self.location
        return (loc.path, loc.line, loc.col, self.code)


class UpsellRulesError(Exception):
    """Base class of every error this project raises on purpose."""


class RulesetError(UpsellRulesError):
    """A ruleset could not be loaded; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


@dataclass(frozen=True)
class RecordError:
    """One input record that could not be read, with where and why.

    ``field`` and ``value`` are empty when the whole row is at fault (a JSON syntax
    error, a row with too many cells).
    """

    location: Location
    message: str
    field: str = ""
    value: str = ""
    account_id: str = ""

    def __str__(self) -> str:
        head = f"{self.location}: "
        if self.field:
            return f"{head}{self.field}: {self.message}"
        return f"{head}{self.message}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "location": str(self.location),
            "account_id": self.account_id or None,
            "field": self.field or None,
            "value": self.value or None,
            "message": self.message,
        }


class InputError(UpsellRulesError):
    """An input file as a whole cannot be read (missing, unknown format, no header)."""


class PluginError(UpsellRulesError):
    """A plugin failed to load or misbehaved; the message names the plugin."""


class PluginTimeout(BaseException):
    """A plugin made no progress within the run's time budget; the message names it.

    Raised by :mod:`upsell_rules.plugin.watchdog` in the middle of the stuck plugin's code. It
    is a ``BaseException``, like ``KeyboardInterrupt``, so that a plugin's own
    ``except Exception`` cannot swallow it and carry on hanging.
    """


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest ``name``, or None when none is close. One that differs only
    in case (``ACC-1012`` for ``acc-1012``) is the answer before any other."""
    choices = list(candidates)
    same = [c for c in choices if c.casefold() == name.casefold()]
    close = same or difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest candidate, or empty when none is close:
    the one wording of a near miss in every message."""
    near = closest(name, candidates)
    return f" (did you mean '{near}'?)" if near is not None else ""
