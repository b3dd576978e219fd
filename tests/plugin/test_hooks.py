"""One test (at least) per hook: a plugin implements it and the core uses the result.

The meta-test in ``test_hookspecs_meta.py`` requires a ``test_hook_<hook name>`` here for
every hook in :mod:`upsell_rules.plugin.hookspecs`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from upsell_rules.engine.engines import PYTHON_ENGINE, Engine
from upsell_rules.engine.evaluate import EngineUnavailable, Evaluator, pick_engine
from upsell_rules.engine.stream import decide_all
from upsell_rules.errors import Location, PluginError, RecordError
from upsell_rules.io.delivery import deliver, resolve_sinks
from upsell_rules.io.records import AccountReader
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import (
    DeliveryReport,
    DeliveryResult,
    Derivation,
    FieldSpec,
    Function,
    ParamSpec,
    RawRecord,
    Sink,
    SinkContext,
    Source,
    Summary,
    UpsellType,
)
from upsell_rules.ruleset.loader import check_ruleset
from upsell_rules.workflow.plugin_kit import (
    assert_decision,
    evaluate_records,
    load_ruleset_text,
    make_registry,
    minimal_ruleset,
)

AS_OF = date(2026, 11, 2)


def plugin(name: str, **hooks: Any) -> ModuleType:
    """A plugin module made of the given hook functions (each marked as an impl)."""
    module = ModuleType(name)
    for hook, function in hooks.items():
        setattr(module, hook, hookimpl(function))
    return module


def test_hook_upsell_rules_fields(tmp_path: Path) -> None:
    def fields(register: Any) -> None:
        register(FieldSpec("crm_tier", "integer", "Tier in the CRM."))

    registry = make_registry(plugin("crm_fields", upsell_rules_fields=fields))
    assert registry.fields["crm_tier"].type == "integer"
    reader = AccountReader(registry, {})
    accounts = list(reader.coerce_record(RawRecord({"account_id": "A", "crm_tier": "3"},
                                                   Location("x", 1))))
    assert accounts[0].values["crm_tier"] == 3  # type: ignore[union-attr]
    ruleset = minimal_ruleset(signals={"crm_tier": {"type": "string"}}, when="crm_tier == 'x'")
    _, findings = check_ruleset("r.yaml", registry, text=ruleset)
    assert [f.code for f in findings] == ["W201"]


def test_hook_upsell_rules_sources(tmp_path: Path) -> None:
    def read(path: str) -> Iterator[RawRecord | RecordError]:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                account_id, health = line.rstrip("\n").split("\t")
                yield RawRecord({"account_id": account_id, "health_score": health},
                                Location(path, number))

    def sources(register: Any) -> None:
        register(Source("tsv", "Tab-separated.", lambda p: p.endswith(".tsv"), read))

    registry = make_registry(plugin("tsv_plugin", upsell_rules_sources=sources))
    data = tmp_path / "accounts.tsv"
    data.write_text("A\t80\nB\tlow\n", encoding="utf-8")
    items = list(AccountReader(registry, {}).read(str(data)))
    assert items[0].values["health_score"] == 80  # type: ignore[union-attr]
    # A bad value costs that one signal, with a warning (docs/data.md).
    assert "health_score" not in items[1].values  # type: ignore[union-attr]
    assert [w.value for w in items[1].warnings] == ["low"]  # type: ignore[union-attr]
    renamed = tmp_path / "accounts.txt"
    data.rename(renamed)
    named = list(AccountReader(registry, {}).read(f"tsv:{renamed}"))
    assert named[0].account_id == "A"  # type: ignore[union-attr]


def test_hook_upsell_rules_derivations() -> None:
    def build(params: Mapping[str, Any]) -> Any:
        factor = float(params["factor"])
        source = str(params["of"])
        return lambda s, as_of: None if s.get(source) is None else s[source] * factor

    def derivations(register: Any) -> None:
        register(Derivation("scaled", "x * factor.", "number", build, {
            "of": ParamSpec("signal", required=True),
            "factor": ParamSpec("number", 2),
        }))

    registry = make_registry(plugin("scaler", upsell_rules_derivations=derivations))
    ruleset = minimal_ruleset(
        signals={"arr": {"type": "number"},
                 "arr_k": {"type": "number", "derive": "scaled",
                           "params": {"of": "arr", "factor": 0.001}}},
        when="arr_k >= 25",
    )
    decisions = evaluate_records(ruleset, [{"account_id": "A", "arr": 30000},
                                           {"account_id": "B", "arr": 3000}],
                                 as_of=AS_OF, registry=registry)
    assert [d["band"] for d in decisions] == ["act_now", "wait"]


def test_hook_upsell_rules_functions() -> None:
    def functions(register: Any) -> None:
        register(Function("pct", "a/b.", ("number", "number"), "number",
                          lambda a, b: None if b == 0 else a / b))

    registry = make_registry(plugin("pct_plugin", upsell_rules_functions=functions))
    assert registry.functions["pct"].plugin == "pct_plugin"
    ruleset = minimal_ruleset(
        signals={"power_users": {"type": "integer"}, "seats_licensed": {"type": "integer"}},
        when="pct(power_users, seats_licensed) >= 10%",
    )
    decisions = evaluate_records(
        ruleset,
        [{"account_id": "A", "power_users": 3, "seats_licensed": 20},
         {"account_id": "B", "power_users": 3, "seats_licensed": 0},
         {"account_id": "C", "power_users": 1, "seats_licensed": 20}],
        as_of=AS_OF, registry=registry,
    )
    assert [d["band"] for d in decisions] == ["act_now", "wait", "wait"]


def test_hook_upsell_rules_upsell_types() -> None:
    def types(register: Any) -> None:
        register(UpsellType("training", "Training package", "team enablement",
                            describe=lambda s: f"{s.get('seats_licensed')} seats to train"))

    registry = make_registry(plugin("training_plugin", upsell_rules_upsell_types=types))
    ruleset = minimal_ruleset(signals={"seats_licensed": {"type": "integer"}},
                              when="seats_licensed >= 10", upsell_type="training")
    decision = evaluate_records(ruleset, [{"account_id": "A", "seats_licensed": 12}],
                                as_of=AS_OF, registry=registry)[0]
    assert_decision(decision, band="act_now", upsell_types=["training"], fired=["fires"])
    assert decision["triggers"][0]["evidence"] == "12 seats to train"
    assert decision["action"]["frame"] == "team enablement"
    _, findings = check_ruleset("r.yaml", make_registry(), text=ruleset)
    assert [f.code for f in findings] == ["E130"]


def test_hook_upsell_rules_engines() -> None:
    prepared: list[int] = []

    def prepare(conditions: Sequence[Any], types: Mapping[str, str]) -> Any:
        prepared.append(len(conditions))
        return PYTHON_ENGINE.prepare(conditions, types)

    def engines(register: Any) -> None:
        register(Engine("counting", "Counts preparations.", prepare))
        register(Engine("remote", "Needs a server.", prepare, available=lambda: "no server"))

    registry = make_registry(plugin("engine_plugin", upsell_rules_engines=engines))
    ruleset = minimal_ruleset(signals={"health_score": {"type": "number"}},
                              when="health_score > 80")
    decision = evaluate_records(ruleset, [{"account_id": "A", "health_score": 90}],
                                as_of=AS_OF, registry=registry, engine="counting")[0]
    assert decision["band"] == "act_now" and prepared == [2]
    with pytest.raises(EngineUnavailable, match="engine 'remote' cannot run here: no server"):
        pick_engine(registry, "remote")


class Collector:
    """A sink that keeps what it is given."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], SinkContext]] = []

    def deliver(self, decisions: Sequence[Mapping[str, Any]], context: SinkContext) -> DeliveryReport:
        self.calls.append(([str(d["account_id"]) for d in decisions], context))
        return DeliveryReport("collect", "memory", [
            DeliveryResult(str(d["account_id"]), "delivered") for d in decisions
        ])


