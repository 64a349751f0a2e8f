"""Charts per second, beside the raw pyswisseph rate for the same work, in one process.

A "full chart" is compute_chart() with the default settings: nine grahas, lagna, whole-sign
houses, D9 of everything, Vimshottari to antardasha (9 + 81 periods). "Raw" is what the
ephemeris alone costs for the same instants: swe.calc_ut for Sun..Saturn and the node (Ketu is
arithmetic) plus one swe.houses_ex, with the sidereal mode set once. Prints figures; asserts
nothing.

    cd /work/wt-astro && /work/main/.venv/bin/python bench/astro_chart_rate.py [seconds]
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

# import the checkout this file lives in, not whatever copy is installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import swisseph as swe

from domain.astrology import BirthData, ChartSettings, compute_chart, resolve_birth

ZONES = [
    (28.6139, 77.2090, "Asia/Kolkata"),
    (19.0760, 72.8777, "Asia/Kolkata"),
    (51.5074, -0.1278, "Europe/London"),
    (40.7128, -74.0060, "America/New_York"),
    (-33.8688, 151.2093, "Australia/Sydney"),
]


def births(n: int) -> list[BirthData]:
    rng = random.Random(42)
    out = []
    for _ in range(n):
        lat, lon, zone = rng.choice(ZONES)
        day = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 80))
        # avoid 00:00-03:59 so that no sample falls in a DST gap or overlap
        t = dt.time(rng.randrange(4, 24), rng.randrange(60))
        out.append(BirthData(date=day, time=t, latitude=lat, longitude=lon, timezone=zone))
    return out


def rate(fn: Callable[[int], None], n: int, seconds: float) -> float:
    """Calls fn(i) for i cycling over n inputs for about ``seconds``; best of 3 runs."""
    best = 0.0
    for _ in range(3):
        count = 0
        start = time.perf_counter()
        deadline = start + seconds / 3
        while True:
            for i in range(n):
                fn(i)
            count += n
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, count / (now - start))
    return best


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
    data = births(500)
    resolved = [resolve_birth(b) for b in data]
    jds = [r.jd_ut for r in resolved]
    settings = ChartSettings()  # Lahiri, mean node, dasha to antardasha
    ids = [swe.SUN, swe.MOON, swe.MARS, swe.MERCURY, swe.JUPITER, swe.VENUS, swe.SATURN]
    ids.append(swe.MEAN_NODE)
    flags = swe.FLG_MOSEPH | swe.FLG_SPEED | swe.FLG_SIDEREAL
    hflags = swe.FLG_MOSEPH | swe.FLG_SIDEREAL

    def raw(i: int) -> None:
        jd = jds[i]
        for ipl in ids:
            swe.calc_ut(jd, ipl, flags)
        swe.houses_ex(jd, resolved[i].latitude, resolved[i].longitude, b"W", hflags)

    def chart_from_birth(i: int) -> None:
        c = compute_chart(data[i], settings)
        assert c.dasha is not None
        assert len(c.dasha.periods[0].sub_periods) == 9

    def chart_from_resolved(i: int) -> None:
        compute_chart(resolved[i], settings)

    def chart_and_json(i: int) -> None:
        compute_chart(resolved[i], settings).model_dump_json()

    swe.set_sid_mode(swe.SIDM_LAHIRI, 0, 0)
    raw_rate = rate(raw, len(jds), seconds)
    full = rate(chart_from_birth, len(data), seconds)
    resolved_rate = rate(chart_from_resolved, len(data), seconds)
    json_rate = rate(chart_and_json, len(data), seconds / 2)
    print(f"pyswisseph {swe.version}, Moshier ephemeris, Python {sys.version.split()[0]}")
    print(f"raw swe (8 calc_ut + houses_ex)           {raw_rate:10.0f} /s")
    print(
        f"full chart from BirthData (tz + chart)    {full:10.0f} /s   {full / raw_rate:6.1%} of raw"
    )
    print(
        f"full chart from ResolvedBirth             {resolved_rate:10.0f} /s   "
        f"{resolved_rate / raw_rate:6.1%} of raw"
    )
    print(f"full chart + model_dump_json (for info)   {json_rate:10.0f} /s")


if __name__ == "__main__":
    main()
