"""Tests of upsell_rules.ruleset."""
