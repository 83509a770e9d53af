"""Charts as inline SVG, drawn on the server (no JavaScript). Each has a <title> and a <desc>
and is named by them (`role="img"`); the page shows the same numbers in a table beside it.
A missing value (suppressed for the viewer, or not applicable) is drawn as a gap, never as 0."""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

from app.web.formatting import number

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 56
INK = "#1a1a1a"
GRID = "#767676"
SERIES = ("#1f3b57", "#a34700", "#1d6b32")  # at least 3:1 against white and each other's shape
_ids = count(1)


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float | None]


def _axis(value: float) -> tuple[float, float]:
    """A round top for the axis and its tick step: at most five steps of 1, 2 or 5 times a
    power of ten (whole numbers, since the charts count people)."""
    step = 1.0
    while value > 5 * step:
        for factor in (2, 2.5, 2):  # 1 -> 2 -> 5 -> 10 -> 20 -> 50 ...
            step *= factor
            if value <= 5 * step:
                break
    top = max(step, step * -(-value // step))
    return top, step


def _frame(title: str, desc: str, body: list[str], height: int = HEIGHT) -> Markup:
    n = next(_ids)
    return Markup(
        f'<figure class="chart-figure"><figcaption>{escape(title)}</figcaption>'
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-labelledby="chart-{n}-title chart-{n}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-{n}-title">{escape(title)}</title>'
        f'<desc id="chart-{n}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg></figure>"
    )


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{INK}">{escape(text)}</text>'
    )


def _label(x: float, y: float, text: str, anchor: str = "middle", size: int = 12) -> str:
    """A label that may be a name someone typed (an organisation's, an area's): between FSI and
    PDI (U+2068, U+2069), the SVG's <bdi>, so that a name written right to left is laid out in
    its own direction and leaves the anchor where it is."""
    return _text(x, y, f"\u2068{text}\u2069", anchor, size)


def _y_axis(top_value: float, step: float, plot_h: float) -> list[str]:
    parts = []
    ticks = round(top_value / step)
    for i in range(ticks + 1):
        y = TOP + plot_h - plot_h * i / ticks
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="{1 if i == 0 else 0.5}"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, number(step * i, 0), "end", 11))
    return parts


def _legend(series: Sequence[Series], y: float) -> list[str]:
    parts, x = [], LEFT
    for index, s in enumerate(series):
        color = SERIES[index % len(SERIES)]
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{color}"/>')
        parts.append(_label(x + 16, y, s.name, "start", 12))
        x += 28 + 7 * len(s.name)
    return parts


def bar_chart(title: str, desc: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for s in series for v in s.values if v is not None]
    top_value, step = _axis(max(values, default=0))
    body = _y_axis(top_value, step, plot_h)
    slot = plot_w / max(1, len(labels))
    bar = min(28.0, slot * 0.8 / max(1, len(series)))
    every = max(1, round(len(labels) / 12))
    for i, label in enumerate(labels):
        start = LEFT + slot * i + (slot - bar * len(series)) / 2
        for j, s in enumerate(series):
            value = s.values[i]
            x = start + bar * j
            if value is None:
                body.append(_text(x + bar / 2, TOP + plot_h - 4, "?", "middle", 11))
                continue
            h = plot_h * value / top_value
            body.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}" fill="{SERIES[j % len(SERIES)]}"/>'
            )
        if i % every == 0:
            body.append(_label(LEFT + slot * i + slot / 2, TOP + plot_h + 16, label, "middle", 11))
    if len(series) > 1:
        body += _legend(series, HEIGHT - 10)
    return _frame(title, desc, body)


def line_chart(title: str, desc: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """Lines with a marker per point; a missing value breaks the line."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for s in series for v in s.values if v is not None]
    top_value, tick = _axis(max(values, default=0))
    body = _y_axis(top_value, tick, plot_h)
    step = plot_w / max(1, len(labels))
    every = max(1, round(len(labels) / 12))

    def point(i: int, value: float) -> tuple[float, float]:
        return LEFT + step * i + step / 2, TOP + plot_h - plot_h * value / top_value

    for j, s in enumerate(series):
        color = SERIES[j % len(SERIES)]
        run: list[tuple[float, float]] = []
        for i, value in enumerate([*s.values, None]):
            if value is not None:
                run.append(point(i, value))
                continue
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                body.append(
                    f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="3"/>'
                )
            for x, y in run:
                body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}"/>')
            run = []
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(_label(LEFT + step * i + step / 2, TOP + plot_h + 16, label, "middle", 11))
    if len(series) > 1:
        body += _legend(series, HEIGHT - 10)
    return _frame(title, desc, body)


def horizontal_bars(
    title: str,
    desc: str,
    rows: Sequence[tuple[str, float | None]],
    *,
    targets: Sequence[float | None] | None = None,
) -> Markup:
    """One bar per row with its value written beside it; with `targets`, each bar is drawn
    against an outlined target bar (realised against agreed)."""
    # Room for the longest label (about 6.5 px per character at 12 px).
    label_w = min(360, max(120, round(6.5 * max((len(r[0]) for r in rows), default=0)) + 16))
    row_h = 28
    height = TOP + row_h * max(1, len(rows)) + 24
    plot_w = WIDTH - label_w - RIGHT - 70
    values = [v for _, v in rows if v is not None]
    values += [t for t in targets or [] if t is not None]
    top_value, _ = _axis(max(values, default=0))
    body = []
    for i, (label, value) in enumerate(rows):
        y = TOP + row_h * i
        body.append(_label(label_w - 8, y + 17, label, "end", 12))
        target = targets[i] if targets else None
        if target is not None:
            w = plot_w * target / top_value
            body.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" '
                f'fill="none" stroke="{INK}" stroke-width="1.5"/>'
            )
        if value is None:
            body.append(_text(label_w + 4, y + 17, "verborgen", "start", 11))
            continue
        w = plot_w * value / top_value
        body.append(
            f'<rect x="{label_w}" y="{y + 6}" width="{w:.1f}" height="{row_h - 14}" '
            f'fill="{SERIES[0]}"/>'
        )
        shown = number(value, 0) + (f" van {number(target, 0)}" if target is not None else "")
        end = max(w, plot_w * (target or 0) / top_value)
        body.append(_text(label_w + end + 6, y + 17, shown, "start", 12))
    body.append(
        f'<line x1="{label_w}" x2="{label_w}" y1="{TOP}" y2="{height - 24}" stroke="{GRID}"/>'
    )
    return _frame(title, desc, body, height)
