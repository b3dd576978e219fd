"""A hook of a newer version (or a misspelling), next to a good upsell type."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import UpsellType


@hookimpl
def upsell_rules_upsell_types(register):
    register(UpsellType(name="future", title="Future", frame="x"))


@hookimpl
def upsell_rules_dashboards(register):
    pass
