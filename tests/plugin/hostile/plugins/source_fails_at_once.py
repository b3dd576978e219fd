"""A source whose connection fails before the first record."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Source


def read(target):
    raise ConnectionRefusedError(f"cannot connect to {target}")


@hookimpl
def upsell_rules_sources(register):
    register(Source(name="down", description="never answers",
                    matches=lambda path: False, read=read))
