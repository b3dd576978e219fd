"""Fuzz target: the CSV source, read through AccountReader and decided.

Every input is a data file's bytes; reading must yield accounts or located RecordErrors,
or stop with an InputError naming the file; every account read is decided or failed
(the counts add up) and the CSV output holds no formula. Run with::

    python fuzz/fuzz_csv.py fuzz/work/csv fuzz/corpus/csv -timeout=10 -max_total_time=600
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
    """One fuzz input: the bytes of a .csv data file."""
    harness.check_source_bytes(data, ".csv")


if __name__ == "__main__":
    harness.run_atheris(one_input)
