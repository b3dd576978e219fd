"""A derivation that overwrites another signal of the account with usage 20."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation, ParamSpec


def build(params):
    def derive(signals, as_of):
        if signals.get("usage") == 20:
            signals["usage"] = 1000
        return signals.get("usage")
    return derive


@hookimpl
def upsell_rules_derivations(register):
    register(Derivation(name="hostile_derive", description="copies usage",
                        output_type="number", build=build,
                        params={"of": ParamSpec("signal", "usage")}))
