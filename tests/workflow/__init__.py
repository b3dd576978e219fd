"""Tests of upsell_rules.workflow."""
