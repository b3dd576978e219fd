"""Tests of upsell_rules.io."""
