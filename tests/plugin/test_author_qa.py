"""What a plugin author ran into: a plugin without a SQL form under the duckdb and auto
engines, plugin code that changes the lists it is given, a sink that changes the
decisions it delivers. Each plugin is a ``--plugin`` file, as an author would write it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.support import AS_OF, run_cli
from upsell_rules.cli.loading import account_reader
from upsell_rules.engine import columnar
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.stream import evaluate_inputs
from upsell_rules.plugin.build import build_registry
from upsell_rules.plugin.registry import PluginRequest, PluginSelection
from upsell_rules.plugin.types import Summary
from upsell_rules.ruleset.loader import load_ruleset
from upsell_rules.workflow.plugin_kit import minimal_ruleset

NO_SQL_PLUGIN = '''
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation, Function, ParamSpec


def build(params):
    def per_seat(signals, as_of):
        power, seats = signals.get("power_users"), signals.get("seats_licensed")
        return None if power is None or not seats else power / seats
    return per_seat


@hookimpl
def upsell_rules_derivations(register):
    register(Derivation(name="qa_per_seat", description="power users per seat",
                        output_type="number", build=build,
                        params={"of": ParamSpec("signal", "power_users")}))


@hookimpl
def upsell_rules_functions(register):
    register(Function(name="qa_half", description="half", args=("number",),
                      arg_names=("x",), returns="number", call=lambda x: x / 2))
'''

SIGNALS = {
    "power_users": {"type": "integer"},
    "seats_licensed": {"type": "integer"},
    "per_seat": {"type": "number", "derive": "qa_per_seat"},
}
ACCOUNTS = [
    {"account_id": "A-1", "power_users": 4, "seats_licensed": 20},
    {"account_id": "A-2", "power_users": 1, "seats_licensed": 20},
]


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _jsonl(tmp_path: Path, records: list[dict[str, object]]) -> str:
    return _write(tmp_path, "accounts.jsonl", "".join(json.dumps(r) + "\n" for r in records))


# --- a plugin without a SQL form: the python engine decides, and the summary says why ----


def test_duckdb_engine_falls_back_naming_the_function_and_plugin(tmp_path: Path) -> None:
    plugin = _write(tmp_path, "qa_nosql.py", NO_SQL_PLUGIN)
    ruleset = _write(tmp_path, "r.yaml", minimal_ruleset(
        signals=SIGNALS, when="qa_half(per_seat) >= 0.1"))
    result = run_cli("dry-run", ruleset, "--plugin", plugin, "--data", _jsonl(tmp_path, ACCOUNTS),
                     "--as-of", AS_OF, "--engine", "duckdb", "--format", "jsonl", "--no-state")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert ("; engine python (not duckdb: function 'qa_half' (plugin 'qa_nosql') has no SQL "
            "form") in result.stderr
    bands = [json.loads(line)["band"] for line in result.stdout.splitlines()]
    assert bands == ["act_now", "wait"]


def test_auto_engine_falls_back_naming_the_signal_and_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(columnar, "AUTO_MIN_BYTES", 0)  # a small file takes the DuckDB path
    plugin = _write(tmp_path, "qa_nosql.py", NO_SQL_PLUGIN)
    registry = build_registry(
        selection=PluginSelection((PluginRequest(plugin, "--plugin"),)))
    rules = load_ruleset(_write(tmp_path, "r.yaml", minimal_ruleset(
        signals=SIGNALS, when="per_seat >= 0.1")), registry)
    evaluator = Evaluator(rules, registry, "auto")
    reader = account_reader(rules, registry, as_of=date(2026, 11, 2))
    summary = Summary()
    results = list(evaluate_inputs(evaluator, reader, [_jsonl(tmp_path, ACCOUNTS)],
                                   date(2026, 11, 2), summary, encoded=True))
    assert len(results) == 2 and summary.decided == 2
    assert summary.line().endswith(
        "; engine python (not duckdb: signal 'per_seat': derivation 'qa_per_seat' "
        "(plugin 'qa_nosql') has no SQL form)")


# --- plugin code that changes the lists it is given fails the account, named -------------

MUTATING_PLUGIN = '''
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation, Function, ParamSpec, UpsellType


def build(params):
    def count(signals, as_of):
        history = signals.get("history")
        if history is not None and signals["account_id"] == "A-2":
            history.append(1000)
        return None if history is None else len(history)
    return count


def peak(values):
    values.sort(reverse=True)
    return values[0]


def describe(signals):
    signals["history"].clear()
    return "described"


@hookimpl
def upsell_rules_derivations(register):
    register(Derivation(name="qa_count", description="how many", output_type="integer",
                        build=build, params={"of": ParamSpec("signal", "history")}))


@hookimpl
def upsell_rules_functions(register):
    register(Function(name="qa_peak", description="the largest", args=("integer_list",),
                      arg_names=("values",), returns="integer", call=peak))


@hookimpl
def upsell_rules_upsell_types(register):
    register(UpsellType(name="qa_type", title="QA", frame="testing", describe=describe))
'''

HISTORY = [
    {"account_id": "A-1", "history": [5, 200, 7]},
    {"account_id": "A-2", "history": [5, 200, 7]},
]


def _mutating(tmp_path: Path, when: str, upsell_type: str = "seat") -> tuple[str, str, str]:
    plugin = _write(tmp_path, "qa_mutates.py", MUTATING_PLUGIN)
    ruleset = _write(tmp_path, "r.yaml", minimal_ruleset(
        signals={"history": {"type": "integer_list"},
                 "how_many": {"type": "integer", "derive": "qa_count"}},
        when=when, upsell_type=upsell_type))
    return plugin, ruleset, _jsonl(tmp_path, HISTORY)


def test_a_derivation_appending_to_a_list_fails_that_account_only(tmp_path: Path) -> None:
    plugin, ruleset, data = _mutating(tmp_path, "how_many == 3 and latest(history) == 7")
    result = run_cli("dry-run", ruleset, "--plugin", plugin, "--data", data, "--as-of", AS_OF,
                     "--format", "jsonl", "--no-state")
    assert result.returncode == 1, result.stderr
    assert ("account A-2: derived signal 'how_many' (plugin 'qa_mutates') failed: "
            "AttributeError: 'tuple' object has no attribute 'append' (a list signal is "
            "given to a plugin as a read-only tuple") in result.stderr
    decided = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(d["account_id"], d["band"]) for d in decided] == [("A-1", "act_now")]


def test_a_function_sorting_its_list_argument_fails_naming_it(tmp_path: Path) -> None:
    plugin, ruleset, data = _mutating(tmp_path, "qa_peak(history) > 100 and latest(history) == 7")
    result = run_cli("dry-run", ruleset, "--plugin", plugin, "--data", data, "--as-of", AS_OF,
                     "--format", "jsonl", "--no-state")
    assert result.returncode == 1
    assert ("function 'qa_peak' (plugin 'qa_mutates') failed: AttributeError: 'tuple' object "
            "has no attribute 'sort'") in result.stderr
    assert result.stdout == ""  # both accounts call it; neither is decided on a sorted list


def test_describe_clearing_a_list_fails_naming_the_type(tmp_path: Path) -> None:
    plugin, ruleset, data = _mutating(tmp_path, "latest(history) == 7", upsell_type="qa_type")
    result = run_cli("dry-run", ruleset, "--plugin", plugin, "--data", data, "--as-of", AS_OF,
                     "--format", "jsonl", "--no-state")
    assert result.returncode == 1
    assert "upsell type 'qa_type' (plugin 'qa_mutates')" in result.stderr
    assert "'tuple' object has no attribute 'clear'" in result.stderr


# --- a sink that edits the decisions it is given changes nothing for the next sink --------

EDITING_SINK = '''
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import DeliveryReport, DeliveryResult, Sink


def deliver(decisions, context):
    report = DeliveryReport("qa_edit", "nowhere")
    for decision in decisions:
        decision["band"] = "edited"
        decision["triggers"].clear()
        report.results.append(DeliveryResult(decision["account_id"], "delivered"))
    return report


@hookimpl
def upsell_rules_sinks(register):
    register(Sink("qa_edit", "edits what it is given", deliver, options={}))
'''


def test_a_sink_editing_decisions_does_not_change_the_next_sinks(tmp_path: Path) -> None:
    plugin = _write(tmp_path, "qa_sink.py", EDITING_SINK)
    ruleset = _write(tmp_path, "r.yaml", minimal_ruleset(signals=SIGNALS, when="per_seat >= 0.1"))
    nosql = _write(tmp_path, "qa_nosql.py", NO_SQL_PLUGIN)
    result = run_cli("run", ruleset, "--plugin", plugin, "--plugin", nosql, "--data",
                     _jsonl(tmp_path, ACCOUNTS), "--as-of", AS_OF, "--no-state",
                     "--sink", "qa_edit", "--sink", "stdout")
    assert result.returncode == 0, result.stderr
    delivered = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [(d["band"], [t["id"] for t in d["triggers"]]) for d in delivered] == [
        ("act_now", ["fires"]), ("wait", [])]
