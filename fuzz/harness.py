"""What every fuzz target checks, shared by the atheris scripts and the test suite.

Each ``check_*`` function takes one input and raises (``AssertionError`` for a broken
property, anything else for a crash) only when the project misbehaves. The property is
the same everywhere: an input either loads, or ends in the project's own located
errors (:class:`ExprSyntaxError` with an offset, :class:`Diagnostic` findings,
:class:`RecordError` and :class:`InputError` naming the file). Beyond that, whatever
loads must also work: conditions compile to code made of whitelisted constructs and
agree with the reference interpreter, valid rulesets decide accounts identically on
both engines, and every account read is decided or failed, with CSV output that no
spreadsheet runs as a formula.
"""

from __future__ import annotations

import ast
import atexit
import csv
import io
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# A checkout that was not pip-installed still works.
for _extra in (ROOT, ROOT / "plugins"):
    if str(_extra) not in sys.path:
        sys.path.append(str(_extra))

from upsell_rules.engine.evaluate import Evaluator  # noqa: E402
from upsell_rules.engine.stream import decide_all  # noqa: E402
from upsell_rules.errors import (  # noqa: E402
    Diagnostic,
    InputError,
    PluginError,
    RecordError,
)
from upsell_rules.expr.check import check  # noqa: E402
from upsell_rules.expr.codegen import compile_predicate, generate_source  # noqa: E402
from upsell_rules.expr.interpret import evaluate, holds  # noqa: E402
from upsell_rules.expr.nodes import Not  # noqa: E402
from upsell_rules.expr.parser import ExprSyntaxError, parse  # noqa: E402
from upsell_rules.io.formatters import queue_order, render  # noqa: E402
from upsell_rules.io.queue import queue_lines  # noqa: E402
from upsell_rules.io.records import AccountReader  # noqa: E402
from upsell_rules.limits import Limits, using  # noqa: E402
from upsell_rules.plugin.build import default_registry  # noqa: E402
from upsell_rules.plugin.types import Summary  # noqa: E402
from upsell_rules.ruleset.loader import check_ruleset, load_ruleset  # noqa: E402

AS_OF = date(2026, 11, 2)

#: One input taking longer than this counts as a hang (the replay test enforces it;
#: for atheris pass ``-timeout``).
TIME_LIMIT = 10.0

#: Small limits, so that fuzzing reaches the limit checks with small inputs.
LIMITS = Limits(
    ruleset_mb=0.25, input_mb=1, json_mb=0.5, records=300, line_bytes=4096, plugin_timeout=0
)

REGISTRY = default_registry()
FUNCTIONS: Mapping[str, Any] = getattr(REGISTRY, "functions", {})

_CODE = re.compile(r"[EW]\d{3}")

# --- conditions --------------------------------------------------------------------

#: The signals fuzzed conditions may use: one or two of every type, short names so
#: that mutations find them.
TYPES: dict[str, str] = {
    "n": "number",
    "m": "number",
    "i": "integer",
    "b": "boolean",
    "c": "boolean",
    "s": "string",
    "t": "string",
    "d": "date",
    "e": "date",
    "nl": "number_list",
    "il": "integer_list",
    "sl": "string_list",
    "dl": "date_list",
}
CONSTANTS: dict[str, Any] = {"K": 10, "F": 0.5, "S": "Gold", "B": True}

_BIG_INT = 10**300

#: Signal values each compiled condition is run against: missing values, ordinary ones,
#: case variants, zeros and the extremes of every type.
SAMPLES: list[dict[str, Any]] = [
    {},
    {
        "n": 12.5, "m": 3, "i": 7, "b": True, "c": False, "s": "Gold", "t": "gold",
        "d": date(2026, 10, 1), "e": date(2026, 11, 2), "nl": [1.5, 2, 3],
        "il": [1, 2, 3], "sl": ["A", "b"], "dl": [date(2026, 10, 30)],
    },
    {
        "n": 0, "m": -0.0, "i": 0, "b": False, "s": "", "t": "STRASSE", "d": date.min,
        "e": date.max, "nl": [], "il": [0], "sl": ["straße", "Gold"], "dl": [date.max],
    },
    {
        "n": 1e308, "m": -1e308, "i": _BIG_INT, "s": "ß", "t": "ss", "nl": [1e308],
        "il": [_BIG_INT, -_BIG_INT], "sl": [""], "dl": [date.min, date.max],
    },
    {"n": 5e-324, "m": 1e-300, "i": -1, "c": True, "e": date(2026, 11, 3)},
]
for _sample in SAMPLES:
    _sample["_as_of"] = AS_OF

