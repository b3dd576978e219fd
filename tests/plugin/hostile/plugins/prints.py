"""Prints to stdout everywhere it can: at import, registration, build and per account."""

import sys

import click

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Derivation, ParamSpec, UpsellType

print("noise: imported")


def build(params):
    print("noise: built")

    def derive(signals, as_of):
        print("noise: derived", signals.get("usage"))
        sys.stdout.write("noise: written\n")
        return signals.get("usage")
    return derive


def describe(signals):
    click.echo("noise: described")
    return "described"


@hookimpl
def upsell_rules_derivations(register):
    print("noise: registering")
    register(Derivation(name="hostile_derive", description="copies usage",
                        output_type="number", build=build,
                        params={"of": ParamSpec("signal", "usage")}))


@hookimpl
def upsell_rules_upsell_types(register):
    register(UpsellType(name="hostile", title="Hostile", frame="testing", describe=describe))
