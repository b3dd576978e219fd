"""A function that declares a number and returns a list."""

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import Function


@hookimpl
def upsell_rules_functions(register):
    register(Function(name="hostile_double", description="twice the value",
                      args=("number",), returns="number",
                      call=lambda x: [x, x] if x == 20 else 2 * x))
