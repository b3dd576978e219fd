"""Built for a newer version: an UpsellType field this version does not have."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import UpsellType


@hookimpl
def upsell_rules_upsell_types(register):
    register(UpsellType(name="future", title="Future", frame="x", dashboard_tile="big"))
