"""Small inline SVG charts for the HTML report: no library, no script, no external file.

Every label is escaped here, so callers may pass text straight from the data. Sizes are in
CSS pixels; each chart scales to the width of its container (``viewBox`` plus
``width="100%"``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

FONT = "font-family=\"system-ui, 'DejaVu Sans', sans-serif\""


def esc(value: object) -> str:
    """HTML-escape any value (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class Segment:
    """One coloured piece of a bar: its value, colour and tooltip label."""

    value: float
    color: str
    label: str


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[Segment]]],
    title: str,
    *,
    width: int = 640,
    bar: int = 22,
    gap: int = 10,
    label_width: int = 190,
) -> str:
    """Horizontal stacked bars, one row per label, with the row total at the end."""
    if not rows:
        return ""
    largest = max((sum(s.value for s in segs) for _, segs in rows), default=0) or 1
    plot = width - label_width - 60
    height = len(rows) * (bar + gap) + gap
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{esc(title)}" {FONT}>',
        f"<title>{esc(title)}</title>",
    ]
    for index, (label, segments) in enumerate(rows):
        y = gap + index * (bar + gap)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end" '
            f'font-size="13" fill="#24292f">{esc(label)}</text>'
        )
        x = float(label_width)
        total = 0.0
        for seg in segments:
            if seg.value <= 0:
                continue
            w = seg.value / largest * plot
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{bar}" rx="3" '
                f'fill="{esc(seg.color)}"><title>{esc(seg.label)}: {seg.value:g}</title></rect>'
            )
            x += w
            total += seg.value
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + bar * 0.7:.1f}" font-size="13" '
            f'fill="#24292f">{total:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    bins: Sequence[tuple[float, float, int, str]],
    cuts: Sequence[tuple[float, str]],
    title: str,
    *,
    width: int = 900,
    height: int = 240,
) -> str:
    """Vertical bars for (low, high, count, colour) bins on 0-100, dashed lines at ``cuts``."""
    left, right, top, bottom = 44, 12, 16, 36
    plot_w = width - left - right
    plot_h = height - top - bottom
    largest = max((b[2] for b in bins), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{esc(title)}" {FONT}>',
        f"<title>{esc(title)}</title>",
    ]
    tick = max(1, math.ceil(largest / 5))
    largest = tick * math.ceil(largest / tick)
    for step in range(largest // tick + 1):
        count_at = step * tick
        y = top + plot_h - plot_h * count_at / largest
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#d0d7de" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="#57606a">{count_at}</text>')
    for low, high, count, color in bins:
        x = left + low / 100 * plot_w
        w = (high - low) / 100 * plot_w
        h = count / largest * plot_h
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{max(w - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="{esc(color)}"><title>{low:g}-{high:g}: {count} '
            f"account(s)</title></rect>"
        )
    for value, label in cuts:
        x = left + value / 100 * plot_w
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" '
                     'stroke="#24292f" stroke-dasharray="4 3" stroke-width="1"/>')
        parts.append(f'<text x="{x + 4:.1f}" y="{top + 11}" font-size="11" '
                     f'fill="#24292f">{esc(label)}</text>')
    for mark in range(0, 101, 10):
        x = left + mark / 100 * plot_w
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="11" '
                     f'text-anchor="middle" fill="#57606a">{mark}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" font-size="12" '
                 'text-anchor="middle" fill="#57606a">timing score</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class RateRow:
    """One bar of a rate chart: a rate (0-1), its 95% interval and a healthy range."""

    label: str
    rate: float | None
    interval: tuple[float, float] | None
    healthy: tuple[float | None, float | None] | None
    color: str
    note: str = ""


def rate_bars(rows: Sequence[RateRow], title: str, *, width: int = 560,
              label_width: int = 110, axis_max: float = 1.0) -> str:
    """Horizontal bars on a 0-``axis_max`` axis (1.0 = 100%), with 95% whiskers and a
    shaded healthy range."""
    if not rows:
        return ""
    bar, gap, top, bottom = 20, 16, 8, 30
    plot = width - label_width - 130
    height = top + len(rows) * (bar + gap) + bottom

    def at(rate: float) -> float:
        return label_width + min(rate, axis_max) / axis_max * plot

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{esc(title)}" {FONT}>',
        f"<title>{esc(title)}</title>",
    ]
    for step in range(6):
        value = axis_max * step / 5
        x = at(value)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}" '
                     'stroke="#eaeef2" stroke-width="1"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="11" '
                     f'text-anchor="middle" fill="#57606a">{value * 100:g}%</text>')
    for index, row in enumerate(rows):
        y = top + index * (bar + gap) + gap / 2
        parts.append(f'<text x="{label_width - 8}" y="{y + bar * 0.72:.1f}" font-size="13" '
                     f'text-anchor="end" fill="#24292f">{esc(row.label)}</text>')
        if row.healthy is not None:
            low = row.healthy[0] if row.healthy[0] is not None else 0.0
            high = row.healthy[1] if row.healthy[1] is not None else 1.0
            parts.append(
                f'<rect x="{at(low):.1f}" y="{y - 4}" '
                f'width="{at(high) - at(low):.1f}" height="{bar + 8}" fill="#dafbe1" '
                f'stroke="#4ac26b" stroke-dasharray="3 2"><title>healthy range '
                f"{low * 100:.0f}-{high * 100:.0f}%</title></rect>"
            )
        if row.rate is not None:
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{max(at(row.rate) - label_width, 1):.1f}" '
                f'height="{bar}" rx="3" fill="{esc(row.color)}"><title>{esc(row.label)}: '
                f"{row.rate * 100:.1f}% {esc(row.note)}</title></rect>"
            )
        if row.interval is not None:
            lo, hi = row.interval
            mid = y + bar / 2
            parts.append(
                f'<line x1="{at(lo):.1f}" x2="{at(hi):.1f}" '
                f'y1="{mid}" y2="{mid}" stroke="#24292f" stroke-width="1.5"/>'
                f'<line x1="{at(lo):.1f}" x2="{at(lo):.1f}" '
                f'y1="{mid - 5}" y2="{mid + 5}" stroke="#24292f" stroke-width="1.5"/>'
                f'<line x1="{at(hi):.1f}" x2="{at(hi):.1f}" '
                f'y1="{mid - 5}" y2="{mid + 5}" stroke="#24292f" stroke-width="1.5"/>'
            )
        text = "-" if row.rate is None else f"{row.rate * 100:.{0 if axis_max > 0.2 else 1}f}%"
        parts.append(f'<text x="{label_width + plot + 8}" y="{y + bar * 0.72:.1f}" '
                     f'font-size="13" fill="#24292f">{esc(text)} {esc(row.note)}</text>')
    parts.append("</svg>")
    return "".join(parts)
