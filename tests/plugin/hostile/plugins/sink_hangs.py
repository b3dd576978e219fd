"""A sink that never returns."""

import time

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Sink


def deliver(decisions, context):
    while True:
        time.sleep(0.01)


@hookimpl
def upsell_rules_sinks(register):
    register(Sink(name="stuck", description="hangs", deliver=deliver))
