"""Charts as inline SVG: horizontal bars, stacked by segment, labelled at their ends.

Drawn as text, so the report page is one self-contained file with no plotting library, no
image files and nothing fetched from anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d")


@dataclass(frozen=True)
class Segment:
    value: float
    color: str
    title: str  # shown as the segment's tooltip


@dataclass(frozen=True)
class Bar:
    label: str
    segments: Sequence[Segment]
    note: str = ""  # printed after the bar; defaults to the total


def bar_chart(bars: Sequence[Bar], fmt: Callable[[float], str], width: int = 720,
              label_width: int = 170, row_height: int = 28, title: str = "") -> str:
    """Horizontal (stacked) bars on one linear scale starting at zero."""
    note_width = 200
    plot_width = width - label_width - note_width
    largest = max((sum(s.value for s in bar.segments) for bar in bars), default=0.0) or 1.0
    height = row_height * max(len(bars), 1) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for row, bar in enumerate(bars):
        y = 4 + row * row_height
        middle = y + row_height / 2
        parts.append(f'<text x="{label_width - 8}" y="{middle:.1f}" text-anchor="end" '
                     f'dominant-baseline="middle" class="label">{escape(bar.label)}</text>')
        x = float(label_width)
        for segment in bar.segments:
            if segment.value <= 0:
                continue
            w = max(1.0, plot_width * segment.value / largest)
            parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" '
                         f'height="{row_height - 8}" fill="{segment.color}" rx="2">'
                         f"<title>{escape(segment.title)}</title></rect>")
            x += w
        total = sum(s.value for s in bar.segments)
        note = bar.note or fmt(total)
        parts.append(f'<text x="{x + 6:.1f}" y="{middle:.1f}" dominant-baseline="middle" '
                     f'class="value">{escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def legend(items: Sequence[tuple[str, str]]) -> str:
    """Colour swatches and their names, as HTML under a chart."""
    return '<div class="legend">' + "".join(
        f'<span><i style="background:{color}"></i>{escape(name)}</span>'
        for name, color in items) + "</div>"
