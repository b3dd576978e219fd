"""Tests of upsell_rules.engine."""
