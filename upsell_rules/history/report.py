"""One self-contained HTML report of a run (and, optionally, of a backtest).

The file has inline CSS and inline SVG charts and nothing else: no script, no font, no
image, no link to anything outside it, so it opens offline, survives being e-mailed, and
shows the same everywhere. Every value that comes from the data (names, owners, plans,
narratives, ids) is escaped, so an account called ``<script>`` is shown as text.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upsell_rules import __version__
from upsell_rules.history.backtest_format import Section, pct, sections
from upsell_rules.history.charts import (
    RateRow,
    Segment,
    esc,
    histogram,
    rate_bars,
    stacked_bars,
)
from upsell_rules.io.formatters import queue_order
from upsell_rules.io.queue import prep_steps
from upsell_rules.ruleset.model import Ruleset

BAND_COLORS = {"act_now": "#1a7f37", "warming": "#bf8700", "monitor": "#0969da",
               "wait": "#8c959f"}
EXTRA_COLORS = ("#8250df", "#bc4c00", "#1b7c83", "#6e7781")
BLOCKED = "#cf222e"
PREP = "#d4a72c"
#: At most this many accounts are named under each gate or red flag (the rest counted).
NAMES_PER_REASON = 30

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#24292f;font:15px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 28px 48px}
header h1{font-size:26px;margin:0 0 4px}
header p{margin:0;color:#57606a}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin:20px 0}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 14px}
.card .n{font-size:28px;font-weight:650}
.card .l{color:#57606a;font-size:13px}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;margin:16px 0}
section h2{font-size:19px;margin:0 0 4px}
section p.lead{margin:0 0 12px;color:#57606a}
section h3{font-size:15px;margin:14px 0 6px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:20px}
.grid2>div{min-width:0}
@media (max-width:900px){.grid2{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;color:#fff;
white-space:nowrap}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:13px;color:#57606a;margin:6px 0}
.legend span::before{content:"";display:inline-block;width:11px;height:11px;border-radius:2px;
margin-right:5px;vertical-align:-1px;background:var(--c)}
.narr{color:#424a53;font-size:13px}
#queue td:nth-child(1){width:20%}#queue td:nth-child(3){width:27%}
details{margin:4px 0}
summary{cursor:pointer}
.muted{color:#57606a}
.ok{color:#1a7f37;font-weight:600}.below{color:#cf222e;font-weight:600}
.above{color:#9a6700;font-weight:600}
footer{color:#57606a;font-size:12px;text-align:center;margin-top:24px}
"""


@dataclass
class ReportInput:
    """Everything the report shows."""

    ruleset: Ruleset
    decisions: list[dict[str, Any]]
    plans: dict[str, str]
    as_of: date
    data_label: str
    failed: int = 0
    backtest: dict[str, Any] | None = None
    backtest_label: str = ""
    notes: list[str] = field(default_factory=list)
    #: Upsell type name -> (title, description), from the plugins that register them.
    upsell_types: dict[str, tuple[str, str]] = field(default_factory=dict)


def band_colors(ruleset: Ruleset) -> dict[str, str]:
    """A colour per band id (the default ruleset's bands keep their usual colours)."""
    colors: dict[str, str] = {}
    spare = iter(EXTRA_COLORS)
    for band in ruleset.bands:
        colors[band.id] = BAND_COLORS.get(band.id) or next(spare, "#6e7781")
    return colors


def _status(decision: dict[str, Any]) -> str:
    """``blocked``, ``prep`` or ``ready`` (nothing in the way), in the queue's words."""
    if decision["blocked"]:
        return "blocked"
    if decision["action"].get("prepare"):
        return "prep"
    return "ready"


def _badge(text: str, color: str) -> str:
    return f'<span class="badge" style="background:{esc(color)}">{esc(text)}</span>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]],
           numeric: Sequence[int] = ()) -> str:
    """A table whose cells are already HTML (escape before passing)."""
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cards(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="n">{esc(n)}</div><div class="l">{esc(label)}</div>'
        "</div>"
        for n, label in items
    ) + "</div>"


