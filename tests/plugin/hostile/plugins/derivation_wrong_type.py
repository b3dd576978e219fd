"""A derivation that declares a number and returns text for one account."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation, ParamSpec


def build(params):
    def derive(signals, as_of):
        usage = signals.get("usage")
        return "high" if usage == 20 else usage
    return derive


@hookimpl
def upsell_rules_derivations(register):
    register(Derivation(name="hostile_derive", description="copies usage",
                        output_type="number", build=build,
                        params={"of": ParamSpec("signal", "usage")}))
