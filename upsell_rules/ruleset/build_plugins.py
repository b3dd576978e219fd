"""Building the parts of a ruleset that name plugins: ``plugins:`` (which must be
loaded), ``sources:`` (options for signal sources) and ``sinks:`` (configured action
sinks), each option checked against what the plugin declares."""

from __future__ import annotations

from typing import Any

from upsell_rules.errors import did_you_mean
from upsell_rules.ruleset.build_context import BuildContext
from upsell_rules.ruleset.model import SinkConfig
from upsell_rules.ruleset.schema import field_path
from upsell_rules.ruleset.yamlload import Path

#: Keys of a ``sinks:`` entry that are the core's, not the sink's options.
_SINK_KEYS = ("type", "bands", "blocked")


class PluginSections(BuildContext):
    """The plugins, sources and sinks sections of the ruleset being built."""

    def check_plugins(self) -> None:
        """E150 for every plugin the ruleset needs that is not loaded, saying why."""
        for index, name in enumerate(self.data.get("plugins") or []):
            if not isinstance(name, str) or name in self.registry.plugins:
                continue
            failed = getattr(self.registry, "failed", {}).get(name)
            if name in self.registry.disabled:
                why = (
                    "which is disabled for this run (remove -p no:NAME or its entry in "
                    "UPSELL_RULES_DISABLE_PLUGINS)"
                )
            elif failed is not None:
                why = f"which is installed but was left out because it is broken: {failed[1]}"
            else:
                why = (
                    "which is not installed (pip install the package that provides it, or "
                    "load it for one run with -p MODULE or --plugin FILE)"
                )
            self.add(
                ("plugins", index), "E150",
                f"plugins[{index}]: this ruleset needs plugin '{name}', {why}",
            )

    def build_sources(self) -> dict[str, dict[str, Any]]:
        """The ``sources:`` section: options for registered sources, checked."""
        out: dict[str, dict[str, Any]] = {}
        for name, options in self.section("sources", dict).items():
            path: Path = ("sources", name)
            source = self.registry.sources.get(name)
            if source is None:
                if isinstance(options, dict) and {"title", "window"} <= set(options):
                    self.add(path, "E151", f"sources.{name}: this looks like a play (it has a "
                             "title and a window): move it under plays:", key=True)
                    continue
                hint = did_you_mean(name, list(self.registry.sources))
                self.add(path, "E151", f"sources.{name}: unknown signal source '{name}'{hint}",
                         key=True)
                continue
            given = options if isinstance(options, dict) else {}
            out[name] = self.check_options(path, f"source '{name}'", given, source.options,
                                           "E152")
            if "formats" in source.options:
                self._check_format_fields((*path, "formats"), out[name].get("formats"))
        return out

    def _check_format_fields(self, path: Path, formats: Any) -> None:
        """E152 for a ``formats:`` entry naming no field: a misspelt name would leave the
        field read without its format (``12`` for 12% read as 12) without a word."""
        if not isinstance(formats, dict):
            return
        known = [*self.registry.fields, *self.section("signals", dict)]
        for name in formats:
            if str(name) in known:
                continue
            hint = did_you_mean(str(name), [str(k) for k in known])
            self.add((*path, name), "E152",
                     f"{field_path((*path, name))}: '{name}' is not a field of the data "
                     f"contract or a signal of this ruleset{hint}", key=True)

    def build_sinks(self) -> dict[str, SinkConfig]:
        """The ``sinks:`` section: named, configured action sinks, checked."""
        out: dict[str, SinkConfig] = {}
        band_ids = [b.get("id") for b in self.section("bands", list) if isinstance(b, dict)]
        for sink_id, spec in self.section("sinks", dict).items():
            path: Path = ("sinks", sink_id)
            if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
                continue
            kind = spec["type"]
            sink = self.registry.sinks.get(kind)
            if sink is None:
                hint = did_you_mean(kind, list(self.registry.sinks))
                known = ", ".join(sorted(self.registry.sinks))
                self.add((*path, "type"), "E153",
                         f"sinks.{sink_id}.type: unknown sink '{kind}'{hint} (sinks: {known})")
                continue
            given = {key: value for key, value in spec.items() if key not in _SINK_KEYS}
            options = self.check_options(path, f"sink '{kind}'", given, sink.options, "E154")
            bands = spec.get("bands")
            for index, band in enumerate(bands if isinstance(bands, list) else []):
                if isinstance(band, str) and band_ids and band not in band_ids:
                    hint = did_you_mean(band, [str(b) for b in band_ids])
                    self.add((*path, "bands", index), "E154",
                             f"sinks.{sink_id}.bands[{index}]: unknown band '{band}'{hint}")
            blocked = spec.get("blocked")
            out[sink_id] = SinkConfig(
                id=sink_id,
                type=kind,
                options=options,
                location=self.doc.locate(path, key=True),
                bands=tuple(str(b) for b in bands) if isinstance(bands, list) else None,
                blocked=blocked if isinstance(blocked, bool) else None,
            )
        return out