def _bands_section(data: ReportInput, colors: dict[str, str]) -> str:
    rs = data.ruleset
    rows = []
    table_rows = []
    for band in rs.bands:
        in_band = [d for d in data.decisions if d["band"] == band.id]
        counts = Counter(_status(d) for d in in_band)
        rows.append((band.title, [
            Segment(counts["ready"], colors[band.id], "ready"),
            Segment(counts["prep"], PREP, "prep: a preparatory step first"),
            Segment(counts["blocked"], BLOCKED, "blocked by a gate or red flag"),
        ]))
        table_rows.append([
            _badge(band.title, colors[band.id]),
            f"{band.min:g}-{band.max:g}",
            str(len(in_band)), str(counts["ready"]), str(counts["prep"]),
            str(counts["blocked"]),
        ])
    chart = stacked_bars(rows, "Accounts per band: ready, prep (a preparatory step first), "
                         "blocked",
                         width=460, label_width=80)
    legend = ('<div class="legend"><span style="--c:#1a7f37">ready (band colour)</span>'
              f'<span style="--c:{PREP}">prep: a preparatory step first</span>'
              f'<span style="--c:{BLOCKED}">blocked</span></div>')
    table = _table(["band", "score", "accounts", "ready", "prep", "blocked"], table_rows,
                   numeric=(2, 3, 4, 5))
    return (
        '<section id="bands"><h2>Accounts by band</h2><p class="lead">The band is the timing '
        "score's verdict; a blocked account keeps its band but must run its play first.</p>"
        f'<div class="grid2"><div>{chart}{legend}</div><div>{table}</div></div></section>'
    )


def _score_section(data: ReportInput, colors: dict[str, str]) -> str:
    rs = data.ruleset
    bins = []
    for low in range(0, 100, 5):
        high = low + 5
        count = sum(
            1 for d in data.decisions
            if low <= d["score"] < high or (high == 100 and d["score"] == 100)
        )
        band = next((b for b in rs.bands if low >= b.min), rs.bands[-1])
        bins.append((float(low), float(high), count, colors[band.id]))
    cuts = [(b.min, b.title) for b in rs.bands if 0 < b.min < 100]
    chart = histogram(bins, cuts, "Distribution of timing scores, 5-point bins")
    return (
        '<section id="scores"><h2>Score distribution</h2><p class="lead">Timing scores of '
        "every account in 5-point bins, coloured by band; dashed lines are the band "
        f"minimums.</p>{chart}</section>"
    )


def _queue_section(data: ReportInput, colors: dict[str, str]) -> str:
    top = data.ruleset.bands[0]
    queue = [d for d in queue_order(data.decisions) if d["band"] == top.id and not d["blocked"]]
    rows = []
    for d in queue:
        action = d["action"]
        status = _status(d)
        rows.append([
            f"<strong>{esc(d['account_name'] or d['account_id'])}</strong><br>"
            f'<span class="muted">{esc(d["account_id"])} &middot; {esc(d["owner"] or "-")}'
            "</span>",
            f"{d['score']:g}",
            f"{esc(action['title'])}<br><span class=\"muted\">"
            f"{esc(', '.join(d['upsell_types']) or '-')} &middot; {esc(action['owner'])} "
            f"&middot; {esc(action['window'])}</span>"
            + ("<br>" + _badge("prep", PREP) + " " + esc(", ".join(prep_steps(d)))
               if status == "prep" else ""),
            f'<div class="narr">{esc(d["narrative"])}</div>',
        ])
    body = (_table(["account", "score", "play", "narrative"], rows, numeric=(1,))
            if rows else '<p class="muted">No account is in this band without a block.</p>')
    body += _type_legend(queue, data.upsell_types)
    return (
        f'<section id="queue"><h2>{esc(top.title)} queue ({len(queue)})</h2>'
        '<p class="lead">Unblocked accounts in the top band, highest score first, with the '
        "play, who runs it, the window and the opening built from the account's numbers."
        f"</p>{body}</section>"
    )


def _type_legend(
    decisions: list[dict[str, Any]], types: dict[str, tuple[str, str]]
) -> str:
    """What each upsell type in the queue means: its title and description."""
    used = dict.fromkeys(name for d in decisions for name in d["upsell_types"])
    items = [
        f"<li><strong>{esc(types[name][0])}</strong> ({esc(name)})"
        + (f": {esc(types[name][1])}" if types[name][1] else "") + "</li>"
        for name in used if name in types
    ]
    return f'<ul class="muted">{"".join(items)}</ul>' if items else ""


