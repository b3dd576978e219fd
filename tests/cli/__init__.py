"""Tests of upsell_rules.cli."""
