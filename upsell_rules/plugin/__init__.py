"""The plugin contract: hookspecs, registered types, the registry, loading and the watchdog."""
