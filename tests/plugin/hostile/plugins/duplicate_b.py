"""Registers derivation 'shared_name'."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation


@hookimpl
def upsell_rules_derivations(register):
    register(Derivation(name="shared_name", description="b", output_type="number",
                        build=lambda params: (lambda s, d: 1)))
