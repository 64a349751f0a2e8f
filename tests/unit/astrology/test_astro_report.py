"""The chart report's context: all four drawings with every graha, dates on the reader's clock."""

import datetime as dt
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest

from domain.astrology.birth_time import BirthData
from domain.astrology.chart import compute_chart
from domain.astrology.dasha import DashaPeriod
from domain.astrology.drawing import placements
from domain.astrology.report import chart_report_context, period_row
from domain.astrology.zodiac import Body
from domain.numerology import lo_shu_grid

NS = {"svg": "http://www.w3.org/2000/svg"}
DELHI = {"latitude": 28.6139, "longitude": 77.2090, "timezone": "Asia/Kolkata"}
AT = dt.datetime(2026, 6, 1, 21, 0, tzinfo=dt.UTC)  # 02:30 on 2 June in India


def _context(zone: str, **birth: object):
    chart = compute_chart(BirthData(**{"date": dt.date(1990, 5, 17), "time": dt.time(14, 25), **DELHI, **birth}))
    running = chart.dasha.running(AT, depth=2)
    return chart, chart_report_context(chart, name="Asha Verma", label="Self", at=AT, running=running,
                                       grid=lo_shu_grid(dt.date(1990, 5, 17), gender="female"), texts={},
                                       consultancy="Jyotish", zone=zone)


def _labels(svg: str) -> dict[str, str]:
    """data-key -> the text drawn for it (without its tooltip)."""
    out = {}
    for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text"):
        if t.get("data-key"):
            title = t.find("svg:title", NS)
            tooltip = "".join(title.itertext()) if title is not None else ""
            out[t.get("data-key")] = "".join(t.itertext()).removeprefix(tooltip)
    return out


@pytest.mark.parametrize("birth", [{}, {"time": None}], ids=["time known", "time unknown"])
def test_all_four_drawings_show_every_graha(birth):
    chart, context = _context("UTC", **birth)
    drawings = context["drawings"]
    assert set(drawings) == {"north_d1", "south_d1", "north_d9", "south_d9"}
    for name, svg in drawings.items():
        varga = name.split("_")[1]
        expected = {p.key: p.label for p in placements(chart, varga)}
        assert len(expected) == 9 + (chart.lagna is not None)
        assert _labels(svg) == expected, name
    assert any(label.startswith("Su ") and label.endswith("°") for label in _labels(drawings["north_d1"]).values())


def test_a_period_is_dated_on_the_readers_clock():
    period = DashaPeriod(lord=Body.JUPITER, level=1, start=dt.datetime(2013, 6, 4, 19, 0, tzinfo=dt.UTC),
                         end=dt.datetime(2026, 12, 7, 20, 0, tzinfo=dt.UTC), years=16.0)
    india = period_row(period, AT, ZoneInfo("Asia/Kolkata"))
    utc = period_row(period, AT, ZoneInfo("UTC"))
    assert (india["start"], india["end"]) == ("05 Jun 2013", "08 Dec 2026")
    assert (utc["start"], utc["end"]) == ("04 Jun 2013", "07 Dec 2026")
    assert india["running"] and utc["running"] and not india["past"]


def test_report_dates_and_generated_time_follow_the_zone():
    chart, india = _context("Asia/Kolkata")
    _, utc = _context("UTC")
    assert india["zone"] == "Asia/Kolkata" and utc["zone"] == "UTC"
    assert india["generated"] == "02 Jun 2026 02:30 IST" and utc["generated"] == "01 Jun 2026 21:00 UTC"
    for rows, zone in ((india["mahadashas"], "Asia/Kolkata"), (utc["mahadashas"], "UTC")):
        assert [r["start"] for r in rows] == [p.start.astimezone(ZoneInfo(zone)).strftime("%d %b %Y")
                                              for p in chart.dasha.periods]
    maha = chart.dasha.running(AT, depth=1).mahadasha
    running = next(p for p in chart.dasha.periods if p.start == maha.start)
    assert [r["end"] for r in india["antardashas"]] == [p.end.astimezone(ZoneInfo("Asia/Kolkata")).strftime(
        "%d %b %Y") for p in running.sub_periods]
    # The birth's universal time is UTC whatever the reader's zone.
    assert india["birth"]["utc"] == utc["birth"]["utc"] == "17 May 1990 08:55:00 UTC"
