"""``upsell-rules explain``: one account's decision, condition by condition."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from upsell_rules.cli.exits import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, usage_error
from upsell_rules.cli.header_check import header_check, strict_option
from upsell_rules.cli.limit_options import limit_options, resolve_limits, run_guard
from upsell_rules.cli.loading import (
    account_reader,
    evaluator_or_exit,
    load_or_exit,
    registry_with_report,
)
from upsell_rules.cli.options import (
    as_of_option,
    data_inputs_option,
    engine_option,
    resolve_as_of,
    ruleset_argument,
    text_or_json_option,
)
from upsell_rules.cli.state_common import (
    no_state_option,
    read_state,
    state_option,
    with_statuses,
)
from upsell_rules.engine.evaluate import Evaluator
from upsell_rules.engine.explain import Check, Explanation, arithmetic_lines, explain
from upsell_rules.errors import (
    InputError,
    PluginError,
    PluginTimeout,
    RecordError,
)
from upsell_rules.io.queue import prep_steps
from upsell_rules.io.records import Account, AccountReader
from upsell_rules.plugin.guard import blame, failure_text
from upsell_rules.plugin.registry import Registry
from upsell_rules.ruleset.model import Ruleset
from upsell_rules.ruleset.templates import format_value
from upsell_rules.safetext import printable, printable_lines

_MARK = {True: "yes ", False: "no  ", None: "n/a "}


def _value(value: Any, unit: str = "") -> str:
    if value is None:
        return "missing"
    if isinstance(value, str):
        return repr(value)
    if unit == "ratio" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"
    return format_value(value, None)


_UNITS: dict[str, str] = {}


def _values(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {_value(v, _UNITS.get(k, ''))}" for k, v in values.items())


def _check_lines(check: Check, label: str) -> list[str]:
    lines = [f"  [{_MARK[check.result].strip():>3}] {label}: {check.condition}"]
    if len(check.steps) > 1 or (check.steps and check.steps[0]["test"] != check.condition):
        for step in check.steps:
            values = _values(step["values"])
            lines.append(f"          {_MARK[step['result']]} {step['test']}   [{values}]")
    elif check.steps:
        values = _values(check.steps[0]["values"])
        if values:
            lines.append(f"          {values}")
    return lines


def render_text(ex: Explanation, ruleset_label: str, scale: float = 10) -> str:
    """The human-readable explanation."""
    d = ex.decision
    action = d["action"]
    out = [
        f"{d['account_id']}  {d['account_name']}  (owner: {d['owner'] or '-'})",
        f"as of {d['as_of']}, ruleset {ruleset_label}",
        "",
        f"Score {d['score']:g}/100 -> {d['band']}"
        + (f" (capped at {d['capped_at']:g}, uncapped {d['raw_score']:g})"
           if d["capped_at"] is not None else "")
        + ("; BLOCKED" if d["blocked"] else "; not blocked"),
        f"Action: {action['play']} ({action['title']}), owner {action['owner']}, "
        f"window: {action['window']}",
    ]
    if action.get("prepare"):
        out.append(f"Before outreach: {', '.join(prep_steps(d))}")
    if ex.clearings:
        out += ["", "When it clears (if only the calendar moves):"]
        out += [f"  {c.sentence()}" for c in ex.clearings]
    if ex.arithmetic:
        out += ["", "How the score adds up:"]
        out += [f"  {line}" for line in arithmetic_lines(ex.arithmetic, scale, d["raw_score"])]
        if d["capped_at"] is not None:
            out.append(f"  capped at {d['capped_at']:g}")
    out += ["", "Category scores:"]
    categories: dict[str, list[Check]] = {}
    for check in ex.checks:
        if check.kind == "tier":
            categories.setdefault(check.detail["category"], []).append(check)
    for name, checks in categories.items():
        out.append(f" {name}: {d['category_scores'][name]:g}")
        for check in checks:
            out += _check_lines(check, f"{check.id} (score {check.detail['score']:g})")
    for kind, title in (("gate", "Gates (must pass)"), ("red_flag", "Red flags (must not fire)"),
                        ("trigger", "Triggers")):
        out += ["", f"{title}:"]
        for check in ex.checks:
            if check.kind != kind:
                continue
            if kind == "gate":
                label = f"{check.id} ({check.detail['severity']}, else {check.detail['play']})"
            elif kind == "red_flag":
                effect = check.detail["effect"]
                extra = f" {check.detail['cap']:g}" if effect == "cap" else ""
                label = f"{check.id} ({effect}{extra})"
            else:
                label = f"{check.id} ({check.detail['upsell_type']})"
            out += _check_lines(check, label)
    if d["missing_signals"]:
        out += ["", "Missing signals: " + ", ".join(d["missing_signals"])]
    if d.get("data_warnings"):
        out += ["", "Values left out (one bad value costs one signal, see docs/data.md):"]
        out += [f"  {w['field']}: {w['value']!r} {w['reason']}" for w in d["data_warnings"]]
    out += ["", "Narrative: " + d["narrative"], "", "What would change it:"]
    out += [f"  {line}" for line in ex.next_steps]
    return "\n".join(out) + "\n"


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (small inputs: account ids)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def suggest(wanted: str, seen: list[str]) -> list[str]:
    """Up to three ids closest to ``wanted`` by edit distance (close ones only); an id
    that differs only in case is the one answer."""
    same = [s for s in seen if s.casefold() == wanted.casefold()]
    if same:
        return same[:1]
    limit = max(2, len(wanted) // 3)
    ranked = sorted((_edit_distance(wanted, s), s) for s in seen)
    return [s for distance, s in ranked[:3] if distance <= limit]


def _find(
    reader: AccountReader, data: tuple[str, ...], account_id: str
) -> Account | list[RecordError]:
    errors: list[RecordError] = []
    seen: list[str] = []
    for item in reader.read_all(data):
        if isinstance(item, RecordError):
            if item.account_id == account_id:
                errors.append(item)
            continue
        if item.account_id == account_id:
            return item
        seen.append(item.account_id)
    if errors:
        return errors
    close = suggest(account_id, seen)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    where = " or ".join(data)
    click.echo(printable(f"upsell-rules: error: account '{account_id}' is not in {where}{hint}"),
               err=True)
    raise SystemExit(EXIT_USAGE)


#: Statuses that hold an account whatever the other accounts do.
_HELD = ("unchanged", "closed", "snoozed until", "cooling down until", "over capacity")


def capacity_note(rules: Ruleset, decision: dict[str, Any], status: str | None) -> str | None:
    """What ``explain --state`` cannot know about owner capacity, or None.

    explain decides one account, so the weekly cap is checked against the outreach
    already logged only; in a run the owner's other accounts ahead in the queue (higher
    score) take the cap first and this account may be ``over capacity`` instead.
    """
    cap = rules.memory.per_owner_per_week
    if cap is None or status is None or status.startswith(_HELD):
        return None
    if decision["blocked"] or decision["band"] not in {b.id for b in rules.bands if b.outreach}:
        return None
    return (f"capacity ({cap} per owner per week) counts only outreach already logged; "
            "the owner's accounts ahead of this one in today's queue are not counted, so "
            "a run may hold it as over capacity (dry-run shows the run's statuses)")


@click.command("explain")
@ruleset_argument
@data_inputs_option
@click.option("--account", "account_id", required=True, help="The account_id to explain.")
@as_of_option
@text_or_json_option()
@engine_option
@limit_options
@strict_option
@state_option
@no_state_option
def explain_command(
    ruleset: str, data: tuple[str, ...], account_id: str, as_of: date | None, fmt: str,
    engine: str, max_input_mb: float | None, max_records: int | None,
    max_line_bytes: int | None, plugin_timeout: float | None, strict: bool,
    state: str | None = None, no_state: bool = False,
) -> None:
    """Explain how RULESET decides one account: every condition with the actual values,
    which gate or red flag decided, and what would move the account to the next band.
    With a state store (--state, or .upsell-rules/state.db when it exists), also its
    status in it (snoozed until, cooling down until...), read only.
    """
    state = read_state(state, no_state)
    registry = registry_with_report()
    rules = load_or_exit(ruleset, registry)
    evaluator = evaluator_or_exit(rules, registry, engine)
    limit = resolve_limits(max_input_mb, max_records, max_line_bytes, plugin_timeout)
    reader = account_reader(rules, registry, as_of=resolve_as_of(as_of), limits=limit)
    columns = header_check(rules, registry, reader, data, strict)
    try:
        with run_guard(limit, registry, lambda: reader.records_read):
            found = _find(reader, data, account_id)
            if isinstance(found, list):
                for error in found:
                    click.echo(f"upsell-rules: error: {printable(str(error))}", err=True)
                raise SystemExit(EXIT_FINDINGS)
            result = explain_one(evaluator, found, resolve_as_of(as_of))
    except (InputError, PluginTimeout) as exc:
        usage_error(str(exc))
    _UNITS.update({name: sig.unit for name, sig in rules.signals.items()})
    status = note = None
    if state is not None:
        with_statuses(state, rules, [result.decision], resolve_as_of(as_of))
        status = result.decision.pop("state", None)
        note = capacity_note(rules, result.decision, status)
    kinds = upsell_type_notes(registry, result.decision)
    if fmt == "json":
        payload = result.to_dict()
        payload["upsell_type_info"] = kinds
        if columns.warnings:
            payload["header_check"] = columns.to_dict()
        if status is not None:
            payload["state"] = status
        if note is not None:
            payload["state_note"] = note
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        text = render_text(result, f"{rules.name} {rules.version}", rules.scale)
        if kinds:
            lines = ["", "Upsell types:"]
            lines += [f"  {k['name']}: {k['title']}" + (f". {k['description']}"
                                                       if k["description"] else "")
                      for k in kinds]
            head, sep, tail = text.partition("\nNarrative: ")
            text = head + "\n".join(lines) + "\n" + sep + tail if sep else text
        # Values come from the data: no terminal escape reaches the screen.
        click.echo(printable_lines(text), nl=False)
        if status is not None:
            click.echo(f"state: {status}")
        if note is not None:
            click.echo(f"state note: {note}")
    raise SystemExit(EXIT_OK)


def explain_one(evaluator: Evaluator, account: Account, as_of: date) -> Explanation:
    """:func:`explain` for one account; a plugin failing on it is that record's failure
    (one line naming the plugin, exit 1), as in ``dry-run``."""
    try:
        return explain(evaluator, account, as_of)
    except PluginError as exc:
        message = str(exc)
    except Exception as exc:
        culprit = blame(exc, evaluator.registry)
        if culprit is None:
            raise
        message = f"{culprit} failed: {failure_text(exc)}"
    click.echo(f"upsell-rules: error: {account.location}: account {account.account_id}: "
               f"{message}", err=True)
    raise SystemExit(EXIT_FINDINGS)


def upsell_type_notes(registry: Registry, decision: dict[str, Any]) -> list[dict[str, str]]:
    """Title and description of each upsell type the decision's triggers name."""
    notes = []
    for name in decision.get("upsell_types", []):
        kind = registry.upsell_types.get(name)
        if kind is not None:
            notes.append({"name": name, "title": kind.title, "description": kind.description,
                          "plugin": registry.provider("upsell type", name)})
    return notes
