"""Tests of upsell_rules.history."""
