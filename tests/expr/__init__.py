"""Tests of upsell_rules.expr."""
