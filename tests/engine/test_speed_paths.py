"""The fast paths give exactly the results of the plain ones (nothing here is timed).

Speed is measured by bench/run_all.py; these tests pin down that every shortcut taken
for it (orjson, typed coercion, batches, worker processes, the generator command) keeps
decisions and messages byte-identical.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from upsell_rules.cli.main import cli
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.stream import decide_all
from upsell_rules.io import fastjson
from upsell_rules.io.records import AccountReader, CoercionError, coerce, coerce_fast
from upsell_rules.io.synthetic import generate_accounts, write_jsonl
from upsell_rules.plugin.build import default_registry
from upsell_rules.plugin.types import Summary
from upsell_rules.ruleset.loader import load_ruleset

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 2)
RULESET = str(ROOT / "rulesets" / "upsell_timing.yaml")

KINDS = ["number", "integer", "boolean", "string", "date", "number_list", "integer_list",
         "string_list", "date_list"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**400), 10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["2026-11-02", " 2026-11-02", "2026-02-30", "2026-11-02\n",
                     "\u0662\u0660\u0662\u0666-\u0661\u0661-\u0660\u0662",
                     "12", "007", " 5", "1e3", "nan", "true", "", "  ", "P1"]),
)
pipe_lists = st.lists(
    st.one_of(st.text("0123456789", max_size=4), st.sampled_from([" 3", "٣", "1.5", "-2", ""])),
    max_size=4,
).map("|".join)
raw_values = st.one_of(scalars, st.lists(scalars, max_size=4), pipe_lists)


def _outcome(fn: Any, value: Any, kind: str) -> tuple[str, Any]:
    try:
        result = fn(value, kind)
    except CoercionError as exc:
        return "error", str(exc)
    return "ok", (type(result).__name__, repr(result))


@settings(max_examples=600, deadline=None)
@given(raw_values, st.sampled_from(KINDS))
def test_fast_coercion_equals_coercion(value: Any, kind: str) -> None:
    assert _outcome(coerce_fast, value, kind) == _outcome(coerce, value, kind)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
              st.floats(allow_nan=False, allow_infinity=False), st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fast_dumps_equals_json_dumps(value: Any) -> None:
    try:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            fastjson.dumps_compact(value)
        return
    assert fastjson.dumps_compact(value) == expected


@pytest.mark.parametrize("value", [1e-05, 1.5e-300, 1e16, -0.0, 2.5, "a\x00\u2028é😀", 10**30])
def test_fast_dumps_edge_values(value: Any) -> None:
    doc = {"v": value, "l": [value]}
    assert fastjson.dumps_compact(doc) == json.dumps(doc, ensure_ascii=False,
                                                     separators=(",", ":"))


def test_fast_loads_matches_json_or_declines() -> None:
    for text in ['{"a": 1, "a": 2}', '{"x": 1e400}', '{"s": "\\ud800"}', '[1, 2]',
                 '{"big": 123456789012345678901234567890}', "not json", '{"f": 0.1}']:
        fast = fastjson.loads_or_none(text)
        if fast is None:
            continue
        assert fast == json.loads(text)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_fast_loads_equals_json_loads(value: Any) -> None:
    text = json.dumps(value)
    fast = fastjson.loads_or_none(text)
    if fast is not None:
        assert repr(fast) == repr(json.loads(text))


@pytest.fixture(scope="module")
def mixed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated accounts with a duplicate, a malformed value and a broken line mixed in."""
    path = tmp_path_factory.mktemp("speed") / "accounts.jsonl"
    records = list(generate_accounts(1500, 11, AS_OF))
    records[700]["health_score"] = "abc"
    records[900]["account_id"] = records[100]["account_id"]
    write_jsonl(path, records)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(1200, "{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _dry_run(path: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["dry-run", RULESET, "--data", str(path), "--as-of",
                                      AS_OF.isoformat(), "--format", "jsonl", *extra])
    # The warning about more workers than CPU cores depends on the machine; drop it.
    err = "".join(line for line in result.stderr.splitlines(keepends=True)
                  if not line.startswith("upsell-rules: warning: --jobs"))
    return result.exit_code, result.stdout, err


