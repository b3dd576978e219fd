"""Fuzz target: the condition language (parser, type checker, compiler, interpreter).

Every input is a condition; it must parse or fail with a located ExprSyntaxError, check
or yield located problems, and, when valid, compile to whitelisted code that agrees with
the reference interpreter (and with its own negation) on sample signals. Run with::

    python fuzz/fuzz_expr.py fuzz/work/expr fuzz/corpus/expr -dict=fuzz/dicts/expr.dict \\
        -timeout=10 -max_total_time=600
"""

from __future__ import annotations

if __name__ == "__main__":
    import atheris  # pip install -e '.[fuzz]'

    # Coverage feedback from the project's code and its parsers, not from all of Python.
    ours = ["upsell_rules", "upsell_rules_files", "upsell_rules_signals", "ruamel"]
    with atheris.instrument_imports(include=ours):
        import harness
else:
    import harness


def one_input(data: bytes) -> None:
    """One fuzz input: the bytes as a condition (invalid UTF-8 is replaced)."""
    harness.check_expression(data.decode("utf-8", "replace"))


if __name__ == "__main__":
    harness.run_atheris(one_input)