def test_hook_upsell_rules_sinks() -> None:
    collector = Collector()

    def sinks(register: Any) -> None:
        register(Sink("collect", "Keeps decisions.", collector.deliver,
                      {"channel": ParamSpec("string", "#upsell")}, target_option="channel"))
        register(Sink("explode", "Raises.", lambda d, c: 1 / 0))  # type: ignore[arg-type,return-value]

    registry = make_registry(plugin("sink_plugin", upsell_rules_sinks=sinks))
    ruleset = load_ruleset_text(minimal_ruleset(
        signals={"health_score": {"type": "number"}}, when="health_score > 80"), registry)
    decisions = evaluate_records(ruleset, [{"account_id": "A", "health_score": 90},
                                           {"account_id": "B", "health_score": 10}],
                                 as_of=AS_OF, registry=registry)
    targets = resolve_sinks(registry, ruleset, ["collect:#cs-team", "explode"])
    good = deliver(targets[0], decisions, ruleset.identity(), AS_OF)
    assert good.ok and collector.calls[0][0] == ["A", "B"]
    context = collector.calls[0][1]
    assert (context.options["channel"], context.as_of, context.where) == (
        "#cs-team", AS_OF, "--sink collect:#cs-team")
    assert context.ruleset["name"] == "plugin_test"
    bad = deliver(targets[1], decisions, ruleset.identity(), AS_OF)
    assert [r.status for r in bad.results] == ["failed", "failed"]
    assert bad.errors == ["plugin 'sink_plugin' failed in sink 'explode': ZeroDivisionError: "
                          "division by zero"]


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []


