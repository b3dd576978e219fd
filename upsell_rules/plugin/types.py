"""The types plugins register: input fields, signal sources, derivations, upsell types,
expression functions and action sinks.

Plugins build these objects and hand them to the ``register`` callback of the matching
hook in :mod:`upsell_rules.plugin.hookspecs`. They are plain frozen dataclasses so that a
plugin author needs nothing but this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol, get_args

# Re-exported: a plugin builds RawRecord locations and reports bad rows with these, and
# needs nothing but this module and hookspecs.
from upsell_rules.errors import Location, RecordError

#: The value types a signal can have. Lists hold values of the named element type.
SignalType = Literal[
    "number",
    "integer",
    "boolean",
    "string",
    "date",
    "number_list",
    "integer_list",
    "string_list",
    "date_list",
]

SIGNAL_TYPES: tuple[str, ...] = get_args(SignalType)


@dataclass(frozen=True)
class FieldSpec:
    """An input field a source can provide, with its type (used to coerce raw text)."""

    name: str
    type: SignalType
    description: str = ""


@dataclass(frozen=True)
class RawRecord:
    """One account as a source read it: field name to raw value, and where it came from.

    Values are strings (CSV) or JSON values (JSON/JSONL); the core coerces them to the
    declared types, so a source never needs to know the ruleset.
    """

    values: Mapping[str, Any]
    location: Location


ParamKind = Literal[
    "number", "integer", "string", "signal", "signals", "boolean", "list", "mapping"
]


@dataclass(frozen=True)
class ParamSpec:
    """A parameter a derivation takes from the ruleset's ``params:`` mapping (or an
    option of a source or a sink).

    ``signal`` parameters name another signal the derivation reads (``signals`` a list of
    them); the core checks the names exist and orders derivations so inputs come first.
    ``list`` is a list of texts and ``mapping`` a mapping of text to text (used by
    source and sink options, e.g. the events a ruleset counts as gated-feature attempts).
    ``operator_only`` marks an option that is the operator's to give (a SQL query): a
    ruleset that sets it gets a warning from ``validate``, and the plugin refuses it
    unless the operator opts in for the run. ``is_path`` marks a file path: given in a
    ruleset it is relative to the ruleset's folder and may not leave it. ``is_env_name``
    marks the name of an environment variable the plugin reads (a token's): given in a
    ruleset it must be one a ruleset may read, as for ``${VAR}``.
    """

    kind: ParamKind
    default: Any = None
    required: bool = False
    description: str = ""
    operator_only: bool = False
    is_path: bool = False
    is_env_name: bool = False
    #: Optional check of a value of the right kind: the problems as (key inside the
    #: value or "", message naming the accepted values); ``validate`` reports each at
    #: its YAML line. Never executes anything from the ruleset.
    check: Callable[[Any], list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class SourceContext:
    """What a source may know besides the path: its options and the evaluation date.

    ``options`` are the ruleset's ``sources.<name>`` mapping with the source's defaults
    filled in. ``as_of`` is the evaluation date (``None`` when the caller has none);
    sources that aggregate events by date must ignore anything after it.
    """

    options: Mapping[str, Any] = field(default_factory=dict)
    as_of: date | None = None


@dataclass(frozen=True)
class Source:
    """A signal source: turns a file (or URL) into raw account records.

    ``matches(path)`` says whether this source reads that ``--data`` value without being
    named (usually by extension, or by URL scheme); a user can always name the source
    explicitly with ``--data NAME:PATH``. ``read(path)`` yields a :class:`RawRecord` per
    account or a :class:`~upsell_rules.errors.RecordError` for a row it could not parse,
    and must go on with the next row after an error.

    A source that needs options or the evaluation date sets ``read_with_context``
    instead; the core then calls ``read_with_context(path, context)`` and never
    ``read``. ``options`` declares what the ruleset's ``sources.<name>`` section may set
    (``validate`` checks it).

    ``--data NAME:VALUE`` hands ``VALUE`` to the source unchanged (a path, a URL, an
    account id of an API): the core checks nothing, the source validates it and raises
    :class:`~upsell_rules.errors.InputError` with a clear message when it cannot use it.

    ``byte_ranges`` declares that the source's files can be cut at line ends and each
    part read on its own with the same results, so ``dry-run --jobs N`` lets worker
    processes read parts of a large file: ``"lines"`` (one record per line, as JSON
    Lines) or ``"csv"`` (a header row, then one record per row; a file with a quote or
    a carriage return is read in one process, as a quoted cell may span lines).

    What happens when ``read`` misbehaves: an exception before the first record stops
    the run (exit 2, naming the plugin); an exception later keeps the records already
    read and reports one error saying where the source stopped; an item that is not a
    :class:`RawRecord` or :class:`~upsell_rules.errors.RecordError` is one failed record.
    """

    name: str
    description: str
    matches: Callable[[str], bool]
    read: Callable[[str], Iterator[RawRecord | RecordError]]
    fields: tuple[FieldSpec, ...] = ()
    options: Mapping[str, ParamSpec] = field(default_factory=dict)
    read_with_context: (
        Callable[[str, SourceContext], Iterator[RawRecord | RecordError]] | None
    ) = None
    byte_ranges: Literal["", "lines", "csv"] = ""
    #: ``"parquet"``: DuckDB may read this source's files itself (``read_parquet``) for
    #: the ``duckdb`` engine's columnar path, where every column is already of its
    #: field's type (then ``read`` would give the same values, unconverted).
    #: ``"csv"``: DuckDB may read them with ``read_csv`` (a header row, cells separated
    #: by the source's ``delimiter`` option, else a tab for ``.tsv`` / ``.tab`` and a
    #: comma for others, ``"`` quoting) where every cell is plain text that ``read``
    #: would hand over unchanged, stripped of nothing, empty cells left out.
    columnar: Literal["", "parquet", "csv"] = ""


class SqlScope(Protocol):
    """What a derivation's or function's SQL form can ask of the query being compiled.

    Values are SQLGlot expressions (``sqlglot.exp.Expression``) or, for list signals,
    :class:`upsell_rules.sql.lists.ListValue`; typed ``Any`` so that this contract needs
    no SQL library.
    """

    #: The SQLGlot dialect the query is rendered in (``duckdb``, ``postgres``...).
    dialect: str
    #: The evaluation date: a constant of the compiled query.
    as_of: date

    def signal(self, name: str) -> Any:
        """The SQL value of another signal (an input column or a derived signal)."""
        ...

    def type_of(self, name: str) -> str:
        """The declared type of a signal (``number``, ``string_list``...)."""
        ...


#: A compiled derivation: reads the account's signals (already coerced and derived so
#: far) and the as-of date, and returns the value or ``None`` when it cannot be known.
DeriveFn = Callable[[Mapping[str, Any], date], Any]

#: How a derived value moves when nothing but the as-of date moves (see
#: :attr:`Derivation.over_time`): one of :data:`OVER_TIME_KINDS`, or a function
#: ``(params, signals)`` returning every date on which the value may differ from the day
#: before (``signals`` as on the as-of date; any superset is correct, only slower).
OverTime = str | Callable[[Mapping[str, Any], Mapping[str, Any]], Iterable[date]]

#: ``fixed``: the value does not read the date. ``days_since`` / ``days_until``: a whole
#: number of days that is one more (``days_since``) or one less (``days_until``) each day,
#: or missing on every day.
OVER_TIME_KINDS = ("fixed", "days_since", "days_until")


@dataclass(frozen=True)
class Derivation:
    """A derived signal: a named function from other signals (and parameters) to a value.

    ``build(params)`` is called once per ruleset load with the parameters (defaults
    filled in) and returns the per-account function. Returning ``None`` from that
    function means "unknown": conditions on it are false and it is listed as missing.
    """

    name: str
    description: str
    output_type: SignalType
    build: Callable[[Mapping[str, Any]], DeriveFn]
    params: Mapping[str, ParamSpec] = field(default_factory=dict)
    #: Optional SQL form, for ``upsell-rules compile`` and the ``duckdb`` engine:
    #: ``sql(params, scope)`` returns the derived value as a SQLGlot expression (or a
    #: list value of :mod:`upsell_rules.sql.lists`), reading other signals through
    #: ``scope.signal(name)``; see :class:`SqlScope`. Without it a ruleset using this
    #: derivation is decided by the Python engine only.
    sql: Callable[[Mapping[str, Any], SqlScope], Any] | None = None
    #: Optional: how the value moves when only the as-of date moves (an
    #: :data:`OverTime`), read with the signals it :meth:`reads` staying as they are.
    #: ``explain`` uses it to find the day a block or cap clears by deciding the account
    #: only on the days something can change; ``None`` (not known) makes it decide every
    #: day up to two years ahead, which is slower but gives the same dates.
    over_time: OverTime | None = None

    def reads(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The signal names this derivation reads, given its resolved parameters."""
        names: list[str] = []
        for pname, spec in self.params.items():
            value = params.get(pname, spec.default)
            if spec.kind == "signal" and isinstance(value, str):
                names.append(value)
            elif spec.kind == "signals" and isinstance(value, list | tuple):
                names.extend(str(v) for v in value)
        return tuple(names)


@dataclass(frozen=True)
class UpsellType:
    """A kind of upsell (seat, plan, add-on...) that triggers can name.

    ``describe(signals)`` returns a one-line, number-grounded summary of the account's
    situation for this upsell type (used when a trigger has no evidence template of its
    own), or ``None`` when the signals it needs are missing. ``signals`` holds the
    account's inputs, derived signals and constants, plus ``"_as_of"``: the evaluation
    date (a :class:`datetime.date`). An exception, or a value that is not text or
    ``None``, fails that account only, naming the plugin.

    The type's defaults, used by a play that names it (``upsell_type: seat``) and
    leaves the matching key out: ``default_window`` (the play's ``window``),
    ``default_owner`` (its ``owner``: an owner rule set of the ruleset),
    ``default_opening`` (its ``message``, a template) and ``frame`` (its ``frame``).
    ``trigger_hint`` is the condition a ruleset usually triggers this type on (shown
    by ``upsell-rules plugins``; nothing evaluates it). ``title`` and ``description``
    appear in ``explain``, the queue and the HTML report.
    """

    name: str
    title: str
    frame: str
    description: str = ""
    default_window: str = ""
    describe: Callable[[Mapping[str, Any]], str | None] | None = None
    default_owner: str = ""
    default_opening: str = ""
    trigger_hint: str = ""


@dataclass(frozen=True)
class Function:
    """A function conditions may call, e.g. ``count_within(gated_feature_attempts, 14)``.

    ``args`` are the signal types of the arguments, in order (``number`` also accepts
    integers, ``number_list`` integer lists); ``returns`` is the result's type.
    ``call`` is a pure Python function: same arguments, same result, no I/O. The core
    never calls it with a missing argument (the call's value is then missing), and a
    ``None`` result means missing too. With ``needs_as_of`` the evaluation date is passed
    as the keyword argument ``as_of``. ``plugin`` is filled in by the registry.
    """

    name: str
    description: str
    args: tuple[SignalType, ...]
    returns: SignalType
    call: Callable[..., Any]
    needs_as_of: bool = False
    arg_names: tuple[str, ...] = ()
    plugin: str = ""
    #: Optional SQL form: ``sql(args, scope)`` gets the arguments as SQL values (never
    #: missing: the core makes the call missing when one is) and returns the result as
    #: a SQLGlot expression; see :class:`SqlScope`. Without it, no compiled query.
    sql: Callable[[Sequence[Any], SqlScope], Any] | None = None

    def signature(self) -> str:
        """``count_within(dates: date_list, days: number) -> integer``."""
        names = self.arg_names or tuple(f"arg{i + 1}" for i in range(len(self.args)))
        params = ", ".join(f"{n}: {t}" for n, t in zip(names, self.args, strict=False))
        return f"{self.name}({params}) -> {self.returns}"


DeliveryStatus = Literal["delivered", "failed", "skipped"]


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one decision at one sink.

    ``skipped`` means the sink had already delivered it (same idempotency key) and did
    not send it again. ``detail`` says why a delivery failed (or where it went).
    """

    account_id: str
    status: DeliveryStatus
    detail: str = ""
    attempts: int = 0


@dataclass
class DeliveryReport:
    """Per-decision outcomes of one sink's delivery, plus problems not tied to one."""

    sink: str
    target: str = ""
    results: list[DeliveryResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def count(self, status: DeliveryStatus) -> int:
        """How many decisions ended with ``status``."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.errors and self.count("failed") == 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "sink": self.sink,
            "target": self.target,
            "delivered": self.count("delivered"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "results": [
                {"account_id": r.account_id, "status": r.status, "detail": r.detail,
                 "attempts": r.attempts}
                for r in self.results
            ],
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class SinkContext:
    """Everything a sink knows about one delivery besides the decisions.

    ``options`` are the sink's configuration (from the ruleset's ``sinks:`` section or
    ``--sink NAME:TARGET``) with defaults filled in; ``label`` names the configured sink
    (``csm_slack``, or the ``--sink`` text) and ``where`` says where it was configured
    (``ruleset.yaml:120:5``, or ``--sink``), so reports can be located. ``ruleset`` is the
    decisions' ``ruleset`` block (name, version, sha256) and ``as_of`` the evaluation
    date: with the account id they make the idempotency key.
    """

    options: Mapping[str, Any]
    ruleset: Mapping[str, Any]
    as_of: date
    label: str = ""
    where: str = ""


@dataclass(frozen=True)
class Sink:
    """An action sink: delivers decision records somewhere (a file, a webhook, a CRM).

    ``deliver(decisions, context)`` is called once per run with every decision to send
    and returns a :class:`DeliveryReport` with one result per decision. It must not
    raise for a failed delivery (report it); the core reports an exception as a failure
    of every decision, naming the plugin. ``target_option`` is the option the short form
    ``--sink NAME:TARGET`` fills (``path`` for a file, ``url`` for a webhook).
    """

    name: str
    description: str
    deliver: Callable[[Sequence[Mapping[str, Any]], SinkContext], DeliveryReport]
    options: Mapping[str, ParamSpec] = field(default_factory=dict)
    target_option: str = ""


#: A prepared engine: the account's signals in, one outcome per condition out.
Predicate = Callable[[Mapping[str, Any]], tuple[bool, ...]]


@dataclass(frozen=True)
class Engine:
    """A named way to evaluate a list of checked conditions.

    ``prepare(conditions, types)`` is called once per ruleset load and returns the
    per-account predicate. ``available()`` returns ``None`` when the engine can run here,
    or a one-line reason why it cannot. ``parallel_safe`` is ``False`` for an engine
    whose prepared state must not be copied into forked worker processes (a C
    extension's sessions): ``--jobs`` then decides everything in one process.
    """

    name: str
    description: str
    #: Called with the checked condition nodes (:mod:`upsell_rules.expr.nodes`; typed
    #: ``Any`` here because the condition language is a layer above the plugin contract).
    prepare: Callable[[Sequence[Any], Mapping[str, str]], Predicate]
    available: Callable[[], str | None] = lambda: None
    parallel_safe: bool = True
    #: Optional: ``prepare_batch(conditions, types)`` returns a predicate over a batch
    #: of accounts' signals (one outcome tuple per account, in order), for an engine
    #: that is fast per batch and slow per account (a database). The core then calls it
    #: once per batch, and ``prepare`` only for one account at a time (``explain``).
    prepare_batch: Callable[[Sequence[Any], Mapping[str, str]], BatchPredicate] | None = None


#: Outcomes for a batch of accounts' signals, one tuple per account, in order.
BatchPredicate = Callable[[Sequence[Mapping[str, Any]]], list[tuple[bool, ...]]]


@dataclass
class Summary:
    """Counts for one run: records read, decided, failed (they always add up)."""

    read: int = 0
    decided: int = 0
    failed: int = 0
    bands: dict[str, int] = field(default_factory=dict)
    #: The engine that decided (named in :meth:`line`).
    engine: str = ""
    #: Why the engine asked for did not decide (a plugin without a SQL form), if so.
    engine_note: str = ""
    #: What else happened to the run that the reader should know (a worker process lost).
    notes: list[str] = field(default_factory=list)

    def order_bands(self, order: list[str]) -> None:
        """Put the band counts in the ruleset's order (highest band first)."""
        rank = {band: index for index, band in enumerate(order)}
        self.bands = dict(sorted(self.bands.items(), key=lambda kv: rank.get(kv[0], len(rank))))

    def line(self) -> str:
        """The one-line summary printed after a run."""
        bands = ", ".join(f"{k} {v}" for k, v in self.bands.items())
        text = f"read {self.read}, decided {self.decided}, failed {self.failed}"
        text = f"{text} ({bands})" if bands else text
        # Which engine decided: under ``--engine auto`` (the default) it depends on the input.
        if self.engine:
            note = f" ({self.engine_note})" if self.engine_note else ""
            text = f"{text}; engine {self.engine}{note}"
        return "; ".join([text, *self.notes])


__all__ = [
    "OVER_TIME_KINDS",
    "SIGNAL_TYPES",
    "DeliveryReport",
    "DeliveryResult",
    "DeliveryStatus",
    "Derivation",
    "DeriveFn",
    "Engine",
    "FieldSpec",
    "Function",
    "Location",
    "OverTime",
    "ParamKind",
    "ParamSpec",
    "Predicate",
    "RawRecord",
    "RecordError",
    "SignalType",
    "Sink",
    "SinkContext",
    "Source",
    "SourceContext",
    "Summary",
    "UpsellType",
]
