"""Fuzz target: the YAML loader and the ruleset validator (``check_ruleset``).

Every input is a ruleset file's bytes; it must give located findings only (never an
exception), within the size, nesting, alias and expansion limits, and a ruleset that
validates must decide sample accounts identically on both engines. Run with::

    python fuzz/fuzz_ruleset.py fuzz/work/ruleset fuzz/corpus/ruleset \\
        -dict=fuzz/dicts/yaml.dict -timeout=10 -max_total_time=600
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
    """One fuzz input: the bytes of a ruleset file."""
    harness.check_ruleset_bytes(data)


if __name__ == "__main__":
    harness.run_atheris(one_input)
