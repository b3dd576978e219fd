"""Fuzz target: how the webhook sink handles whatever an HTTP endpoint answers.

Every input is the raw bytes a server on 127.0.0.1 sends back (status line, headers,
body, or garbage); the sink must report delivered only for a 2xx, follow no redirect,
stay within its deadline, and print no control character or secret. Run with::

    python fuzz/fuzz_webhook.py fuzz/work/webhook fuzz/corpus/webhook \\
        -timeout=10 -max_total_time=600
"""

from __future__ import annotations

if __name__ == "__main__":
    import atheris  # pip install -e '.[fuzz]'

    with atheris.instrument_imports(include=["upsell_rules", "upsell_rules_webhook"]):
        import harness_safety
else:
    import harness_safety


def one_input(data: bytes) -> None:
    """One fuzz input: the endpoint's whole answer."""
    harness_safety.check_webhook_answer(data)


if __name__ == "__main__":
    import harness

    harness.run_atheris(one_input)
