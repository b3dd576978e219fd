"""How ``upsell-rules diff`` reports a :class:`~upsell_rules.workflow.diff.DiffResult`:
plain text for the terminal, Markdown for a pull request."""

from __future__ import annotations

import json
from typing import Any

from upsell_rules.engine.outline import score_text
from upsell_rules.safetext import markdown_code, markdown_text
from upsell_rules.workflow.diff import AccountChange, DiffResult, status

# --- rendering -----------------------------------------------------------------------------


def _state(decision: dict[str, Any]) -> str:
    shown = status(decision)
    suffix = "" if shown == "-" else f", {shown}"
    return f"{decision['band']} {score_text(decision['score'])}{suffix}"


def _headline(result: DiffResult) -> str:
    band, blocked = result.counts()
    total = len(result.changed)
    line = (f"{band} account(s) change band, {blocked} change blocked state "
            f"({total} in all, of {result.accounts})")
    if result.score_only:
        line += f"; {result.score_only} more change score only"
    return line


def _matrix_rows(result: DiffResult) -> list[list[str]]:
    before, after = result.totals()
    rows = [["before \\ after", *result.bands, "total"]]
    for band in result.bands:
        rows.append([band, *(str(result.matrix[band][b]) for b in result.bands),
                     str(before[band])])
    rows.append(["total", *(str(after[b]) for b in result.bands), str(result.accounts)])
    return rows


def _data_line(result: DiffResult) -> str:
    """``data: a.csv (50 accounts), as of D`` or, for two exports or dates, both."""
    if not (result.new_data or result.new_as_of):
        return f"data: {result.data} ({result.accounts} accounts), as of {result.as_of}"
    new_data = result.new_data or result.data
    new_as_of = result.new_as_of or result.as_of
    return (f"data: {result.data} as of {result.as_of} -> {new_data} as of {new_as_of} "
            f"({result.accounts} accounts in both)")


def render_text(result: DiffResult) -> str:
    """The plain-text report."""
    out = [
        f"ruleset: {result.old_label} -> {result.new_label}",
        _data_line(result),
        "",
        "Ruleset changes:",
    ]
    out += [f"  {c}" for c in result.changes] or ["  (none: the two rulesets are the same)"]
    out += ["", "Band transitions (rows: before, columns: after):"]
    rows = _matrix_rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                         strict=True)]
        out.append("  " + "  ".join(cells))
    out += ["", _headline(result)]
    for change in result.changed:
        out += _change_lines(change)
    if result.moved:
        out += ["", f"{len(result.moved)} more account(s) keep band and blocked state but "
                "change triggers, play or score:"]
        for change in result.moved:
            out += _change_lines(change)
    out += _membership_lines(result)
    return "\n".join(out) + "\n"


def _change_lines(change: AccountChange) -> list[str]:
    out = ["", f"{change.account_id}  {change.account_name}",
           f"  {_state(change.before)} -> {_state(change.after)}"]
    if change.details:
        out.append("  " + "; ".join(change.details))
    if change.signals:
        out.append("  signals that moved: " + "; ".join(change.signals))
    for reason in change.reasons:
        out.append(f"  - {reason.text}")
        out += [f"      because {b}" for b in reason.because]
    return out


def _membership_lines(result: DiffResult) -> list[str]:
    out = []
    if result.only_old:
        out += ["", f"Only in {result.data} ({len(result.only_old)}): "
                + ", ".join(result.only_old[:20]) + (" ..." if len(result.only_old) > 20 else "")]
    if result.only_new:
        out += ["", f"Only in {result.new_data} ({len(result.only_new)}): "
                + ", ".join(result.only_new[:20]) + (" ..." if len(result.only_new) > 20 else "")]
    return out


def _md(text: str) -> str:
    # Account names go into pull requests: no image, link, HTML or emphasis from data.
    return markdown_text(text)


def render_markdown(result: DiffResult) -> str:
    """A Markdown report for a pull request."""
    band, blocked = result.counts()
    out = [
        f"### Ruleset diff: `{markdown_code(result.old_label)}` → "
        f"`{markdown_code(result.new_label)}`",
        "",
        f"Data `{markdown_code(str(result.data))}` ({result.accounts} accounts), "
        f"as of {result.as_of}: "
        f"**{band} change band**, **{blocked} change blocked state**"
        + (f", {result.score_only} change score only." if result.score_only else "."),
        "",
        "**Ruleset changes**",
        "",
    ]
    out += [f"- `{markdown_code(str(c))}`" for c in result.changes] or ["- none"]
    rows = _matrix_rows(result)
    out += ["", "**Band transitions** (rows: before, columns: after)", "",
            "| " + " | ".join(rows[0]) + " |",
            "|" + "---|" + "---:|" * (len(rows[0]) - 1)]
    for row in rows[1:]:
        out.append("| " + " | ".join([f"**{row[0]}**", *row[1:]]) + " |")
    for title, group in (("Accounts that change", result.changed),
                         ("Same band and blocked state; triggers, play or score change",
                          result.moved)):
        if not group:
            continue
        out += ["", f"**{title}**", "",
                "| account | before | after | what changed | why |", "|---|---|---|---|---|"]
        for change in group:
            why = "<br>".join(
                _md(r.text) + (f" (because {_md('; '.join(r.because))})" if r.because else "")
                for r in change.reasons
            )
            what = "<br>".join(_md(d) for d in [*change.details, *change.signals])
            out.append(f"| {_md(change.account_id)} {_md(change.account_name)} | "
                       f"{_state(change.before)} | {_state(change.after)} | {what} | {why} |")
    return "\n".join(out) + "\n"


def render_json(result: DiffResult) -> str:
    """The JSON report."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
