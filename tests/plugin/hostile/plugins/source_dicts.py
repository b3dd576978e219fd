"""A source that yields plain dicts instead of RawRecord objects."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Source


def read(target):
    with open(target, encoding="utf-8") as handle:
        for line in handle:
            account_id, usage = line.strip().split(",")
            yield {"account_id": account_id, "usage": usage}


@hookimpl
def upsell_rules_sources(register):
    register(Source(name="dicts", description="yields dicts",
                    matches=lambda path: False, read=read))
