"""What a chart report shows, as plain data for a template (no HTML, no I/O).

`chart_report_context` gathers the birth details (with the UTC offset used and every warning),
the North and South Indian drawings of D1 and D9, the planet table, the Vimshottari timeline
(mahadashas, and the antardashas of the running one), the Lo Shu grid and the tenant's texts
for the result's content keys. `activities/documents/templates/chart_report.html` lays it out.

Dates and the time the report was made are shown in the reader's zone (``zone``, an IANA name:
the client's, else the consultancy's); the birth's universal time stays in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from domain.astrology.chart import VedicChart
from domain.astrology.dasha import DashaPeriod, RunningDasha
from domain.astrology.drawing import (
    chart_north_indian_svg,
    chart_south_indian_svg,
)
from domain.astrology.zodiac import format_dms
from domain.notification_templates import zone_abbreviation
from domain.numerology.loshu import LO_SHU, LoShuGrid

#: Headings of the texts shown, by the first part of their content key, in this order.
TEXT_SECTIONS: tuple[tuple[str, str], ...] = (
    ("lagna", "Lagna"),
    ("moon_sign", "Moon sign"),
    ("nakshatra", "Nakshatra"),
    ("mahadasha", "Mahadasha"),
    ("antardasha", "Antardasha"),
    ("driver", "Driver (mulank)"),
    ("conductor", "Conductor (bhagyank)"),
    ("kua", "Kua number"),
)


def local_date(value: dt.datetime, zone: ZoneInfo) -> str:
    """The day an instant falls on in ``zone``: `08 Dec 2026`."""
    return value.astimezone(zone).strftime("%d %b %Y")


def local_time(value: dt.datetime, zone: ZoneInfo) -> str:
    """An instant on ``zone``'s clock: `22 Nov 2026 10:57 IST`."""
    local = value.astimezone(zone)
    return f"{local:%d %b %Y %H:%M} {zone_abbreviation(local)}"


def period_row(p: DashaPeriod, at: dt.datetime, zone: ZoneInfo) -> dict[str, Any]:
    """A dasha period as the report lists it: dates in ``zone``, running and past at ``at``."""
    return {
        "lord": p.lord.value.title(),
        "start": local_date(p.start, zone),
        "end": local_date(p.end, zone),
        "years": p.years,
        "running": p.start <= at < p.end,
        "past": p.end <= at,
    }


def _timeline_bar(periods: Sequence[DashaPeriod], at: dt.datetime) -> list[dict[str, Any]]:
    """Each mahadasha's share of the 120 years (percent), for a proportional bar."""
    if not periods:
        return []
    start, end = periods[0].start, periods[-1].end
    total = (end - start).total_seconds()
    return [
        {
            "lord": p.lord.value.title(),
            "width": 100.0 * (p.end - p.start).total_seconds() / total,
            "running": p.start <= at < p.end,
        }
        for p in periods
    ]