def _lifecycle_registry(recorder: Recorder, fail_before: bool = False) -> Any:
    def before(ruleset: Any, as_of: date) -> None:
        if fail_before:
            raise RuntimeError("no metrics server")
        recorder.events.append(("before", (ruleset.name, as_of)))

    def after(ruleset: Any, summary: Summary) -> None:
        recorder.events.append(("after", (summary.read, summary.decided, dict(summary.bands))))

    return make_registry(plugin("metrics", upsell_rules_before_evaluation=before,
                                upsell_rules_after_evaluation=after))


RECORDS = [{"account_id": "A", "health_score": 90}, {"account_id": "B", "health_score": 10}]
RULESET = minimal_ruleset(signals={"health_score": {"type": "number"}}, when="health_score > 80")


def test_hook_upsell_rules_before_evaluation() -> None:
    recorder = Recorder()
    registry = _lifecycle_registry(recorder)
    evaluate_records(RULESET, RECORDS, as_of=AS_OF, registry=registry)
    assert recorder.events[0] == ("before", ("plugin_test", AS_OF))
    with pytest.raises(PluginError, match="plugin 'metrics' failed in "
                                          "upsell_rules_before_evaluation: RuntimeError: no "
                                          "metrics server"):
        evaluate_records(RULESET, RECORDS, as_of=AS_OF,
                         registry=_lifecycle_registry(Recorder(), fail_before=True))


def test_hook_upsell_rules_after_evaluation() -> None:
    recorder = Recorder()
    registry = _lifecycle_registry(recorder)
    evaluator = Evaluator(load_ruleset_text(RULESET, registry), registry)
    reader = AccountReader(registry, {"health_score": "number"})
    items = [a for r in RECORDS
             for a in reader.coerce_record(RawRecord(r, Location("<t>", 1)), {})]
    stream = decide_all(evaluator, items, AS_OF)
    next(stream)
    assert [e[0] for e in recorder.events] == ["before"]  # not until the last account
    list(stream)
    assert recorder.events[-1] == ("after", (2, 2, {"act_now": 1, "wait": 1}))


def test_hooks_implemented_with_fewer_arguments() -> None:
    """pluggy lets an implementation take a subset of the hook's arguments."""
    seen: list[str] = []

    def before(ruleset: Any) -> None:
        seen.append(ruleset.name)

    registry = make_registry(plugin("partial", upsell_rules_before_evaluation=before))
    evaluate_records(RULESET, RECORDS, as_of=AS_OF, registry=registry)
    assert seen == ["plugin_test"]
