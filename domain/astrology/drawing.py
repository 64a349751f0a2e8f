"""Chart drawings as SVG text: North Indian (diamond) and South Indian (fixed-sign grid).

Pure functions: a chart (or any list of placements) in, an SVG document out, no fonts or files
read. Every house or sign cell is a ``<g>`` carrying ``data-house`` and ``data-sign`` (1-12),
and every graha is a ``<text class="body" data-key="sun">`` inside the cell it belongs to, so
tests (and a frontend) can check placements without rendering.

* **North Indian**: houses are fixed — house 1 is the top diamond and the houses run
  anticlockwise — and each house shows the number of the sign in it (1 = Mesha). House 1 is
  the lagna's sign; without a birth time the Moon's sign is used (Chandra lagna) and the
  caption says so.
* **South Indian**: signs are fixed — Meena top left, Mesha next to it, clockwise — and the
  lagna's cell is marked with a diagonal stroke and "Asc".

Labels: two-letter graha abbreviations (Su Mo Ma Me Ju Ve Sa Ra Ke) with the whole degree in
the sign for D1, a ``℞`` after a retrograde graha (not after Rahu and Ketu, which are always
retrograde with the mean node), and a ``~`` before a position that may change within an
unknown birth time's day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal
from xml.sax.saxutils import escape, quoteattr

from domain.astrology.chart import VedicChart
from domain.astrology.zodiac import SIGNS, Body

ABBREVIATIONS: Final[dict[Body, str]] = {
    Body.SUN: "Su",
    Body.MOON: "Mo",
    Body.MARS: "Ma",
    Body.MERCURY: "Me",
    Body.JUPITER: "Ju",
    Body.VENUS: "Ve",
    Body.SATURN: "Sa",
    Body.RAHU: "Ra",
    Body.KETU: "Ke",
}
RETROGRADE_MARK: Final = "℞"
APPROXIMATE_MARK: Final = "~"
FONT_FAMILY: Final = "'DejaVu Sans', 'Noto Sans', 'Noto Sans Devanagari', sans-serif"
#: Average advance of a character as a fraction of the font size (DejaVu Sans is ~0.6 em).
CHAR_WIDTH: Final = 0.62

Varga = Literal["d1", "d9"]
Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x, y, width, height


@dataclass(frozen=True)
class Placement:
    """One thing drawn in a cell: a graha (``key`` = body value) or the ascendant (``asc``)."""

    key: str
    label: str
    sign_index: int
    title: str


@dataclass(frozen=True)
class PlacedLabel:
    key: str
    text: str
    x: float
    y: float  # baseline
    size: float

    @property
    def box(self) -> Box:
        """Estimated extent of the text (anchor middle)."""
        width = len(self.text) * self.size * CHAR_WIDTH
        return (self.x - width / 2, self.y - self.size * 0.8, width, self.size)


def placements(chart: VedicChart, varga: Varga = "d1") -> list[Placement]:
    """The ascendant (when the time is known) and the nine grahas, placed by D1 or D9 sign."""
    out: list[Placement] = []
    if chart.lagna is not None:
        sign = chart.lagna.sign if varga == "d1" else chart.lagna.navamsa_sign
        label = f"Asc {int(chart.lagna.degree_in_sign)}°" if varga == "d1" else "Asc"
        out.append(Placement("asc", label, sign.index, f"Ascendant (lagna) in {sign.name}"))
    for p in chart.bodies:
        sign = p.sign if varga == "d1" else p.navamsa_sign
        label = ABBREVIATIONS[p.body]
        if varga == "d1":
            label += f" {int(p.degree_in_sign)}°"
        if p.retrograde and p.body not in (Body.RAHU, Body.KETU):
            label += RETROGRADE_MARK
        if p.approximate:
            label = APPROXIMATE_MARK + label
        title = f"{p.body.value.title()} in {sign.name}" + (" (retrograde)" if p.retrograde else "")
        out.append(Placement(p.body.value, label, sign.index, title))
    return out


# --- layout -------------------------------------------------------------------------------


def layout_labels(texts: Sequence[tuple[str, str]], box: Box) -> list[PlacedLabel]:
    """Place ``(key, text)`` labels in ``box``: the largest font, then the fewest columns, that
    fit; the smallest font in three columns if nothing fits."""
    if not texts:
        return []
    x, y, w, h = box
    n = len(texts)
    longest = max(len(t) for _, t in texts)
    choice = (6.0, 3)
    for size in (11.0, 10.0, 9.0, 8.0, 7.0, 6.0):
        fit = next(
            (
                cols
                for cols in (1, 2, 3)
                if math.ceil(n / cols) * size * 1.25 <= h and longest * size * CHAR_WIDTH <= w / cols
            ),
            None,
        )
        if fit is not None:
            choice = (size, fit)
            break
    size, cols = choice
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    line = size * 1.25
    top = y + (h - rows * line) / 2 + size * 0.9
    col_w = w / cols
    return [
        PlacedLabel(key, text, x + col_w * (i % cols + 0.5), top + line * (i // cols), size)
        for i, (key, text) in enumerate(texts)
    ]


def _text(label: PlacedLabel, title: str, cls: str = "body") -> str:
    return (
        f'<text class="{cls}" data-key={quoteattr(label.key)} x="{label.x:.1f}" y="{label.y:.1f}" '
        f'font-size="{label.size:g}" text-anchor="middle"><title>{escape(title)}</title>'
        f"{escape(label.text)}</text>"
    )


def _points(poly: Iterable[Point]) -> str:
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in poly)


def _svg(size: float, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size:g} {size:g}" '
        f'width="{size:g}" height="{size:g}" font-family="{FONT_FAMILY}" role="img" '
        f"aria-label={quoteattr(label)}>"
        f'<rect x="0" y="0" width="{size:g}" height="{size:g}" fill="#fffdf7" stroke="none"/>'
        + "".join(body)
        + "</svg>"
    )


# --- North Indian -------------------------------------------------------------------------


def north_indian_geometry(size: float) -> dict[int, tuple[tuple[Point, ...], Box, Point]]:
    """House number -> (polygon, label box, sign-number position) on a ``size`` square."""
    u = size / 4
    tl, tr, br, bl = (0.0, 0.0), (4 * u, 0.0), (4 * u, 4 * u), (0.0, 4 * u)
    t, r, b, left = (2 * u, 0.0), (4 * u, 2 * u), (2 * u, 4 * u), (0.0, 2 * u)
    c = (2 * u, 2 * u)
    ptl, ptr, pbr, pbl = (u, u), (3 * u, u), (3 * u, 3 * u), (u, 3 * u)
    m = 0.06 * u  # margin inside the cell
    polygons: dict[int, tuple[Point, ...]] = {
        1: (t, ptr, c, ptl),
        2: (tl, t, ptl),
        3: (tl, ptl, left),
        4: (left, ptl, c, pbl),
        5: (left, pbl, bl),
        6: (bl, pbl, b),
        7: (b, pbl, c, pbr),
        8: (b, pbr, br),
        9: (br, pbr, r),
        10: (r, pbr, c, ptr),
        11: (r, ptr, tr),
        12: (tr, ptr, t),
    }
    inner = {1: c, 4: c, 7: c, 10: c, 2: ptl, 3: ptl, 5: pbl, 6: pbl, 8: pbr, 9: pbr, 11: ptr, 12: ptr}
    boxes: dict[int, Box] = {}
    for house, poly in polygons.items():
        cx = sum(p[0] for p in poly) / len(poly)
        cy = sum(p[1] for p in poly) / len(poly)
        if len(poly) == 4:  # a diamond: the inscribed square, shrunk
            half = u / 2 - m
            boxes[house] = (cx - half, cy - half, 2 * half, 2 * half)
        # a triangle beside the top or bottom edge: a box 0.4 u deep and 1.2 u wide, shrunk
        elif house in (2, 12):  # base on the top edge
            boxes[house] = (inner[house][0] - 0.6 * u + m, m, 1.2 * u - 2 * m, 0.4 * u - m)
        elif house in (6, 8):  # base on the bottom edge
            boxes[house] = (inner[house][0] - 0.6 * u + m, 3.6 * u, 1.2 * u - 2 * m, 0.4 * u - m)
        # labels stack downwards, so beside a side edge the box is deeper: 0.55 u by 0.9 u
        elif house in (3, 5):  # base on the left edge
            boxes[house] = (m, inner[house][1] - 0.45 * u + m, 0.55 * u - m, 0.9 * u - 2 * m)
        else:  # 9, 11: base on the right edge
            boxes[house] = (3.45 * u, inner[house][1] - 0.45 * u + m, 0.55 * u - m, 0.9 * u - 2 * m)
    geometry = {}
    for house, poly in polygons.items():
        cx = sum(p[0] for p in poly) / len(poly)
        cy = sum(p[1] for p in poly) / len(poly)
        ix, iy = inner[house]
        k = 0.3 if len(poly) == 4 else 0.28
        geometry[house] = (poly, boxes[house], (ix + k * (cx - ix), iy + k * (cy - iy)))
    return geometry


def north_indian_svg(
    items: Sequence[Placement], first_sign: int, *, size: float = 320.0, caption: str = ""
) -> str:
    """House 1 holds sign ``first_sign`` (0 = Mesha); each placement goes to the house of its sign."""
    geometry = north_indian_geometry(size)
    body: list[str] = []
    for house in range(1, 13):
        poly, box, (nx, ny) = geometry[house]
        sign = (first_sign + house - 1) % 12
        here = [p for p in items if p.sign_index == sign]
        titles = {p.key: p.title for p in here}
        labels = layout_labels([(p.key, p.label) for p in here], box)
        body.append(
            f'<g class="house" data-house="{house}" data-sign="{sign + 1}">'
            f'<polygon points="{_points(poly)}" fill="none" stroke="#7a4b1c" stroke-width="1.2"/>'
            f'<text class="sign-number" x="{nx:.1f}" y="{ny + 3.5:.1f}" font-size="10" '
            f'text-anchor="middle" fill="#9a6a3a"><title>{escape(SIGNS[sign].name)}</title>'
            f"{sign + 1}</text>"
            + "".join(_text(lab, titles[lab.key]) for lab in labels)
            + "</g>"
        )
    body.append(
        f'<rect x="0.6" y="0.6" width="{size - 1.2:g}" height="{size - 1.2:g}" fill="none" '
        'stroke="#7a4b1c" stroke-width="1.2"/>'
    )
    return _svg(size, body, caption or "North Indian chart")


# --- South Indian -------------------------------------------------------------------------

#: (row, column) of each sign in the 4 x 4 grid, Mesha (0) to Meena (11).
SOUTH_CELLS: Final[tuple[tuple[int, int], ...]] = (
    (0, 1), (0, 2), (0, 3), (1, 3), (2, 3), (3, 3), (3, 2), (3, 1), (3, 0), (2, 0), (1, 0), (0, 0),
)


def south_indian_geometry(size: float) -> dict[int, tuple[Box, Box]]:
    """Sign index -> (cell rectangle, label box)."""
    c = size / 4
    out = {}
    for sign, (row, col) in enumerate(SOUTH_CELLS):
        x, y = col * c, row * c
        out[sign] = ((x, y, c, c), (x + 0.05 * c, y + 0.26 * c, 0.9 * c, 0.7 * c))
    return out


def south_indian_svg(
    items: Sequence[Placement],
    lagna_sign: int | None,
    *,
    size: float = 320.0,
    caption: str = "",
    center_lines: Sequence[str] = (),
) -> str:
    """Signs in fixed cells; ``lagna_sign`` (0 = Mesha) gets the diagonal mark."""
    c = size / 4
    body: list[str] = []
    for sign, ((x, y, w, h), box) in south_indian_geometry(size).items():
        here = [p for p in items if p.sign_index == sign]
        titles = {p.key: p.title for p in here}
        labels = layout_labels([(p.key, p.label) for p in here], box)
        house = "" if lagna_sign is None else str((sign - lagna_sign) % 12 + 1)
        mark = (
            f'<line class="lagna-mark" x1="{x:.1f}" y1="{y + 0.32 * c:.1f}" x2="{x + 0.32 * c:.1f}" '
            f'y2="{y:.1f}" stroke="#b3541e" stroke-width="1.4"/>'
            if sign == lagna_sign
            else ""
        )
        body.append(
            f'<g class="sign" data-sign="{sign + 1}" data-house="{house}">'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" '
            'stroke="#7a4b1c" stroke-width="1.2"/>'
            f"{mark}"
            f'<text class="sign-name" x="{x + w - 4:.1f}" y="{y + 11:.1f}" font-size="8.5" '
            f'text-anchor="end" fill="#9a6a3a">{escape(SIGNS[sign].name)}</text>'
            + "".join(_text(lab, titles[lab.key]) for lab in labels)
            + "</g>"
        )
    lines = [caption, *center_lines] if caption else list(center_lines)
    if lines:
        top = 2 * c - (len(lines) - 1) * 8
        body.append(
            '<g class="centre">'
            + "".join(
                f'<text x="{2 * c:.1f}" y="{top + i * 16:.1f}" font-size="{12 if i == 0 else 9}" '
                f'text-anchor="middle" fill="#5a3a1a">{escape(line)}</text>'
                for i, line in enumerate(lines)
            )
            + "</g>"
        )
    return _svg(size, body, caption or "South Indian chart")


# --- from a chart ---------------------------------------------------------------------------


def chart_north_indian_svg(chart: VedicChart, varga: Varga = "d1", *, size: float = 320.0) -> str:
    """House 1 = the lagna's sign (D1) or the D9 lagna; the Moon's sign when the time is unknown."""
    items = placements(chart, varga)
    name = "Rasi (D1)" if varga == "d1" else "Navamsa (D9)"
    if chart.lagna is not None:
        first = chart.lagna.sign if varga == "d1" else chart.lagna.navamsa_sign
        return north_indian_svg(items, first.index, size=size, caption=f"{name}, North Indian")
    moon = chart.body(Body.MOON)
    first = moon.sign if varga == "d1" else moon.navamsa_sign
    return north_indian_svg(
        items, first.index, size=size, caption=f"{name}, North Indian, from the Moon (time unknown)"
    )


def chart_south_indian_svg(chart: VedicChart, varga: Varga = "d1", *, size: float = 320.0) -> str:
    items = placements(chart, varga)
    lagna = None
    if chart.lagna is not None:
        lagna = (chart.lagna.sign if varga == "d1" else chart.lagna.navamsa_sign).index
    name = "Rasi" if varga == "d1" else "Navamsa"
    return south_indian_svg(
        items, lagna, size=size, caption=name, center_lines=["D1" if varga == "d1" else "D9"]
    )