_ALLOWED_NODES = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.Return,
    ast.Tuple, ast.Name, ast.Load, ast.Store, ast.Constant, ast.BoolOp, ast.And, ast.Or,
    ast.UnaryOp, ast.Not, ast.USub, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div,
    ast.Compare, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.Call, ast.Attribute, ast.ListComp, ast.comprehension,
    ast.NamedExpr, ast.keyword, ast.Try, ast.ExceptHandler,
)
_LOCAL = re.compile(r"(?:K|c|a)\d+")


def assert_safe_source(source: str, consts: Mapping[str, Any], types: Mapping[str, str]) -> None:
    """Fail unless generated predicate code uses only the constructs the compiler may emit.

    Allowed: reading declared signals with ``s.get("<declared name>")`` into ``v_<name>``
    locals, literals, arithmetic into ``a<n>`` temporaries, comparisons, and/or/not,
    ``.casefold()``, a comprehension over ``_x``, calls to registered functions and the
    interpreter fallback through the compiler's constants, and one ``try``/``except``
    naming a constant. No other name, attribute, call, import, subscript or lambda.
    """
    tree = ast.parse(source)
    names = {"s", "_x", "predicate"} | {f"v_{name}" for name in types}
    for node in ast.walk(tree):
        assert isinstance(node, _ALLOWED_NODES), f"{type(node).__name__} in {source}"
        if isinstance(node, ast.Name):
            assert node.id in names or (_LOCAL.fullmatch(node.id) and (
                node.id in consts or not node.id.startswith("K")
            )), f"name {node.id!r} in {source}"
        elif isinstance(node, ast.Attribute):
            assert node.attr in ("get", "casefold"), f"attribute {node.attr!r} in {source}"
            if node.attr == "get":
                assert isinstance(node.value, ast.Name) and node.value.id == "s", source
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "get":
                assert len(node.args) == 1 and not node.keywords, source
                arg = node.args[0]
                assert isinstance(arg, ast.Constant), source
                assert arg.value in types or arg.value == "_as_of", source
            elif isinstance(func, ast.Attribute):
                assert func.attr == "casefold" and not node.args and not node.keywords, source
            else:
                assert isinstance(func, ast.Name) and func.id in consts, source
                assert callable(consts[func.id]), source
        elif isinstance(node, ast.Constant):
            assert node.value is None or isinstance(node.value, bool | int | float | str), source
        elif isinstance(node, ast.keyword):
            assert node.arg == "as_of", source
    for value in consts.values():
        items = value if isinstance(value, frozenset | tuple) else (value,)
        for item in items:
            assert callable(item) or isinstance(item, bool | int | float | str | date), (
                f"constant {item!r} in {source}"
            )


def _outcome(fn: Callable[[], Any]) -> Any:
    """A result, or the name of the plugin failure it ended in (engines must agree)."""
    try:
        return fn()
    except PluginError:
        return "plugin error"


def check_expression(text: str) -> None:
    """Parse, check, compile and run one condition; see the module docstring."""
    try:
        node = parse(text)
    except ExprSyntaxError as exc:
        assert 0 <= exc.offset <= len(text), (text, exc.offset)
        assert exc.message, text
        return
    checked, problems = check(node, TYPES, CONSTANTS, FUNCTIONS)
    for problem in problems:
        assert 0 <= problem.offset <= len(text), (text, problem)
        assert _CODE.fullmatch(problem.code), (text, problem)
    if problems:
        return
    negated = Not(checked, checked.span)
    source, consts = generate_source([checked, negated], TYPES)
    assert_safe_source(source, consts, TYPES)
    predicate = compile_predicate([checked, negated], TYPES)
    for signals in SAMPLES:
        compiled = _outcome(lambda s=signals: predicate(s))  # type: ignore[misc]
        reference = _outcome(
            lambda s=signals: (holds(checked, s), holds(negated, s))  # type: ignore[misc]
        )
        assert compiled == reference, (text, signals, compiled, reference)
        if compiled != "plugin error":
            result, _trace = evaluate(checked, signals, text)
            assert (result is True) == compiled[0], (text, signals)
            assert not (compiled[0] and compiled[1]), (text, signals)


