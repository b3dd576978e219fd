"""Fuzz target: message templates (parser, compiled renderer, limits).

Every input is a template (the text before the first NUL byte; the rest feeds sample
values); it must parse or fail with a located TemplateError, and render within the
placeholder and length limits, the compiled form agreeing with the reference. Run with::

    python fuzz/fuzz_templates.py fuzz/work/templates fuzz/corpus/templates \\
        -dict=fuzz/dicts/templates.dict -timeout=10 -max_total_time=600
"""

from __future__ import annotations

if __name__ == "__main__":
    import atheris  # pip install -e '.[fuzz]'

    with atheris.instrument_imports(include=["upsell_rules"]):
        import harness_safety
else:
    import harness_safety


def one_input(data: bytes) -> None:
    """One fuzz input: a template, then NUL, then text for the sample values."""
    harness_safety.check_template(data)


if __name__ == "__main__":
    import harness

    harness.run_atheris(one_input)
