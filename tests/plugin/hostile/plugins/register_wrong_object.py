"""A dict registered as a derivation."""

from upsell_rules.plugin.hookspecs import hookimpl


@hookimpl
def upsell_rules_derivations(register):
    register({"name": "dict_derivation", "output_type": "number"})
