"""A derivation that never returns for the account with usage 20."""

import time

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation, ParamSpec


def build(params):
    def derive(signals, as_of):
        usage = signals.get("usage")
        while usage == 20:
            time.sleep(0.01)
        return usage
    return derive


@hookimpl
def upsell_rules_derivations(register):
    register(Derivation(name="hostile_derive", description="copies usage",
                        output_type="number", build=build,
                        params={"of": ParamSpec("signal", "usage")}))