def chart_report_context(
    chart: VedicChart,
    *,
    name: str,
    label: str | None,
    at: dt.datetime,
    running: RunningDasha | None,
    grid: LoShuGrid | None,
    texts: Mapping[str, str],
    consultancy: str,
    zone: str,
) -> dict[str, Any]:
    """Everything the report shows; ``zone`` (IANA) is the reader's, for dates and ``at``."""
    tz = ZoneInfo(zone)
    b = chart.birth
    place = b.place.label if b.place else None
    planets = []
    if chart.lagna is not None:
        lg = chart.lagna
        planets.append({
            "name": "Ascendant (Lagna)", "longitude": format_dms(lg.longitude),
            "sign": lg.sign.name, "sign_english": lg.sign.english, "degree": format_dms(lg.degree_in_sign),
            "nakshatra": f"{lg.nakshatra.name} {lg.pada}", "retrograde": "", "d9": lg.navamsa_sign.name,
            "house": 1, "approximate": False,
        })
    for p in chart.bodies:
        planets.append({
            "name": p.body.value.title(), "longitude": format_dms(p.longitude),
            "sign": p.sign.name, "sign_english": p.sign.english, "degree": format_dms(p.degree_in_sign),
            "nakshatra": f"{p.nakshatra.name} {p.pada}", "retrograde": "R" if p.retrograde else "",
            "d9": p.navamsa_sign.name, "house": p.house or "", "approximate": p.approximate,
        })
    dasha = chart.dasha
    mahadashas = [period_row(p, at, tz) for p in dasha.periods] if dasha else []
    running_maha = None
    antardashas: list[dict[str, Any]] = []
    if dasha and running is not None:
        running_maha = next((p for p in dasha.periods if p.lord == running.mahadasha.lord
                             and p.start == running.mahadasha.start), None)
        if running_maha is not None:
            antardashas = [period_row(p, at, tz) for p in running_maha.sub_periods]
    lo_shu = None
    if grid is not None:
        lo_shu = {
            "rows": [[{"number": n, "digits": str(n) * grid.counts[n]} for n in row] for row in LO_SHU],
            "driver": grid.driver, "conductor": grid.conductor, "kua": grid.kua,
            "missing": list(grid.missing),
            "complete_planes": [k.replace("_", " ") for k in grid.complete_planes],
            "empty_planes": [k.replace("_", " ") for k in grid.empty_planes],
        }
    sections = []
    for prefix, heading in TEXT_SECTIONS:
        for key, text in texts.items():
            if key.split(":", 1)[0] == prefix:
                sections.append({"heading": heading, "key": key, "text": text})
    return {
        "consultancy": consultancy,
        "name": name,
        "label": label,
        "generated": local_time(at, tz),
        "zone": zone,
        "birth": {
            "date": b.local_date.strftime("%d %B %Y"),
            "time": b.local_time.strftime("%H:%M:%S") if b.time_known else None,
            "place": place,
            "coordinates": f"{abs(b.latitude):.4f}° {'N' if b.latitude >= 0 else 'S'}, "
                           f"{abs(b.longitude):.4f}° {'E' if b.longitude >= 0 else 'W'}",
            "timezone": b.timezone,
            "utc_offset": b.utc_offset_text,
            "offset_source": b.offset_source.value.replace("_", " "),
            "offset_reason": b.offset_reason,
            "utc": b.utc.strftime("%d %b %Y %H:%M:%S UTC"),
        },
        "settings": {
            "ayanamsa": chart.settings.ayanamsa.value.title(),
            "ayanamsa_value": format_dms(chart.ayanamsa),
            "node": f"{chart.settings.node.value} node",
            "year_length": f"{chart.settings.year_length.value} ({dasha.year_days if dasha else 365.25} days)",
            "ephemeris": f"Swiss Ephemeris ({chart.ephemeris})",
        },
        "warnings": [w.message for w in chart.warnings],
        "summary": {
            "lagna": f"{chart.lagna.sign.name} ({chart.lagna.sign.english})" if chart.lagna else None,
            "moon_sign": f"{chart.moon_sign.name} ({chart.moon_sign.english})",
            "nakshatra": f"{chart.moon_nakshatra.name}, pada {chart.moon_pada}",
            "mahadasha": running.mahadasha.lord.value.title() if running else None,
            "antardasha": running.antardasha.lord.value.title() if running and running.antardasha else None,
        },
        "time_known": b.time_known,
        "drawings": {
            "north_d1": chart_north_indian_svg(chart, "d1", size=300),
            "south_d1": chart_south_indian_svg(chart, "d1", size=300),
            "north_d9": chart_north_indian_svg(chart, "d9", size=300),
            "south_d9": chart_south_indian_svg(chart, "d9", size=300),
        },
        "planets": planets,
        "mahadashas": mahadashas,
        "timeline": _timeline_bar(dasha.periods, at) if dasha else [],
        "running_maha": running_maha.lord.value.title() if running_maha else None,
        "antardashas": antardashas,
        "dasha_approximate": bool(dasha and dasha.approximate),
        "balance": f"{dasha.starting_lord.value.title()} {dasha.balance_years:.2f} years" if dasha else None,
        "lo_shu": lo_shu,
        "texts": sections,
    }
