"""A source that reads 'id,usage' lines and drops its connection after two records."""

from upsell_rules.errors import Location
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import RawRecord, Source


def read(target):
    with open(target, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if number == 3:
                raise ConnectionError("server closed the connection")
            account_id, usage = line.strip().split(",")
            yield RawRecord({"account_id": account_id, "usage": usage},
                            Location(target, number))


@hookimpl
def upsell_rules_sources(register):
    register(Source(name="flaky", description="drops its connection",
                    matches=lambda path: False, read=read))
