"""Inline SVG charts: drawn server-side so the dashboard ships no JavaScript and loads nothing from a CDN."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup


def line_chart_svg(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    y_label: str = "",
    width: int = 640,
    height: int = 220,
    y_format: str = "{:.0f}",
) -> Markup:
    """Return an accessible SVG line chart of `values` over `labels` (x axis), every text escaped."""
    if not values:
        return Markup("")
    pad_l, pad_r, pad_t, pad_b = 48, 24, 40, 36
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    top = max(values) or 1.0
    low = min(0.0, min(values))
    span = (top - low) or 1.0
    n = len(values)

    def x(i: int) -> float:
        return pad_l + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return pad_t + plot_h * (1 - (v - low) / span)

    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="{pad_l}" y="16" class="chart-title">{escape(title)}</text>',
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{pad_l + plot_w}" y2="{pad_t + plot_h}" class="axis"/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + plot_h}" class="axis"/>',
        f'<text x="{pad_l - 6}" y="{y(top) + 4:.1f}" text-anchor="end">{escape(y_format.format(top))}</text>',
        f'<text x="{pad_l - 6}" y="{y(low) + 4:.1f}" text-anchor="end">{escape(y_format.format(low))}</text>',
    ]
    if y_label:
        parts.append(f'<text x="{pad_l + 4}" y="{pad_t - 8}" class="muted">{escape(y_label)}</text>')
    # Label the first, last and a few evenly spaced points so long series stay readable.
    step = max(1, (n - 1) // 4) if n > 1 else 1
    for i in sorted({*range(0, n, step), n - 1}):
        # End labels anchor inwards so they are not clipped at the chart's edges.
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        parts.append(f'<text x="{x(i):.1f}" y="{height - 12}" text-anchor="{anchor}">{escape(str(labels[i]))}</text>')
    parts.append(f'<polyline points="{points}" class="line"/>')
    for i, v in enumerate(values):
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" class="dot">'
            f"<title>{escape(str(labels[i]))}: {escape(y_format.format(v))}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
