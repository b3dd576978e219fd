"""Accounts in (sources and coercion) and decisions out (formatters, sinks, delivery)."""