@pytest.fixture
def many_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let --jobs 3 run three workers on a two-core machine (the cap would make it 2)."""
    from upsell_rules.cli import dry_run

    monkeypatch.setattr(dry_run, "cpu_cores", lambda: 8)


def test_more_jobs_than_cores_are_capped_with_a_warning_saying_what_was_used(
    mixed_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upsell_rules.cli import dry_run

    used: list[int] = []
    real = dry_run.evaluate_inputs

    def spy(*args: object) -> object:
        used.append(args[5])  # type: ignore[arg-type]  # (evaluator, reader, data, as_of, summary, jobs, ...)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(dry_run, "cpu_cores", lambda: 2)
    monkeypatch.setattr(dry_run, "evaluate_inputs", spy)
    result = CliRunner().invoke(cli, ["dry-run", RULESET, "--data", str(mixed_file),
                                      "--as-of", AS_OF.isoformat(), "--format", "jsonl",
                                      "--jobs", "4"])
    assert ("upsell-rules: warning: --jobs 4 is more than the 2 CPU core(s) here; using "
            "--jobs 2") in result.stderr
    assert used == [2]
    assert result.stdout.count("\n") == 1500 - 1  # the bad health_score costs one signal
    assert (result.exit_code, result.stdout) == _dry_run(mixed_file)[:2]


def test_jobs_within_the_cores_run_as_asked_without_a_warning(
    mixed_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upsell_rules.cli import dry_run

    monkeypatch.setattr(dry_run, "cpu_cores", lambda: 2)
    result = CliRunner().invoke(cli, ["dry-run", RULESET, "--data", str(mixed_file),
                                      "--as-of", AS_OF.isoformat(), "--format", "jsonl",
                                      "--jobs", "2"])
    assert "--jobs" not in result.stderr


def test_cpu_cores_is_what_this_process_may_use() -> None:
    from upsell_rules.cli.dry_run import cpu_cores

    assert 1 <= cpu_cores() <= (os.cpu_count() or 1)


@pytest.mark.usefixtures("many_cores")
def test_jobs_give_the_same_output_in_the_same_order(mixed_file: Path) -> None:
    code, out, err = _dry_run(mixed_file)
    assert code == 1
    # The malformed health_score costs that one signal (a located warning), not the
    # account; the duplicate and the broken line fail.
    assert out.count("\n") == 1500 - 1
    assert '"data_warnings"' in out
    assert "duplicate account_id" in err and "not a number" in err and "not valid JSON" in err
    assert _dry_run(mixed_file, "--jobs", "2") == (code, out, err)
    assert _dry_run(mixed_file, "--jobs", "3") == (code, out, err)


@pytest.fixture(scope="module")
def mixed_csv(mixed_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from upsell_rules.io.synthetic import write_csv

    path = tmp_path_factory.mktemp("speed") / "accounts.csv"
    records = list(generate_accounts(1500, 12, AS_OF))
    records[650]["seats_licensed"] = "many"
    records[1300]["account_id"] = records[20]["account_id"]
    records[1301]["account_id"] = records[20]["account_id"]
    records[1302]["account_id"] = records[1200]["account_id"]
    write_csv(path, records)
    return path


@pytest.mark.parametrize("data", ["mixed_file", "mixed_csv"])
@pytest.mark.usefixtures("many_cores")
def test_jobs_reading_byte_ranges_give_the_same_output(
    data: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upsell_rules.engine import parallel

    path: Path = request.getfixturevalue(data)
    expected = _dry_run(path)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 20_000)  # many chunks, duplicates across
    registry = default_registry()
    rules = load_ruleset(RULESET, registry)
    reader = AccountReader(registry, rules.input_types())
    plan = parallel.plan_ranges(reader, [str(path)], 2)
    if data == "mixed_file":  # the CSV has no quotes; the JSONL file has a broken line
        assert plan is not None and len(plan.chunks) > 10
    assert _dry_run(path, "--jobs", "2") == expected
    assert _dry_run(path, "--jobs", "3") == expected


def test_jobs_fall_back_for_csv_with_quoted_cells(tmp_path: Path) -> None:
    from upsell_rules.engine import parallel

    path = tmp_path / "quoted.csv"
    path.write_text('account_id,account_name\nA1,"Multi\nline"\n', encoding="utf-8")
    registry = default_registry()
    reader = AccountReader(registry, {})
    parallel.MIN_PARALLEL_BYTES, old = 0, parallel.MIN_PARALLEL_BYTES
    try:
        assert parallel.plan_ranges(reader, [str(path)], 2) is None
    finally:
        parallel.MIN_PARALLEL_BYTES = old


def test_jsonl_reading_is_the_same_without_orjson(mixed_file: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import upsell_rules_files.json_source as json_source

    registry = default_registry()
    rules = load_ruleset(RULESET, registry)
    types = rules.input_types()

    def read() -> list[str]:
        return [repr(item) for item in AccountReader(registry, types).read(str(mixed_file))]

    fast = read()
    monkeypatch.setattr(json_source, "loads_or_none", lambda text: None)
    assert read() == fast


def test_evaluate_batch_matches_decide(mixed_file: Path) -> None:
    registry = default_registry()
    rules = load_ruleset(RULESET, registry)
    evaluator = Evaluator(rules, registry)
    reader = AccountReader(registry, rules.input_types())
    items = list(reader.read(str(mixed_file)))
    batch = evaluator.evaluate_batch(items, AS_OF)
    assert len(batch) == len(items)
    for item, (was_error, result) in zip(items, batch, strict=True):
        if was_error:
            assert result is item
        else:
            assert result == evaluator.decide(item, AS_OF)  # type: ignore[arg-type]
    summary = Summary()
    decided = [d for d in decide_all(evaluator, items, AS_OF, summary) if isinstance(d, dict)]
    assert summary.decided == len(decided) == 1500 - 1  # the bad health_score costs one signal


def test_the_default_engine_is_python() -> None:
    assert Evaluator(load_ruleset(RULESET)).engine.name == "python"


def test_sample_command_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for name in ("a.jsonl", "b.jsonl"):
        target = tmp_path / name
        result = CliRunner().invoke(cli, ["sample", "--accounts", "25", "--seed", "5",
                                          "--as-of", "2026-11-02", "--output", str(target)])
        assert result.exit_code == 0, result.output
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    rows = [json.loads(line) for line in outputs[0].decode().splitlines()]
    assert len(rows) == 25 and rows[0]["account_id"] == "SYN-0000001"
    csv_target = tmp_path / "a.csv"
    result = CliRunner().invoke(cli, ["sample", "--accounts", "3", "--as-of", "2026-11-02",
                                      "-o", str(csv_target)])
    assert result.exit_code == 0
    assert csv_target.read_text().splitlines()[0].startswith("account_id,")
    other = CliRunner().invoke(cli, ["sample", "--accounts", "25", "--seed", "6",
                                     "--as-of", "2026-11-02", "-o", str(tmp_path / "c.jsonl")])
    assert other.exit_code == 0
    assert (tmp_path / "c.jsonl").read_bytes() != outputs[0]


_LINES = st.one_of(
    st.sampled_from([
        b"", b"   ", b"\t\r", b"\x1c", b"\xef\xbb\xbf{\"account_id\": \"A\"}",
        b'{"account_id": "B", "arr": 12345678901234567890123}', b"[1, 2]", b"null",
        b"\xff\xfe", b'{"account_id": "C", "x": NaN}', b'{"account_id": "D"}\r',
        b'{"account_id": "E", "s": "\xe2\x80\xa8 \xc3\xa9"}', b"{not json",
        b'{"account_id": "F", "note": "' + b"x" * 60 + b'"}', b"\xc3\xa9" * 30,
        b'{"account_id": "G", "n": 1e400}', b'{"a": 1, "a": 2}',
    ]),
    st.binary(max_size=30),
    st.builds(lambda value: json.dumps(value, ensure_ascii=False).encode(), json_values),
)


def _jsonl_outcome(read: Any, path: Path) -> list[str]:
    from upsell_rules.errors import InputError

    out: list[str] = []
    try:
        for item in read(str(path)):
            out.append(repr(item))
    except InputError as exc:
        out.append(f"InputError: {exc}")
    return out


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_LINES, max_size=8), final_newline=st.booleans(),
       line_bytes=st.sampled_from([0, 40, 70]), input_mb=st.sampled_from([0.0, 0.0002]))
def test_jsonl_byte_reader_equals_text_reader(
    lines: list[bytes], final_newline: bool, line_bytes: int, input_mb: float,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The orjson byte reader and the text reader give the same records and errors."""
    import upsell_rules_files.json_source as json_source
    from upsell_rules.limits import Limits, using

    path = tmp_path_factory.mktemp("jsonl") / "data.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"\n" if final_newline else b""))
    with using(Limits(line_bytes=line_bytes, input_mb=input_mb)):
        fast = _jsonl_outcome(json_source._read_jsonl_bytes, path)
        text = _jsonl_outcome(json_source._read_jsonl_text, path)
    assert fast == text


