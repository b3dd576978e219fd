"""Delivering decisions to action sinks: which sinks, with what options, and the report.

A run names its sinks on the command line (``--sink NAME[:TARGET]``, or the id of an
entry in the ruleset's ``sinks:`` section), or takes every entry of that section. Text
options may name environment variables as ``${VAR}`` so that secrets (webhook URLs,
tokens) stay out of the ruleset file; only variables named ``UPSELL_RULES_...`` or
allowed by the operator (``--allow-env NAME``) are read, so a ruleset cannot send
``AWS_SECRET_ACCESS_KEY`` anywhere. A path option (``ledger:``, ``path:``) given in a
ruleset is relative to the ruleset's folder and must stay inside it. Each sink is
called on its own: one that raises is reported against every decision it was given,
naming its plugin, and the others still deliver.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from upsell_rules.errors import PluginTimeout, UpsellRulesError, did_you_mean
from upsell_rules.plugin.registry import Registry
from upsell_rules.plugin.types import DeliveryReport, DeliveryResult, Sink, SinkContext
from upsell_rules.plugin.watchdog import allowance
from upsell_rules.ruleset.model import Ruleset, SinkConfig
from upsell_rules.safetext import redact_text, redact_url

#: A ruleset may read environment variables whose names start with this...
ENV_PREFIX = "UPSELL_RULES_"
#: ...or that the operator lists here (comma-separated; ``run --allow-env NAME``).
ALLOW_ENV = "UPSELL_RULES_ALLOW_ENV"

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SinkConfigError(UpsellRulesError):
    """A sink cannot be used as configured (unknown, missing option, unset variable)."""


@dataclass(frozen=True)
class SinkTarget:
    """One sink to deliver to in this run, fully configured."""

    label: str
    where: str
    sink: Sink
    plugin: str
    options: dict[str, Any]
    bands: tuple[str, ...] | None = None
    blocked: bool | None = None

    def wants(self, decision: Mapping[str, Any]) -> bool:
        """True when the decision passes this sink's band and blocked filters."""
        if self.bands is not None and decision.get("band") not in self.bands:
            return False
        return self.blocked is None or bool(decision.get("blocked")) == self.blocked


def redact(spec: str) -> str:
    """A ``--sink`` value safe to print: a URL in it is shortened by :func:`redact_url`."""
    name, sep, rest = spec.partition(":")
    if "://" not in rest:
        return spec
    return f"{name}{sep}{redact_url(rest, empty_path='')}"


def env_allowed(name: str, environ: Mapping[str, str]) -> bool:
    """True when a ruleset may read the variable ``name``."""
    if name.startswith(ENV_PREFIX) and name != ALLOW_ENV:
        return True
    listed = {n.strip() for n in environ.get(ALLOW_ENV, "").split(",")}
    return name in listed


def check_env_name(name: str, environ: Mapping[str, str], where: str) -> None:
    """Raise :class:`SinkConfigError` unless a ruleset may read the variable ``name``."""
    if not env_allowed(name, environ):
        raise SinkConfigError(
            f"{where}: environment variable {name} may not be read by a ruleset: "
            f"name it {ENV_PREFIX}..., or allow it for the run with --allow-env "
            f"{name} (or {ALLOW_ENV}={name})"
        )


def expand_env(value: Any, environ: Mapping[str, str], where: str) -> Any:
    """``${VAR}`` in text replaced by the variable's value (lists and mappings too).

    Only variables :func:`env_allowed` lets through are read.
    """
    if isinstance(value, str):
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            check_env_name(name, environ, where)
            if name not in environ:
                raise SinkConfigError(f"{where}: environment variable {name} is not set")
            return environ[name]

        return _ENV.sub(substitute, value)
    if isinstance(value, list):
        return [expand_env(v, environ, where) for v in value]
    if isinstance(value, dict):
        return {k: expand_env(v, environ, where) for k, v in value.items()}
    return value


def confine(path: str, folder: str, where: str, option: str) -> str:
    """``path`` from a ruleset, resolved under ``folder``; refused if it leaves it.

    Absolute paths and ``..`` are refused outright; a symbolic link that leads out of
    the folder is refused too. Give such a path on the command line instead.
    """
    hint = "give it on the command line instead (--sink NAME:PATH)"
    if os.path.isabs(path) or path.startswith("~"):
        raise SinkConfigError(
            f"{where}: {option}: {path!r} is an absolute path; a path in a ruleset is "
            f"relative to the ruleset's folder; {hint}"
        )
    if ".." in re.split(r"[\\/]", path):
        raise SinkConfigError(
            f"{where}: {option}: {path!r} leaves the ruleset's folder ('..'); {hint}"
        )
    base = os.path.realpath(folder)
    full = os.path.realpath(os.path.join(base, path))
    if os.path.commonpath([base, full]) != base:
        raise SinkConfigError(
            f"{where}: {option}: {path!r} leads out of the ruleset's folder through a "
            f"symbolic link; {hint}"
        )
    return full


def _options(sink: Sink, given: Mapping[str, Any], where: str, label: str) -> dict[str, Any]:
    options = {k: spec.default for k, spec in sink.options.items() if spec.default is not None}
    options.update(given)
    for key, spec in sink.options.items():
        if spec.required and options.get(key) in (None, ""):
            short = f" (or --sink {sink.name}:{key.upper()})" if key == sink.target_option else ""
            raise SinkConfigError(f"{where}: sink '{label}' needs option '{key}'{short}")
    return options


