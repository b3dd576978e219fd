"""An upsell type whose describe raises for one account."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import UpsellType


def describe(signals):
    if signals["account_id"] == "H-2":
        raise RuntimeError("lost the CRM session")
    return f"usage {signals.get('usage')}"


@hookimpl
def upsell_rules_upsell_types(register):
    register(UpsellType(name="hostile", title="Hostile", frame="testing", describe=describe))