@pytest.fixture
def gc_tuning_allowed() -> Iterator[None]:
    """As the command line does: let runs change the collector's settings."""
    from upsell_rules.engine.gctune import allow_gc_tuning

    allow_gc_tuning()
    try:
        yield
    finally:
        allow_gc_tuning(False)


def test_a_library_user_keeps_their_collector_settings(mixed_file: Path) -> None:
    import gc

    registry = default_registry()
    rules = load_ruleset(RULESET, registry)
    evaluator = Evaluator(rules, registry)
    reader = AccountReader(registry, rules.input_types())
    before = gc.get_threshold()
    seen = []
    for _ in decide_all(evaluator, reader.read(str(mixed_file)), AS_OF):
        seen.append(gc.get_threshold())
    assert seen and all(threshold == before for threshold in seen)
    assert gc.get_freeze_count() == 0


def test_fewer_collections_restores_the_collector_settings(gc_tuning_allowed: None) -> None:
    import gc

    from upsell_rules.engine.gctune import RUN_THRESHOLD, fewer_collections

    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == RUN_THRESHOLD
        assert gc.get_freeze_count() > 0
        with fewer_collections():  # nested: no change, and the outer one still holds
            assert gc.get_threshold()[0] == RUN_THRESHOLD
        assert gc.get_threshold()[0] == RUN_THRESHOLD
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_an_abandoned_run_restores_the_collector_settings(
    mixed_file: Path, gc_tuning_allowed: None
) -> None:
    import gc

    registry = default_registry()
    rules = load_ruleset(RULESET, registry)
    evaluator = Evaluator(rules, registry)
    reader = AccountReader(registry, rules.input_types())
    before = gc.get_threshold()
    stream = decide_all(evaluator, reader.read(str(mixed_file)), AS_OF)
    next(stream)
    assert gc.get_threshold() != before
    stream.close()
    assert gc.get_threshold() == before