def _check_url(value: str, where: str) -> None:
    """A malformed URL (a port that is not a number...) as a clear error, shown redacted."""
    if "://" not in value:
        return
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        reason = "port" if "port" in str(exc).lower() else "malformed URL"
        raise SinkConfigError(
            f"{where}: not a valid URL ({reason}: expected scheme://host[:port]/path "
            "with a numeric port)"
        ) from None
    # A file database (sqlite:///decisions.db) has a path and no host; a web URL has a host.
    if not parts.hostname and not (parts.scheme not in ("http", "https") and parts.path):
        raise SinkConfigError(f"{where}: not a valid URL (no host name)")


def resolve_sinks(
    registry: Registry,
    ruleset: Ruleset,
    specs: Sequence[str],
    environ: Mapping[str, str] | None = None,
) -> list[SinkTarget]:
    """The sinks a run delivers to: ``specs`` from ``--sink``, else the ruleset's.

    A spec is the id of an entry in the ruleset's ``sinks:`` section, or
    ``NAME[:TARGET]`` for a registered sink (``file:out.jsonl``,
    ``webhook:https://...``). Raises :class:`SinkConfigError` for anything unusable.
    """
    env = os.environ if environ is None else environ
    targets: list[SinkTarget] = []
    chosen = list(specs) or list(ruleset.sinks)
    if not chosen:
        raise SinkConfigError(
            "no sinks to deliver to: name one with --sink (e.g. --sink stdout, --sink "
            "file:decisions.jsonl) or add a sinks: section to the ruleset"
        )
    for spec in chosen:
        configured = ruleset.sinks.get(spec)
        if configured is not None:
            targets.append(_configured_target(registry, ruleset, configured, env))
        else:
            targets.append(_named_target(registry, ruleset, spec))
    return targets



def _configured_target(
    registry: Registry, ruleset: Ruleset, configured: SinkConfig, env: Mapping[str, str]
) -> SinkTarget:
    """The target for an entry of the ruleset's ``sinks:`` section (paths confined)."""
    where = str(configured.location)
    sink = registry.sinks.get(configured.type)
    if sink is None:
        raise SinkConfigError(f"{where}: sink type '{configured.type}' is not installed")
    expanded = expand_env(configured.options, env, where)
    folder = os.path.dirname(os.path.abspath(ruleset.path))
    for key, value in list(expanded.items()):
        option = sink.options.get(key)
        if option is not None and option.is_path and isinstance(value, str):
            expanded[key] = confine(value, folder, where, key)
        if option is not None and option.is_env_name and isinstance(value, str):
            check_env_name(value, env, where)
    options = _options(sink, expanded, where, configured.id)
    return SinkTarget(configured.id, where, sink, registry.provider("sink", sink.name),
                      options, configured.bands, configured.blocked)


def _named_target(registry: Registry, ruleset: Ruleset, spec: str) -> SinkTarget:
    """The target for ``--sink NAME[:TARGET]``, a registered sink named on the command line."""
    name, _, target = spec.partition(":")
    sink = registry.sinks.get(name)
    label = redact(spec)
    where = f"--sink {label}"
    if sink is None:
        known = sorted(registry.sinks) + sorted(ruleset.sinks)
        hint = did_you_mean(name, known)
        configured_ids = ", ".join(sorted(ruleset.sinks)) or "none"
        raise SinkConfigError(
            f"{where}: unknown sink '{name}'{hint} (sinks: {', '.join(sorted(registry.sinks))}"
            f"; configured in the ruleset: {configured_ids})"
        )
    given: dict[str, Any] = {}
    if target:
        if not sink.target_option:
            raise SinkConfigError(f"{where}: sink '{name}' takes no target after ':'")
        _check_url(target, where)
        given[sink.target_option] = target
    options = _options(sink, given, where, label)
    return SinkTarget(label, where, sink, registry.provider("sink", sink.name), options)


def deliver(
    target: SinkTarget,
    decisions: Sequence[Mapping[str, Any]],
    ruleset: Mapping[str, Any],
    as_of: date,
) -> DeliveryReport:
    """Deliver ``decisions`` (already filtered) through one sink, never raising.

    A sink that raises, or that returns no result for some decision, has those
    decisions reported as failed with the plugin named.
    """
    context = SinkContext(target.options, ruleset, as_of, target.label, target.where)
    # Each sink gets its own copy: one that edits a decision changes nothing for the
    # next sink or for what the run prints and records.
    decisions = [_own_copy(d) for d in decisions]
    try:
        # No progress shows while a sink works: each decision gets a whole budget.
        with allowance(len(decisions)):
            report = target.sink.deliver(decisions, context)
        if not isinstance(report, DeliveryReport):
            raise TypeError(f"deliver() returned {type(report).__name__}, not a DeliveryReport")
    except (Exception, PluginTimeout) as exc:
        reason = (
            f"plugin '{target.plugin}' failed in sink '{target.sink.name}': "
            f"{type(exc).__name__}: {redact_text(str(exc))}"
        )
        report = DeliveryReport(target.sink.name, errors=[reason])
        report.results = [
            DeliveryResult(str(d.get("account_id", "")), "failed", reason) for d in decisions
        ]
        return report
    answered = {r.account_id for r in report.results}
    for decision in decisions:
        account_id = str(decision.get("account_id", ""))
        if account_id not in answered:
            report.results.append(
                DeliveryResult(account_id, "failed",
                               f"sink '{target.sink.name}' reported nothing for this decision")
            )
    return report


def _own_copy(value: Any) -> Any:
    """A copy of a decision's dicts and lists (the other values are immutable)."""
    if type(value) is dict:
        return {k: _own_copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_own_copy(v) for v in value]
    return value


__all__ = [
    "SinkConfigError",
    "SinkTarget",
    "confine",
    "deliver",
    "env_allowed",
    "expand_env",
    "redact_url",
    "resolve_sinks",
]
