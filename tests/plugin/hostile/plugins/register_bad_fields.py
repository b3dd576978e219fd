"""An upsell type with a number for a title."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import UpsellType


@hookimpl
def upsell_rules_upsell_types(register):
    register(UpsellType(name="numbered", title=42, frame="x"))