# --- rulesets ----------------------------------------------------------------------

_SCRATCH = Path(tempfile.mkdtemp(prefix="upsell-rules-fuzz-"))
atexit.register(shutil.rmtree, _SCRATCH, True)


def scratch_file(name: str, data: bytes) -> str:
    """Write ``data`` to a file called ``name`` in this process's scratch folder."""
    path = _SCRATCH / name
    path.write_bytes(data)
    return str(path)


def _sample_accounts() -> str:
    """A few accounts from the bundled samples, as a small JSONL file."""
    lines = (ROOT / "samples" / "accounts.jsonl").read_text(encoding="utf-8").splitlines()
    return scratch_file("sample.jsonl", "\n".join(lines[:6]).encode("utf-8"))


_SAMPLE_DATA = _sample_accounts()


def check_ruleset_bytes(data: bytes) -> None:
    """Validate one ruleset file; if it is valid, run it on both engines."""
    path = scratch_file("ruleset.yaml", data)
    with using(LIMITS):
        ruleset, findings = check_ruleset(path, REGISTRY)
    for finding in findings:
        assert isinstance(finding, Diagnostic), finding
        assert finding.location.path == path, finding
        assert _CODE.fullmatch(finding.code), finding
        assert finding.message and str(finding).startswith(path), finding
    if ruleset is None or any(f.is_error for f in findings):
        return
    engines = [Evaluator(ruleset, REGISTRY, name) for name in ("python", "interpreter")]
    reader = AccountReader(
        REGISTRY, ruleset.input_types(), LIMITS
    )
    for item in reader.read(_SAMPLE_DATA):
        if isinstance(item, RecordError):
            continue
        outcomes = [
            _outcome(lambda e=e, a=item: e.decide(a, AS_OF))  # type: ignore[misc]
            for e in engines
        ]
        assert outcomes[0] == outcomes[1], (item.account_id, outcomes)


# --- data sources ------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_DEFAULT_RULESET = load_ruleset(str(ROOT / "rulesets" / "upsell_timing.yaml"), REGISTRY)
_EVALUATOR = Evaluator(_DEFAULT_RULESET, REGISTRY)
_INPUT_TYPES = _DEFAULT_RULESET.input_types()


def check_source_bytes(data: bytes, suffix: str) -> None:
    """Read one data file through its source and decide every account in it."""
    path = scratch_file(f"accounts{suffix}", data)
    summary = Summary()
    reader = AccountReader(REGISTRY, _INPUT_TYPES, LIMITS)
    try:
        with using(LIMITS):
            items = list(decide_all(_EVALUATOR, reader.read(path), AS_OF, summary))
    except InputError as exc:
        assert str(exc).startswith(path), exc
        return
    decisions: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, RecordError):
            assert item.location.path == path and item.location.line >= 1, item
            assert item.message, item
            json.dumps(item.to_dict())
        else:
            assert isinstance(item, dict) and item["account_id"], item
            decisions.append(item)
    assert summary.read == summary.decided + summary.failed, summary
    assert summary.decided == len(decisions), summary
    assert summary.read <= LIMITS.records, summary
    for fmt in ("json", "jsonl"):
        render(decisions, fmt)
    for width in (None, 80, 140):  # the queue table, as dry-run prints it
        queue_lines(queue_order(decisions), width)
    check_csv_output(render(decisions, "csv"))


def check_csv_output(text: str) -> None:
    """No cell of a CSV we wrote starts like a spreadsheet formula."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0] if rows else []
    numeric = {"score", "raw_score", "capped_at"}
    for row in rows[1:]:
        for name, cell in zip(header, row, strict=False):
            if name in numeric or _is_number(cell):
                continue
            assert not cell.startswith(_FORMULA_START), (name, cell)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def run_atheris(one_input: Callable[[bytes], None]) -> None:
    """Run ``one_input`` under atheris (the caller instruments the imports it wants)."""
    import atheris  # only the long fuzzing campaign needs it (pip install -e '.[fuzz]')

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
