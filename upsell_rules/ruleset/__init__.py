"""Rulesets: YAML with positions, schema, semantic checks, the typed model, templates, overrides."""
