"""The pytest habit: return the upsell types instead of calling register."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import UpsellType


@hookimpl
def upsell_rules_upsell_types(register):
    return [UpsellType(name="usage_overage", title="Usage overage", frame="fair use")]