def _held_back_section(data: ReportInput) -> str:
    rs = data.ruleset
    reasons: list[tuple[str, str, str, list[dict[str, Any]]]] = []
    for gate in rs.gates:
        failed = [d for d in data.decisions
                  if any(g["id"] == gate.id and not g["passed"] for g in d["gates"])]
        kind = "hard gate" if gate.severity == "hard" else "soft gate"
        reasons.append((gate.id, kind, gate.play, failed))
    for flag in rs.red_flags:
        fired = [d for d in data.decisions if any(f["id"] == flag.id for f in d["red_flags"])]
        play = flag.play or (f"cap {flag.cap:g}" if flag.cap is not None else "")
        reasons.append((flag.id, f"red flag ({flag.effect})", play, fired))
    reasons = [r for r in reasons if r[3]]
    reasons.sort(key=lambda r: -len(r[3]))
    rows = []
    for rid, kind, _play, accounts in reasons:
        color = BLOCKED if kind in ("hard gate", "red flag (block)") else PREP
        rows.append((f"{rid}", [Segment(len(accounts), color, kind)]))
    chart = stacked_bars(rows, "Accounts held back by each gate and red flag", width=480,
                         bar=16, gap=7, label_width=170)
    details = []
    for rid, kind, play, accounts in reasons:
        ordered = sorted(accounts, key=lambda d: (-d["score"], d["account_id"]))
        names = ", ".join(
            f"{esc(d['account_name'] or d['account_id'])} ({d['score']:g})"
            for d in ordered[:NAMES_PER_REASON]
        )
        more = len(ordered) - NAMES_PER_REASON
        if more > 0:
            names += f", and {more} more"
        details.append(
            f"<details><summary><strong>{esc(rid)}</strong> "
            f'<span class="muted">{esc(kind)}, play: {esc(play or "-")}</span> '
            f"({len(accounts)})</summary><p>{names}</p></details>"
        )
    legend = (f'<div class="legend"><span style="--c:{BLOCKED}">blocks outreach</span>'
              f'<span style="--c:{PREP}">prepares or caps</span></div>')
    empty = '<p class="muted">No gate failed and no red flag fired.</p>'
    return (
        '<section id="held-back"><h2>Held back by gates and red flags</h2><p class="lead">'
        "How many accounts each rule holds back (an account can be held by several), "
        "and which ones, highest score first.</p>"
        + (f'<div class="grid2"><div>{chart}{legend}</div><div>{"".join(details)}</div></div>'
           if reasons else empty)
        + "</section>"
    )


def _breakdown(data: ReportInput, key: str, title: str, colors: dict[str, str]) -> str:
    rs = data.ruleset
    groups: dict[str, list[dict[str, Any]]] = {}
    for d in data.decisions:
        name = (d["owner"] if key == "owner" else data.plans.get(d["account_id"], "")) or "(none)"
        groups.setdefault(name, []).append(d)
    top = rs.bands[0].id
    rows = []
    for name, items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        bands = Counter(d["band"] for d in items)
        ready = sum(1 for d in items if d["band"] == top and not d["blocked"])
        blocked = sum(1 for d in items if d["blocked"])
        rows.append([esc(name), str(len(items)), *(str(bands[b.id]) for b in rs.bands),
                     f"<strong>{ready}</strong>", str(blocked)])
    headers = [title, "accounts", *(b.title for b in rs.bands), f"{rs.bands[0].title} ready",
               "blocked"]
    return _table(headers, rows, numeric=tuple(range(1, len(headers))))


def _interval(row: dict[str, Any]) -> tuple[float, float] | None:
    """A result row's 95% interval as a pair, or ``None`` when it has none."""
    return tuple(row["ci95"]) if row["ci95"] else None


def _band_rate_rows(result: dict[str, Any], colors: dict[str, str]) -> list[RateRow]:
    """Win rate per band, then all deals against the healthy range."""
    overall = result["overall"]
    band_rows = [
        RateRow(row["title"], row["win_rate"], _interval(row), None,
                colors.get(row["band"], "#6e7781"), f"({row['won']}/{row['deals']})")
        for row in result["by_band"]
    ]
    band_rows.append(RateRow(
        "All deals", overall["win_rate"], _interval(overall),
        (overall["healthy"]["low"], overall["healthy"]["high"]), "#24292f",
        f"({overall['won']}/{overall['deals']})",
    ))
    return band_rows


def _type_rate_rows(result: dict[str, Any]) -> list[RateRow]:
    """Win rate per upsell type, each against its healthy range."""
    return [
        RateRow(
            row["upsell_type"], row["win_rate"], _interval(row),
            (row["healthy"]["low"], row["healthy"]["high"]) if row["healthy"] else None,
            "#8250df", f"({row['won']}/{row['deals']})",
        )
        for row in result["by_upsell_type"]
    ]


def _churn_chart(result: dict[str, Any]) -> str:
    """Churn within 90 days after a won upsell against the base, on an axis that fits."""
    churn = result["churn"]
    after, base = churn["after_won_upsell"], churn["base"]
    churn_rows = [
        RateRow("after won upsell", after["rate"], None, None, "#bc4c00",
                f"({after['churned']}/{after['observed']})"),
        RateRow("base", base["rate"], None, None, "#6e7781",
                f"({base['churned']}/{base['observed']})"),
    ]
    highest = max((r.rate or 0.0) for r in churn_rows)
    churn_axis = max(0.05, math.ceil(highest * 1.25 / 0.05) * 0.05)
    return rate_bars(churn_rows, "Churn within 90 days", label_width=130, axis_max=churn_axis)


