"""An upsell type whose describe returns a number, not text."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import UpsellType


@hookimpl
def upsell_rules_upsell_types(register):
    register(UpsellType(name="hostile", title="Hostile", frame="testing",
                        describe=lambda signals: 42))
