"""The bundled 'latest' derivation, except that it fails for two accounts (a metrics API
that answers 503 for them): used to run the default ruleset through every command."""

import dataclasses

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules_signals.derivations import DERIVATIONS

TARGETS = {"ACC-1002", "HIS-0002"}
BUNDLED = next(d for d in DERIVATIONS if d.name == "latest")


def build(params):
    inner = BUNDLED.build(params)

    def derive(signals, as_of):
        if signals.get("account_id") in TARGETS:
            raise RuntimeError("metrics API answered 503")
        return inner(signals, as_of)

    return derive


@hookimpl
def upsell_rules_derivations(register):
    register(dataclasses.replace(BUNDLED, build=build))
