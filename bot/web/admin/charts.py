"""Charts drawn on the server as inline SVG: no script, no CDN, readable on a slow line."""

from __future__ import annotations

from markupsafe import Markup, escape

GREEN, RED, GREY, INK = "#0b6e4f", "#b42318", "#dde3e1", "#1f2933"


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    """An accessible SVG element around drawn parts."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text part went through escape()


def share_bars(rows: list[tuple[str, int, int]], title: str, empty: str) -> Markup:
    """Horizontal bars: for each label, the share `part / whole` in red over a grey track."""
    if not rows:
        return _svg(
            360,
            40,
            [f'<text x="8" y="24" fill="{INK}" font-size="13">{escape(empty)}</text>'],
            title,
        )
    height, body = 26 * len(rows) + 8, []
    for i, (label, whole, part) in enumerate(rows):
        y = 6 + i * 26
        share = part / whole if whole else 0.0
        body.append(
            f'<text x="0" y="{y + 14}" fill="{INK}" font-size="12">{escape(label[:18])}</text>'
        )
        body.append(f'<rect x="130" y="{y + 2}" width="180" height="16" rx="3" fill="{GREY}"/>')
        body.append(
            f'<rect x="130" y="{y + 2}" width="{180 * share:.1f}" height="16" rx="3" fill="{RED}"/>'
        )
        body.append(f'<text x="316" y="{y + 14}" fill="{INK}" font-size="12">{share:.0%}</text>')
    return _svg(360, height, body, title)


def columns(
    rows: list[tuple[str, int | None]], title: str, empty: str, money: bool = False
) -> Markup:
    """Vertical columns per period, the value written above each (rupiah in `jt`/`rb` when money)."""
    values = [v for _, v in rows if v]
    if not values:
        return _svg(
            360,
            40,
            [f'<text x="8" y="24" fill="{INK}" font-size="13">{escape(empty)}</text>'],
            title,
        )
    top, width, body = max(values), 360 // max(1, len(rows)), []
    for i, (label, value) in enumerate(rows):
        x, h = i * width + 6, (120 * (value or 0) / top)
        body.append(
            f'<rect x="{x}" y="{140 - h:.1f}" width="{width - 12}" height="{h:.1f}" rx="2" fill="{GREEN}"/>'
        )
        shown = _short_money(value) if money else str(value or 0)
        body.append(
            f'<text x="{x}" y="{134 - h:.1f}" fill="{INK}" font-size="11">{escape(shown)}</text>'
        )
        body.append(f'<text x="{x}" y="156" fill="{INK}" font-size="11">{escape(label)}</text>')
    return _svg(360, 162, body, title)


def _short_money(value: int | None) -> str:
    """`1,5jt`, `750rb`: rupiah short enough to sit on a column."""
    if not value:
        return "–"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".").replace(".", ",") + "jt"
    return f"{value // 1000}rb"
