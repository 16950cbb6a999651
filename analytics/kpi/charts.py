"""Inline SVG charts for the sobriety report: no script, no font or file from elsewhere.

Each function returns one ``<svg>`` element sized in CSS pixels with a ``viewBox``, so it scales
with the page and prints sharply; labels are escaped text.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#1f5f8b", "#e07b39", "#5b9a45", "#8c5aa8", "#b8423b", "#6b6b6b", "#c9a227")
INK, GRID, MUTED = "#222", "#d9d9d9", "#777"


def _fmt(value: float) -> str:
    """A French number for a label: thin spaces between thousands, no decimals."""
    return f"{value:,.0f}".replace(",", "\u202f")


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(
    x: float, y: float, text: str, anchor: str = "start", size: int = 11, fill: str = INK
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(text)}</text>'
    )


def hbars(
    labels: Sequence[str], values: Sequence[float], title: str, unit: str, width: int = 680
) -> str:
    """Horizontal bars, one per label, largest scale at the right; values ≥ 0."""
    row, left, right = 22, 220, 90
    height = row * len(labels) + 30
    top = max(values, default=0.0) or 1.0
    span = width - left - right
    body = [f'<line x1="{left}" y1="8" x2="{left}" y2="{height - 18}" stroke="{MUTED}"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 10 + i * row
        w = max(0.0, value) / top * span
        body.append(_text(left - 6, y + 14, label[:34], "end"))
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{PALETTE[0]}"/>'
        )
        body.append(_text(left + w + 4, y + 14, f"{_fmt(value)} {unit}", size=10, fill=MUTED))
    return _svg(width, height, body, title)


def grouped_months(
    series: Sequence[tuple[str, Sequence[float | None]]],
    title: str,
    unit: str,
    width: int = 680,
    height: int = 220,
) -> str:
    """Bars per month (12 slots), one colour per series, with a legend."""
    left, bottom, top_margin = 60, 28, 24
    plot_h = height - bottom - top_margin
    values = [v for _, vs in series for v in vs if v is not None]
    top = max(values, default=0.0) or 1.0
    slot = (width - left - 10) / 12
    bar = slot * 0.8 / max(len(series), 1)
    body: list[str] = []
    for k in range(5):
        y = top_margin + plot_h * (1 - k / 4)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 4, y + 4, _fmt(top * k / 4), "end", 9, MUTED))
    months = "JFMAMJJASOND"
    for m in range(12):
        x0 = left + m * slot + slot * 0.1
        body.append(_text(x0 + slot * 0.4, height - 10, months[m], "middle", 10, MUTED))
        for s, (_, vs) in enumerate(series):
            v = vs[m] if m < len(vs) else None
            if v is None:
                continue
            h = max(0.0, v) / top * plot_h
            body.append(
                f'<rect x="{x0 + s * bar:.1f}" y="{top_margin + plot_h - h:.1f}" '
                f'width="{bar * 0.95:.1f}" height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}"/>'
            )
    for s, (name, _) in enumerate(series):
        x = left + s * 150
        body.append(
            f'<rect x="{x}" y="6" width="10" height="10" fill="{PALETTE[s % len(PALETTE)]}"/>'
        )
        body.append(_text(x + 14, 15, name, size=10))
    body.append(_text(4, 15, unit, size=10, fill=MUTED))
    return _svg(width, height, body, title)


def changes(
    labels: Sequence[str],
    values: Sequence[float | None],
    target: float,
    title: str,
    width: int = 680,
) -> str:
    """Changes in %, one bar per label from a zero line, with the target as a dashed line."""
    row, left, right = 22, 220, 60
    height = row * len(labels) + 34
    known = [abs(v) for v in values if v is not None] + [abs(target)]
    scale = max(known) * 1.15 or 1.0
    span = (width - left - right) / 2
    zero = left + span
    body = [f'<line x1="{zero}" y1="8" x2="{zero}" y2="{height - 22}" stroke="{MUTED}"/>']
    tx = zero + target / scale * span
    body.append(
        f'<line x1="{tx:.1f}" y1="8" x2="{tx:.1f}" y2="{height - 22}" stroke="{PALETTE[4]}" '
        'stroke-dasharray="4 3"/>'
    )
    body.append(_text(tx, height - 8, f"objectif {target * 100:+.0f} %", "middle", 10, PALETTE[4]))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 10 + i * row
        body.append(_text(left - 6, y + 14, label[:34], "end"))
        if value is None:
            body.append(_text(zero + 4, y + 14, "non comparable", size=10, fill=MUTED))
            continue
        x = zero + value / scale * span
        colour = PALETTE[2] if value <= target else PALETTE[1]
        body.append(
            f'<rect x="{min(x, zero):.1f}" y="{y + 3}" width="{abs(x - zero):.1f}" '
            f'height="{row - 8}" fill="{colour}"/>'
        )
        anchor = "end" if value < 0 else "start"
        label_x = x - 4 if value < 0 else x + 4
        body.append(_text(label_x, y + 14, f"{value * 100:+.1f} %", anchor, 10, MUTED))
    return _svg(width, height, body, title)
