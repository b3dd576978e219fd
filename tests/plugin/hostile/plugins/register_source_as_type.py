"""A Source registered through the upsell-type hook."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Source


@hookimpl
def upsell_rules_upsell_types(register):
    register(Source(name="oops", description="", matches=lambda p: False,
                    read=lambda p: iter(())))
