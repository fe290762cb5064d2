"""Bar charts as SVG markup: numbers in, markup out. Every text and attribute is escaped
here, so the caller may put the result in a page as it is; colours come from the page's
stylesheet through the classes (`tone-NAME`), so a chart follows the page's palette."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
HEIGHT = 260
LEFT = 72  # room for the value axis' labels
RIGHT = 12
TOP = 14
BOTTOM = 34  # room for the day labels
AXIS_LABELS = 4  # at most this many day labels under the bars, first and last among them
_NAME = re.compile(r"[^a-z0-9-]")


@dataclass(frozen=True)
class Series:
    """One kind of bar: its name (in tooltips and the legend), its values per position (None:
    nothing to show there) and its tone (a class, `tone-NAME`)."""

    name: str
    values: Sequence[float | None]
    tone: str


@dataclass(frozen=True)
class Chart:
    """A chart's words and numbers. `key` makes the ids of its title and description;
    `labels` name the positions (days); several series stack; `suffix` follows each value
    shown (" h", "%") and `decimals` rounds it."""

    key: str
    title: str
    summary: str
    labels: Sequence[str]
    series: Sequence[Series]
    suffix: str = ""
    decimals: int = 0


def _name(text: str) -> str:
    """An id or class fragment: lower-case letters, digits and hyphens only."""
    return _NAME.sub("", text.lower()) or "x"


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _number(value: float) -> str:
    """A coordinate, short and exact enough."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _clean(value: float | None) -> float | None:
    """None for what cannot be drawn (missing, NaN, infinite); negatives as nothing."""
    if value is None or not math.isfinite(value):
        return None
    return max(float(value), 0.0)


def format_value(value: float, decimals: int = 0, suffix: str = "") -> str:
    return f"{value:,.{decimals}f}{suffix}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten at or above `value` (at least 1),
    so the axis' labels are round numbers."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-9:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop ends at 10


def _label_positions(count: int) -> list[int]:
    if count <= 0:
        return []
    if count <= AXIS_LABELS:
        return list(range(count))
    step = (count - 1) / (AXIS_LABELS - 1)
    return sorted({round(i * step) for i in range(AXIS_LABELS)})


def bar_chart(chart: Chart) -> str:
    """The chart as an `<svg>` element: a title and a description (the summary) for screen
    readers, the value axis with three round values, a bar (or a stack) per position each
    with a tooltip, and a few labels under them. Without any value to draw it says so."""
    key = _name(chart.key)
    count = len(chart.labels)
    cleaned = [
        [_clean(s.values[i]) if i < len(s.values) else None for i in range(count)]
        for s in chart.series
    ]
    totals = [sum(v[i] or 0.0 for v in cleaned) for i in range(count)]
    has_data = any(v is not None for values in cleaned for v in values)
    top = nice_ceiling(max(totals, default=0.0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h

    def y(value: float) -> float:
        return base - value / top * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-labelledby="{key}-title {key}-desc">',
        f'<title id="{key}-title">{_text(chart.title)}</title>',
        f'<desc id="{key}-desc">{_text(chart.summary)}</desc>',
        '<g class="axis">',
    ]
    for fraction in (0.0, 0.5, 1.0):
        value = top * fraction
        at = _number(y(value))
        decimals = 0 if value == int(value) else max(chart.decimals, 1)
        label = format_value(value, decimals, chart.suffix)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at}" y2="{at}"/>'
            f'<text class="value-label" x="{LEFT - 6}" y="{at}" text-anchor="end"'
            f' dominant-baseline="middle">{_text(label)}</text>'
        )
    for i in _label_positions(count):
        x = LEFT + (i + 0.5) * plot_w / count
        anchor = "start" if i == 0 and count > 1 else "end" if i == count - 1 else "middle"
        if count == 1:
            anchor = "middle"
        parts.append(
            f'<text class="day-label" x="{_number(x)}" y="{HEIGHT - 10}"'
            f' text-anchor="{anchor}">{_text(chart.labels[i])}</text>'
        )
    parts.append("</g>")
    if has_data:
        band = plot_w / count
        width = max(band * 0.8, 1.0)
        parts.append('<g class="bars">')
        for i in range(count):
            x = LEFT + i * band + (band - width) / 2
            stacked = 0.0
            for series, values in zip(chart.series, cleaned, strict=True):
                found = values[i]
                if found is None:
                    continue
                value = found
                y_top = y(stacked + value)
                height = y(stacked) - y_top
                stacked += value
                shown = format_value(value, chart.decimals, chart.suffix)
                tip = f"{chart.labels[i]}: {series.name} {shown}"
                parts.append(
                    f'<rect class="bar tone-{_name(series.tone)}" x="{_number(x)}"'
                    f' y="{_number(y_top)}" width="{_number(width)}"'
                    f' height="{_number(height)}"><title>{_text(tip)}</title></rect>'
                )
        parts.append("</g>")
    else:
        middle = f'x="{_number(LEFT + plot_w / 2)}" y="{_number(TOP + plot_h / 2)}"'
        parts.append(
            f'<text class="no-data" {middle} text-anchor="middle">No data for these days</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
