"""Charts per second, beside the raw pyswisseph rate for the same work, in one process.

A "full chart" is compute_chart() with the default settings: nine grahas, lagna, whole-sign
houses, D9 of everything, Vimshottari to antardasha (9 + 81 periods). "Raw" is what the
ephemeris alone costs for the same instants: swe.calc_ut for Sun..Saturn and the node (Ketu is
arithmetic) plus one swe.houses_ex, with the sidereal mode set once. Prints figures; asserts
nothing.

    .venv/bin/python bench/astro_chart_rate.py [seconds]
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
    """Calls fn(i), i cycling over n inputs, for about ``seconds``; returns calls per second."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for i in range(n):
            fn(i)
        count += n
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def best_rates(fns: dict[str, Callable[[int], None]], n: int, seconds: float) -> dict[str, float]:
    """Best rate of each function over several short rounds run in turn, so that a burst of
    load from other processes hits every measurement alike instead of skewing one ratio."""
    rounds = 6
    best = dict.fromkeys(fns, 0.0)
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = max(best[name], rate(fn, n, seconds / rounds / len(fns)))
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

    for i in range(50):  # warm caches (zones, dasha plans)
        chart_from_birth(i)
    swe.set_sid_mode(swe.SIDM_LAHIRI, 0, 0)  # the charts (same settings) leave it so too
    rates = best_rates(
        {
            "raw": raw,
            "birth": chart_from_birth,
            "resolved": chart_from_resolved,
            "json": chart_and_json,
        },
        len(data),
        seconds,
    )
    raw_rate = rates["raw"]
    print(f"pyswisseph {swe.version}, Moshier ephemeris, Python {sys.version.split()[0]}")
    print(f"raw swe (8 calc_ut + houses_ex)           {raw_rate:10.0f} /s")
    for key, label in (
        ("birth", "full chart from BirthData (tz + chart)  "),
        ("resolved", "full chart from ResolvedBirth           "),
    ):
        print(f"{label}  {rates[key]:10.0f} /s   {rates[key] / raw_rate:6.1%} of raw")
    print(f"full chart + model_dump_json (for info)   {rates['json']:10.0f} /s")


if __name__ == "__main__":
    main()
