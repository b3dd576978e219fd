"""A derivation whose worker process dies (SIGKILL, as the out-of-memory killer sends)
on the account with usage 20; in the process that loaded the plugin it copies usage."""

import os
import signal

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation, ParamSpec

LOADED_IN = os.getpid()


def build(params):
    def derive(signals, as_of):
        if signals.get("usage") == 20 and os.getpid() != LOADED_IN:
            os.kill(os.getpid(), signal.SIGKILL)
        return signals.get("usage")
    return derive


@hookimpl
def upsell_rules_derivations(register):
    register(Derivation(name="hostile_derive", description="copies usage",
                        output_type="number", build=build,
                        params={"of": ParamSpec("signal", "usage")}))
