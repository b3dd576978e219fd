"""A chain of derived signals each reading the next is bounded (E136 past 100).

Before: 1,500 named conditions declared last-first were a ``RecursionError`` traceback
in ``validate`` (the signal ordering recursed once per link); declared first-first they
validated, and ``--engine duckdb`` stopped with DuckDB's "Max expression depth limit of
1000 exceeded" traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.ruleset.test_representable import BASE
from tests.support import AS_OF, ROOT, run_cli
from upsell_rules.engine import columnar
from upsell_rules.ruleset.build_signals import MAX_SIGNAL_CHAIN
from upsell_rules.ruleset.loader import check_ruleset


def _chain(length: int, reverse: bool) -> str:
    """``c0`` .. ``c{length-1}``, each reading the one before; last-first if ``reverse``."""
    links = [f"  c{i}: {{type: boolean, when: \"c{i - 1} and plan != 'z{i}'\"}}\n"
             for i in range(1, length)]
    if reverse:
        links.reverse()
    first = '  c0: {type: boolean, when: plan == "Team"}\n'
    signals = "signals:\n" + "".join(links) + first
    return BASE.replace("signals:\n", signals, 1).replace("seats >= floor",
                                                         f"c{length - 1}", 1)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("length", [MAX_SIGNAL_CHAIN + 1, 1500])
def test_a_long_chain_is_one_located_finding(tmp_path: Path, length: int,
                                             reverse: bool) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(_chain(length, reverse), encoding="utf-8")
    _ruleset, findings = check_ruleset(str(path))
    errors = [f for f in findings if f.is_error]
    assert [f.code for f in errors] == ["E136"]
    assert f"more than {MAX_SIGNAL_CHAIN} derived signals" in errors[0].message
    assert errors[0].location.line >= 7  # at a signal, not the top of the file


def test_commands_refuse_it_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(_chain(1500, reverse=True), encoding="utf-8")
    data = str(ROOT / "samples" / "accounts.jsonl")
    for command, code in ((("validate", str(path)), 1),
                          (("dry-run", str(path), "--data", data, "--as-of", AS_OF,
                            "--engine", "duckdb", "--format", "jsonl"), 2)):
        result = run_cli(*command)
        assert result.returncode == code, result.stderr
        assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
        assert "E136" in result.stdout + result.stderr


def test_up_to_the_limit_both_engines_agree(tmp_path: Path) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(_chain(MAX_SIGNAL_CHAIN - 1, reverse=True), encoding="utf-8")
    data = str(ROOT / "samples" / "accounts.jsonl")
    outputs = []
    for engine in ("python", "duckdb"):
        result = run_cli("dry-run", str(path), "--data", data, "--as-of", AS_OF,
                         "--engine", engine, "--format", "jsonl")
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert '"band":"act_now"' in outputs[0]


def test_a_query_duckdb_will_not_bind_hands_the_file_to_the_reader(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any) -> str:
        raise duckdb.BinderException("Max expression depth limit of 1000 exceeded")

    monkeypatch.setattr(columnar, "_line_sql", refuse)
    from tests.engine.test_columnar import DEFAULT, REGISTRY, _reader
    from upsell_rules.engine.evaluate import Evaluator

    evaluator = Evaluator(DEFAULT, REGISTRY, "duckdb")
    plan = columnar.plan_columnar(evaluator, _reader(DEFAULT, columnar.date(2026, 11, 2)),
                                  [str(ROOT / "samples" / "accounts.jsonl")],
                                  columnar.date(2026, 11, 2), encoded=True)
    assert plan is None
