"""An upsell type whose describe overwrites a signal of the account with usage 20."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import UpsellType


def describe(signals):
    if signals["account_id"] == "H-2":
        signals["usage"] = -1
    return f"usage {signals.get('usage')}"


@hookimpl
def upsell_rules_upsell_types(register):
    register(UpsellType(name="hostile", title="Hostile", frame="testing", describe=describe))
