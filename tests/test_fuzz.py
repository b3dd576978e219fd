"""The fuzz targets, run for a bounded time in CI.

Two parts: every file of the committed regression corpus (``fuzz/corpus/<target>/``:
seeds and every input that once crashed) is replayed through its target's
``one_input``, each within the harness's time limit; and each target runs on inputs
hypothesis generates, with a fixed example budget and a fixed seed. The properties are
the targets' own (see ``fuzz/harness.py``). Long coverage-guided campaigns use atheris
and are documented in ``fuzz/README.md``; nothing here needs atheris.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
if str(FUZZ) not in sys.path:
    sys.path.insert(0, str(FUZZ))

import harness  # noqa: E402

TARGETS = ("expr", "ruleset", "csv", "json", "jsonl", "templates", "webhook")


def target(name: str) -> ModuleType:
    """The fuzz target script ``fuzz/fuzz_<name>.py`` as a module."""
    return importlib.import_module(f"fuzz_{name}")


def run(name: str, data: bytes) -> None:
    """One input through one target, which must not take long enough to count as a hang."""
    start = time.perf_counter()
    target(name).one_input(data)
    assert time.perf_counter() - start < harness.TIME_LIMIT, data[:200]


def _corpus() -> list[Any]:
    cases = []
    for name in TARGETS:
        for path in sorted((FUZZ / "corpus" / name).iterdir()):
            cases.append(pytest.param(name, path, id=f"{name}/{path.name}"))
    return cases


def test_every_target_has_a_corpus_and_a_script() -> None:
    for name in TARGETS:
        assert (FUZZ / f"fuzz_{name}.py").is_file()
        assert any((FUZZ / "corpus" / name).iterdir()), name


@pytest.mark.parametrize(("name", "path"), _corpus())
def test_corpus_replays_without_a_crash_or_a_hang(name: str, path: Path) -> None:
    run(name, path.read_bytes())


# --- hypothesis: a fixed budget per target ------------------------------------------

_NAMES = sorted(harness.TYPES) + sorted(harness.CONSTANTS)


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> str:
    """Conditions built from the grammar: mostly well-formed, typed or not."""
    leaf = st.one_of(
        st.sampled_from(_NAMES),
        st.integers(-10**20, 10**20).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.sampled_from(["80%", "1e308", "0", "-0.0", "'2026-11-02'", "'Gold'", "true"]),
        st.text(alphabet="ab'\"\\\n_ ", max_size=6).map(lambda t: json.dumps(t)),
        st.sampled_from(["[1, 2]", "['a', 'B']", "[]", "['2026-01-01']"]),
    )
    if depth >= 3:
        return draw(leaf)
    inner = conditions(depth + 1)
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return f"{draw(inner)} {draw(st.sampled_from(['and', 'or']))} {draw(inner)}"
    if shape == 1:
        return f"not ({draw(inner)})"
    if shape == 2:
        return f"{draw(inner)} {draw(st.sampled_from(['<', '<=', '>', '>=', '==', '!=']))} {draw(inner)}"
    if shape == 3:
        return f"({draw(inner)} {draw(st.sampled_from(['+', '-', '*', '/']))} {draw(inner)})"
    if shape == 4:
        return f"{draw(inner)} {draw(st.sampled_from(['is missing', 'is present']))}"
    if shape == 5:
        return f"{draw(inner)} {draw(st.sampled_from(['in', 'not in']))} {draw(inner)}"
    if shape == 6:
        name = draw(st.sampled_from(["count_within", "days_since", "latest", "count_of", "x"]))
        args = ", ".join(draw(st.lists(inner, max_size=2)))
        return f"{name}({args})"
    if shape == 7:
        return f"-{draw(inner)}"
    return draw(leaf)


@settings(max_examples=400)
@given(text=conditions())
def test_expression_target_on_grammar_conditions(text: str) -> None:
    run("expr", text.encode("utf-8"))


@settings(max_examples=300)
@given(text=st.text(alphabet="nmibsdl()[]<>=!'\"\\%,.+-*/ 0123456789aeortus_", max_size=40))
def test_expression_target_on_token_soup(text: str) -> None:
    run("expr", text.encode("utf-8"))


_MINIMAL = sorted((FUZZ / "corpus" / "ruleset").iterdir(), key=lambda p: p.stat().st_size)
_TINY_RULESET = next(
    p.read_text(encoding="utf-8") for p in _MINIMAL if b"name: tiny" in p.read_bytes()
)
_YAML_BITS = [
    "&a ", "*a", "!!python/object/apply:os.system ['id']", "!custom ", "---\n", "? ",
    "{", "}", "[", "]", ": ", "- ", "'", '"', "\n", "  ", "<<: *a\n", "!!binary ", "|\n",
    "when: n > 5\n", "window: '{n:pct}'\n", "\t", "\x00", "\ufeff", "# c\n",
]


@st.composite
def mutated_rulesets(draw: st.DrawFn) -> bytes:
    """The tiny valid ruleset with a few YAML-significant edits."""
    text = _TINY_RULESET
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(_YAML_BITS)) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 12)) :]
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(mutated_rulesets(), st.binary(max_size=200)))
def test_ruleset_target_on_mutated_rulesets(data: bytes) -> None:
    run("ruleset", data)


_CELL = st.one_of(
    st.sampled_from(
        ["", "abc", "12", "-3.5", "1e400", "9" * 400, "2026-13-45", "2026-10-01", "a|b", "=1+1",
         "@x", "+1", "-1", "\t", "true", "P1|P2", '"', "{health_score}", "NaN"]
    ),
    st.text(max_size=8),
)
_COLUMNS = ["account_id", "account_name", "health_score", "renewal_date", "seats_licensed",
            "open_ticket_priorities", "competitor_evaluation", "seats_active_history", "x"]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    columns = draw(st.lists(st.sampled_from(_COLUMNS), min_size=1, max_size=6, unique=True))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(columns)
    for _ in range(draw(st.integers(0, 6))):
        writer.writerow([draw(_CELL) for _ in range(draw(st.integers(0, len(columns) + 1)))])
    return buffer.getvalue().encode("utf-8", "surrogatepass")


@settings(max_examples=120)
@given(data=st.one_of(csv_files(), st.binary(max_size=120)))
def test_csv_target(data: bytes) -> None:
    run("csv", data)


_JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _CELL,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_COLUMNS), inner),
    max_leaves=8,
)


@settings(max_examples=100)
@given(
    records=st.lists(st.dictionaries(st.sampled_from(_COLUMNS), _JSON_VALUE), max_size=5),
    wrap=st.booleans(),
    cut=st.integers(0, 400),
)
def test_json_and_jsonl_targets(records: list[dict[str, Any]], wrap: bool, cut: int) -> None:
    as_json = json.dumps({"accounts": records} if wrap else records)
    as_lines = "\n".join(json.dumps(r) for r in records)
    for text in (as_json, as_json[:cut]):
        run("json", text.encode("utf-8", "surrogatepass"))
    for text in (as_lines, as_lines[:cut]):
        run("jsonl", text.encode("utf-8", "surrogatepass"))


# --- issue 12: templates and webhook answers ---------------------------------------------

_TEMPLATE_BITS = ["{a}", "{k}", "{c:list}", "{b:pct}", "{h:int}", "{i:money}", "{j}", "[", "]",
                  "{", "}", "{a:bogus}", " ", "x", "\n", "{0.__class__}", "{x}"]


@settings(max_examples=150)
@given(pieces=st.lists(st.sampled_from(_TEMPLATE_BITS), max_size=40),
       repeat=st.sampled_from([1, 1, 3, 120]), values=st.text(max_size=30))
def test_templates_target(pieces: list[str], repeat: int, values: str) -> None:
    text = "".join(pieces) * repeat
    run("templates", text.encode("utf-8", "surrogatepass") + b"\x00"
        + values.encode("utf-8", "surrogatepass"))


_STATUS_LINES = [b"HTTP/1.1 200 OK", b"HTTP/1.0 201 Created", b"HTTP/1.1 301 Moved",
                 b"HTTP/1.1 307 Temporary Redirect", b"HTTP/1.1 429 Slow", b"HTTP/1.1 500 X",
                 b"HTTP/1.1 99 Odd", b"HTTP/2 200", b"garbage", b""]
_HEADER_LINES = [b"Content-Length: 5", b"Content-Length: -1", b"Content-Length: 99999",
                 b"Location: http://127.0.0.1:1/S3CRETpathTOKEN", b"Location: \x1b[2J",
                 b"Transfer-Encoding: chunked", b"X: \xff\xfe", b"NoColon"]


@settings(max_examples=40, deadline=None)
@given(status=st.sampled_from(_STATUS_LINES),
       headers=st.lists(st.sampled_from(_HEADER_LINES), max_size=3),
       body=st.binary(max_size=60) | st.sampled_from([b"\x1b]0;t\x07", b"S3CRETpathTOKEN"]),
       end=st.sampled_from([b"\r\n\r\n", b"\r\n", b""]))
def test_webhook_target(status: bytes, headers: list[bytes], body: bytes, end: bytes) -> None:
    run("webhook", b"\r\n".join([status, *headers]) + end + body)
