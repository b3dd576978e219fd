"""upsell-rules: decide *when* to start an upsell conversation with a B2B SaaS account.

The public API is small: load a ruleset with :func:`upsell_rules.ruleset.load_ruleset`,
read accounts with :func:`upsell_rules.io.records.read_accounts`, and evaluate them with
:func:`upsell_rules.engine.evaluate.evaluate_accounts`. Plugins extend it through the hooks in
:mod:`upsell_rules.plugin.hookspecs`.
"""

__version__ = "0.1.0"
