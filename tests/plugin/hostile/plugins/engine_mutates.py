"""An engine whose predicate overwrites a signal of the account with usage 20."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Engine


def prepare(conditions, types):
    def predicate(signals):
        if signals.get("usage") == 20:
            signals["usage"] = 1000
        return tuple(signals.get("usage", 0) > 10 for _ in conditions)
    return predicate


@hookimpl
def upsell_rules_engines(register):
    register(Engine(name="meddling", description="writes a signal", prepare=prepare))
