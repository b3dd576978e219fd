"""Registers one derivation, then raises before the second."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation


@hookimpl
def upsell_rules_derivations(register):
    register(Derivation(name="halfway_one", description="", output_type="number",
                        build=lambda params: (lambda s, d: 1)))
    raise KeyError("settings")
