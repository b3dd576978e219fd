"""Render a backtest result (the dict from :func:`upsell_rules.history.backtest.run_backtest`).

The figures are laid out once, as titled tables of text cells (:func:`sections`); the
terminal table, markdown and the HTML report all draw from that one layout, so they never
disagree about what a figure is called or how it is rounded.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any, TextIO

from upsell_rules.history.backtest_figures import MIN_TO_JUDGE

FORMATS = ("table", "json", "markdown")


@dataclass(frozen=True)
class Section:
    """One titled table: headers, rows of text cells, and an optional note under it."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


#: How the verdict column reads, said once under the first table.
VERDICT_NOTE = (f"Verdicts: BELOW or above only when the whole 95% interval is outside the "
                f"healthy range (unclear when it reaches into it); too few under "
                f"{MIN_TO_JUDGE} deals.")


def pct(value: float | None, digits: int = 1) -> str:
    """``0.412`` -> ``41.2%``; ``None`` -> ``-``."""
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def interval(value: list[float] | None) -> str:
    """A 95% interval as ``35-47%``."""
    if not value:
        return "-"
    return f"{value[0] * 100:.0f}-{value[1] * 100:.0f}%"


def days(value: float | None) -> str:
    """Days with one decimal when needed."""
    if value is None:
        return "-"
    return f"{value:.0f} d" if float(value).is_integer() else f"{value:.1f} d"


def status_mark(status: str | None) -> str:
    """How a healthy-range verdict reads in a cell."""
    return {"healthy": "ok", "below": "BELOW", "above": "above", "unclear": "unclear",
            "too_few": "too few", None: "-"}.get(status, "-")


def _healthy(block: dict[str, Any] | None) -> str:
    if not block:
        return "no published range"
    return f"{block['text']} ({block['source']})"


def sections(result: dict[str, Any]) -> list[Section]:
    """The backtest as titled tables, in reading order."""
    return [section(result) for section in
            (_overall, _by_band, _timing, _by_upsell_type, _by_trigger)]


def _overall(result: dict[str, Any]) -> Section:
    """The headline: the win rate and how much of the history was joined."""
    volume = result["volume"]
    period = result["period"]
    overall = result["overall"]
    return Section(
        "Overall",
        ("figure", "value", "healthy range", "verdict"),
        (
            (
                "win rate (won / closed deals)",
                f"{pct(overall['win_rate'])} ({overall['won']} of {overall['deals']}, "
                f"95% CI {interval(overall['ci95'])})",
                _healthy(overall["healthy"]),
                status_mark(overall["status"]),
            ),
            (
                "deals joined to a snapshot",
                f"{volume['deals_matched']} of {volume['deals']} "
                f"({volume['deals_without_snapshot']} had no snapshot within "
                f"{result['horizon_days']} d before opening{_unmatched(volume)})",
                "",
                "",
            ),
            (
                "snapshots decided",
                f"{volume['snapshots']} ({volume['accounts']} accounts, "
                f"{period['first_snapshot']} to {period['last_snapshot']})",
                "",
                "",
            ),
        ),
        note=f"Outcomes: {overall['won']} won, {overall['lost']} lost, "
        f"{overall['no_decision']} no decision. Data observed until "
        f"{period['observed_until']}. {VERDICT_NOTE}",
    )


def _unmatched(volume: dict[str, Any]) -> str:
    """Why deals went unjoined, when any did: ``: 1 account without snapshots, ...``."""
    parts = [
        (volume.get("deals_unknown_account", 0), "for an account with no snapshot"),
        (volume.get("deals_before_first_snapshot", 0), "opened before the first snapshot"),
        (volume.get("deals_snapshot_too_old", 0), "latest snapshot too old"),
    ]
    shown = [f"{count} {text}" for count, text in parts if count]
    return ": " + ", ".join(shown) if shown else ""


def _by_band(result: dict[str, Any]) -> Section:
    """Win rates by the band in force when each deal opened."""
    return Section(
        "By band (the decision in force when the deal opened)",
        ("band", "snapshots", "share", "deals", "won", "win rate", "95% CI"),
        tuple(
            (
                row["band"],
                str(row["snapshots"]),
                pct(row["share"]),
                str(row["deals"]),
                str(row["won"]),
                pct(row["win_rate"]),
                interval(row["ci95"]),
            )
            for row in result["by_band"]
        ),
    )