_CONTRACT_TYPES = {"a_num": "number", "a_int": "integer", "a_text": "string", "a_flag": "boolean",
                   "a_day": "date", "a_ints": "integer_list", "a_nums": "number_list",
                   "a_days": "date_list", "a_texts": "string_list"}


_VALID = {
    "number": st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6)),
    "integer": st.integers(-10**6, 10**6),
    "string": st.text(min_size=1, max_size=5).filter(lambda t: not t[0].isspace()),
    "boolean": st.booleans(),
    "date": st.dates().map(lambda d: d.isoformat()),
    "integer_list": st.lists(st.integers(0, 99), max_size=3),
    "number_list": st.lists(st.floats(0, 9), max_size=3),
    "date_list": st.lists(st.dates().map(lambda d: d.isoformat()), max_size=3),
    "string_list": st.lists(st.text(max_size=3), max_size=3),
}


# Values one type takes and another refuses or converts: where a fast path could go wrong.
_NEAR_MISSES = st.sampled_from([
    2.5, 3.0, -0.0, True, False, 0, 1, " x", "x ", "", "  ", "12", "007", "1.5", 10**400,
    2**63, float("nan"), float("inf"), None, [], [None], [""], ["1", 2], [1, 2.5], [True],
    [10**400], "2026-11-02", " 2026-11-02", "2026-02-30", "2026-W45-1", "20261102", "1|2",
    ["2026-11-02", "x"], "true", "yes",
])