def _timing_table(tables: Sequence[Section]) -> str:
    """The text report's Timing table, its verdicts coloured."""
    timing = next(s for s in tables if s.title == "Timing")
    verdicts = {"ok": '<span class="ok">ok</span>', "BELOW": '<span class="below">below</span>',
                "above": '<span class="above">above</span>'}
    rows = [[esc(row[0]), esc(row[1]), esc(row[2]), verdicts.get(row[3], esc(row[3]))]
            for row in timing.rows]
    return _table(["figure", "value", "healthy range", "verdict"], rows)


def _trigger_table(tables: Sequence[Section]) -> str:
    """The text report's table by trigger."""
    trigger = next(s for s in tables if s.title.startswith("By trigger"))
    rows = [[esc(c) for c in row] for row in trigger.rows]
    return _table(list(trigger.headers), rows, numeric=(2, 3, 4))


def _backtest_cards(result: dict[str, Any]) -> str:
    """The backtest's headline figures."""
    overall = result["overall"]
    volume = result["volume"]
    return _cards([
        (pct(overall["win_rate"]), f"win rate (healthy {overall['healthy']['text']})"),
        (f"{result['lift']['ratio']:.2f}x" if result["lift"]["ratio"] else "-",
         f"lift of {result['lift']['band']} over the rest"),
        (pct(result["never_surfaced"]["share"]), "of wins never surfaced"),
        (str(volume["deals_matched"]), f"deals joined ({volume['snapshots']} snapshots)"),
    ])


def _backtest_section(result: dict[str, Any], colors: dict[str, str], label: str) -> str:
    period = result["period"]
    tables = sections(result)
    return (
        '<section id="backtest"><h2>Backtest against real outcomes</h2>'
        f'<p class="lead">{esc(label)}: snapshots {esc(period["first_snapshot"])} to '
        f'{esc(period["last_snapshot"])}, each deal joined to the decision in force when it '
        f'opened (horizon {result["horizon_days"]} days). Bars show win rates with 95% '
        "intervals; the dashed green box is the research's healthy range.</p>"
        f"{_backtest_cards(result)}"
        '<div class="grid2"><div><h3>Win rate by band</h3>'
        f"{rate_bars(_band_rate_rows(result, colors), 'Win rate by band')}</div>"
        "<div><h3>Win rate by upsell type</h3>"
        f"{rate_bars(_type_rate_rows(result), 'Win rate by upsell type, with healthy ranges')}"
        "</div></div>"
        "<h3>Timing and churn</h3>"
        f"{_timing_table(tables)}"
        f'<div style="max-width:640px;margin-top:12px">{_churn_chart(result)}</div>'
        "<h3>By trigger</h3>"
        f"{_trigger_table(tables)}"
        "</section>"
    )


def render_report(data: ReportInput) -> str:
    """The whole report as one HTML document."""
    rs = data.ruleset
    colors = band_colors(rs)
    decisions = data.decisions
    top = rs.bands[0]
    ready = sum(1 for d in decisions if d["band"] == top.id and not d["blocked"])
    blocked = sum(1 for d in decisions if d["blocked"])
    title = f"Upsell timing report: {rs.name} {rs.version}, as of {data.as_of.isoformat()}"
    cards = _cards([
        (str(len(decisions)), "accounts decided"),
        (str(ready), f"{top.title}, ready to work"),
        (str(sum(1 for d in decisions if d["band"] == top.id)), f"{top.title} band in all"),
        (str(blocked), "blocked by a gate or red flag"),
        (str(data.failed), "records that could not be read"),
    ])
    notes = "".join(f'<p class="muted">{esc(n)}</p>' for n in data.notes)
    body = [
        "<header>",
        "<h1>Upsell timing report</h1>",
        f"<p>Ruleset <strong>{esc(rs.name)} {esc(rs.version)}</strong> "
        f'(sha256 {esc(rs.sha256[:12])}) on {esc(data.data_label)}, as of '
        f"<strong>{esc(data.as_of.isoformat())}</strong>.</p>",
        notes,
        "</header>",
        cards,
        _bands_section(data, colors),
        _score_section(data, colors),
        _queue_section(data, colors),
        _held_back_section(data),
        '<section id="breakdown"><h2>By owner and by plan</h2><p class="lead">Where the '
        "work sits: accounts per band for each owner and each plan.</p>"
        f'{_breakdown(data, "owner", "owner", colors)}<div style="height:14px"></div>'
        f'{_breakdown(data, "plan", "plan", colors)}</section>',
    ]
    if data.backtest is not None:
        body.append(_backtest_section(data.backtest, colors, data.backtest_label))
    body.append(
        f"<footer>Made by upsell-rules {esc(__version__)}. A single file with no scripts "
        "and no external resources.</footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
