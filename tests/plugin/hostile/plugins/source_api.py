"""A source backed by an 'API': --data portal:NAME, no file involved."""

from upsell_rules.errors import InputError, Location
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import RawRecord, Source

PORTALS = {"portal-1234": [("H-1", "5"), ("H-2", "20"), ("H-3", "30")]}


def read(target):
    if target not in PORTALS:
        raise InputError(f"portal: no portal called {target!r} (known: portal-1234)")
    for number, (account_id, usage) in enumerate(PORTALS[target], start=1):
        yield RawRecord({"account_id": account_id, "usage": usage},
                        Location(f"portal:{target}", number))


@hookimpl
def upsell_rules_sources(register):
    register(Source(name="portal", description="accounts from an API",
                    matches=lambda path: False, read=read))
