"""A before-evaluation hook that raises."""

from upsell_rules.plugin.hookspecs import hookimpl


@hookimpl
def upsell_rules_before_evaluation(ruleset, as_of):
    raise PermissionError("audit log is read-only")