def _timing(result: dict[str, Any]) -> Section:
    """Lift, lead time, wins never surfaced and churn after a won upsell."""
    lift = result["lift"]
    lead = result["lead_time"]
    never = result["never_surfaced"]
    churn = result["churn"]
    after, base = churn["after_won_upsell"], churn["base"]
    ratio = "-" if lift["ratio"] is None else f"{lift['ratio']:.2f}x"
    ratio_ci = ""
    if lift.get("ci95"):
        low, high = lift["ci95"]
        ratio_ci = f"95% CI {low:.1f}-{high:.1f}x; "
    return Section(
        "Timing",
        ("figure", "value", "healthy range", "verdict"),
        (
            (
                f"lift of {lift['band']} over the rest",
                f"{ratio} ({ratio_ci}{pct(lift['top_win_rate'])} vs "
                f"{pct(lift['rest_win_rate'])})",
                _healthy(lift["healthy"]),
                status_mark(lift["status"]),
            ),
            (
                "days surfaced before the deal opened",
                f"median {days(lead['median_days'])}, mean {days(lead['mean_days'])} "
                f"({lead['wins_surfaced']} wins)",
                _healthy(lead["healthy"]),
                status_mark(lead["status"]),
            ),
            (
                "wins never surfaced",
                f"{pct(never['share'])} ({never['never_surfaced']} of "
                f"{never['wins_with_history']} wins)",
                "no published range; lower is better",
                "-",
            ),
            (
                f"churn within {churn['window_days']} d of a won upsell",
                f"{pct(after['rate'])} ({after['churned']} of {after['observed']})",
                _healthy(churn["healthy"]),
                status_mark(churn["status"]),
            ),
            (
                f"base churn within {churn['window_days']} d",
                f"{pct(base['rate'])} ({base['churned']} of {base['observed']} "
                "account snapshots)",
                "",
                "",
            ),
        ),
        note=f"Surfaced = {lift['band']} and not blocked. Wins never surfaced: the "
        f"account was never surfaced between its previous deal and this one "
        f"({never['wins_without_history']} wins had no snapshot to judge by).",
    )


def _by_upsell_type(result: dict[str, Any]) -> Section:
    """Win rates by the outcome file's upsell type."""
    return Section(
        "By upsell type (from the outcomes file)",
        ("upsell type", "deals", "won", "win rate", "95% CI", "healthy range", "verdict"),
        tuple(
            (
                row["upsell_type"],
                str(row["deals"]),
                str(row["won"]),
                pct(row["win_rate"]),
                interval(row["ci95"]),
                _healthy(row["healthy"]),
                status_mark(row["status"]),
            )
            for row in result["by_upsell_type"]
        ),
    )


def _by_trigger(result: dict[str, Any]) -> Section:
    """Win rates by trigger (a deal counts under every trigger that fired)."""
    return Section(
        "By trigger (a deal counts under every trigger that fired)",
        ("trigger", "type", "snapshots", "deals", "won", "win rate", "95% CI"),
        tuple(
            (
                row["trigger"],
                row["upsell_type"] or "-",
                str(row["snapshots"]),
                str(row["deals"]),
                str(row["won"]),
                pct(row["win_rate"]),
                interval(row["ci95"]),
            )
            for row in result["by_trigger"]
        ),
    )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def write_markdown(result: dict[str, Any], out: TextIO) -> None:
    """The backtest as markdown: one heading and table per section."""
    rs = result["ruleset"]
    out.write(f"# Backtest: {rs['name']} {rs['version']}\n\n")
    out.write(f"Horizon {result['horizon_days']} days; ruleset sha256 `{rs['sha256'][:12]}`.\n")
    for section in sections(result):
        out.write(f"\n## {section.title}\n\n")
        out.write("| " + " | ".join(section.headers) + " |\n")
        out.write("|" + "---|" * len(section.headers) + "\n")
        for row in section.rows:
            out.write("| " + " | ".join(_md_cell(c) for c in row) + " |\n")
        if section.note:
            out.write(f"\n{section.note}\n")


def write_json(result: dict[str, Any], out: TextIO) -> None:
    """The backtest result as indented JSON."""
    out.write(json.dumps(result, indent=2, ensure_ascii=False))
    out.write("\n")


def write_table(result: dict[str, Any], out: TextIO, *, color: bool = False) -> None:
    """The backtest as rich tables (colour only when ``color``)."""
    from rich.console import Console
    from rich.table import Table

    # Plain output goes through a buffer so padded lines can be trimmed for files and diffs.
    target: TextIO = out if color else io.StringIO()
    console = Console(file=target, width=140, no_color=not color, force_terminal=color,
                      highlight=False)
    rs = result["ruleset"]
    console.print(f"Backtest of {rs['name']} {rs['version']}, horizon "
                  f"{result['horizon_days']} days", style="bold")
    styles = {"ok": "green", "BELOW": "bold red", "above": "yellow"}
    for section in sections(result):
        table = Table(title=section.title, title_justify="left", header_style="bold",
                      caption=section.note or None, caption_justify="left")
        for header in section.headers:
            table.add_column(header, overflow="fold")
        for row in section.rows:
            style = styles.get(row[-1], "") if section.headers[-1] == "verdict" else ""
            table.add_row(*row, style=style)
        console.print(table)
    if not color:
        assert isinstance(target, io.StringIO)
        out.write("\n".join(line.rstrip() for line in target.getvalue().splitlines()) + "\n")


def render(result: dict[str, Any], fmt: str) -> str:
    """Render to a string (tests and small outputs)."""
    buffer = io.StringIO()
    {"json": write_json, "markdown": write_markdown}.get(fmt, write_table)(result, buffer)
    return buffer.getvalue()