@st.composite
def _raw_records(draw: Any) -> dict[str, Any]:
    names = draw(st.permutations([*_CONTRACT_TYPES, "account_name", "other"]))
    record: dict[str, Any] = {}
    for name in names[: draw(st.integers(0, len(names)))]:
        record[name] = draw(_VALID[_CONTRACT_TYPES.get(name, "string")])
    if draw(st.booleans()):
        # One value the fast path may have to refuse; the others take it.
        name = draw(st.sampled_from(sorted(_CONTRACT_TYPES)))
        record[name] = draw(st.one_of(_NEAR_MISSES, _NEAR_MISSES, raw_values))
    return record


@settings(max_examples=1000, deadline=None)
@given(_raw_records())
def test_straight_line_coercion_equals_the_general_loop(values: dict[str, Any]) -> None:
    """The generated coercer gives the general loop's account, or defers to it."""
    from upsell_rules.errors import Location
    from upsell_rules.plugin.types import RawRecord

    reader = AccountReader(default_registry(), _CONTRACT_TYPES)
    raw = RawRecord({"account_id": "A-1", **values}, Location("t.jsonl", 3))
    fast = reader._coerce(raw, {})
    reader._straight = lambda _values: None
    general = reader._coerce(raw, {})
    # Equal accounts (dict equality: the fields may come in another order) or errors.
    assert fast == general
    if not isinstance(fast, list):  # the same types too (1 == 1.0 == True in Python)
        assert isinstance(general, type(fast))
        assert {k: repr(v) for k, v in fast.values.items()} == {
            k: repr(v) for k, v in general.values.items()}


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(KINDS), raw_values, max_size=len(KINDS)))
def test_the_compiled_record_coercer_equals_coercion(record: dict[str, Any]) -> None:
    """The straight-line coercer (generated from FAST_PATHS) takes a record only when
    every value is what coerce() makes of it; otherwise it declines (None)."""
    from upsell_rules.io.records import compile_coercer

    straight = compile_coercer({kind: kind for kind in KINDS})
    result = straight(record)
    if result is None:
        return
    for kind, value in record.items():
        expected = _outcome(coerce, value, kind)
        assert expected[0] == "ok"
        if expected[1] == ("NoneType", "None"):
            assert kind not in result
        else:
            assert ("ok", (type(result[kind]).__name__, repr(result[kind]))) == expected


def test_the_command_line_skips_the_final_collection_and_still_flushes_files(
    tmp_path: Path,
) -> None:
    """As the command line ends, every object is frozen out of the interpreter's last
    full collection (about 0.1 s after a large run); a file left open is still flushed
    and closed as its last reference goes, as before."""
    import subprocess
    import sys

    kept = tmp_path / "kept.txt"
    code = (
        "import atexit, gc, sys\n"
        "from upsell_rules.cli.main import main\n"
        "KEPT = open(sys.argv[1], 'w')\n"
        "KEPT.write('flushed at exit')\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0, file=sys.stderr))\n"
        "sys.argv = ['upsell-rules', '--version']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(kept)], capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "frozen True" in done.stderr
    assert kept.read_text() == "flushed at exit"


def test_no_final_collection_leaves_a_library_users_collector_alone(
    gc_tuning_allowed: None,
) -> None:
    import gc

    from upsell_rules.engine.gctune import allow_gc_tuning, no_final_collection

    allow_gc_tuning(False)
    no_final_collection()
    assert gc.get_freeze_count() == 0
    allow_gc_tuning()
    try:
        no_final_collection()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
