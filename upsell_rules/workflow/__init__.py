"""The rules-in-git workflow: ruleset tests, JUnit, diff, fmt, init and the plugin author's kit."""
