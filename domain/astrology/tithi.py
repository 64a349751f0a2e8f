"""Tithis: the lunar day in force at local sunrise, as panchangas give it (udaya tithi).

A tithi is each 12° the Moon gains on the Sun: (Moon - Sun) / 12° + 1, from 1 (Shukla Pratipada)
to 30 (Amavasya); 15 is Purnima, 11 and 26 the two Ekadashis. The difference of longitudes is the
same tropical or sidereal (the ayanamsa cancels). The day a tithi is observed is the local date
whose sunrise (the Sun's disc centre on the horizon, the Hindu rising) falls in it; a tithi that
begins after one sunrise and ends before the next (kshaya) names no day, and one in force at two
sunrises (vriddhi) names the first. Where the Sun does not rise (polar days), 06:00 local stands
in for sunrise.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import swisseph as swe

from domain.astrology.birth_time import julian_day_ut
from domain.astrology.ephemeris import EPHEMERIS_FLAG, SWE_LOCK, check_jd

TITHI_NUMBERS: dict[str, tuple[int, ...]] = {
    "ekadashi": (11, 26),
    "purnima": (15,),
    "amavasya": (30,),
    "chaturthi": (4, 19),
    "pradosh": (13, 28),
}
MAX_SPAN_DAYS = 3660


def tithi_at(instant: dt.datetime) -> int:
    """The tithi (1 to 30) in force at a UTC instant."""
    jd = julian_day_ut(instant.astimezone(dt.UTC))
    check_jd(jd)
    with SWE_LOCK:
        sun, _ = swe.calc_ut(jd, swe.SUN, EPHEMERIS_FLAG)
        moon, _ = swe.calc_ut(jd, swe.MOON, EPHEMERIS_FLAG)
    return int(((moon[0] - sun[0]) % 360.0) // 12.0) + 1


def sunrise(day: dt.date, latitude: float, longitude: float, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of the Sun's (Hindu) rising on a local date; 06:00 local where it does not rise."""
    local_midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    jd = julian_day_ut(local_midnight)
    check_jd(jd)
    with SWE_LOCK:
        res, tret = swe.rise_trans(jd, swe.SUN, swe.CALC_RISE | swe.BIT_HINDU_RISING,
                                   (longitude, latitude, 0.0), 0.0, 0.0, EPHEMERIS_FLAG)
    if res != 0 or tret[0] - jd > 1.0:
        return dt.datetime.combine(day, dt.time(6), tzinfo=zone).astimezone(dt.UTC)
    return local_midnight + dt.timedelta(days=tret[0] - jd)


def tithi_dates(names: list[str], start: dt.date, end: dt.date, *, latitude: float, longitude: float,
                timezone: str) -> list[dt.date]:
    """The local dates from `start` to `end` whose sunrise falls in one of the named tithis."""
    if (end - start).days > MAX_SPAN_DAYS:
        raise ValueError(f"at most {MAX_SPAN_DAYS} days of tithis at a time")
    wanted = {n for name in names for n in TITHI_NUMBERS[name]}
    zone = ZoneInfo(timezone)
    found: list[dt.date] = []
    day = start
    while day <= end:
        if tithi_at(sunrise(day, latitude, longitude, zone)) in wanted:
            found.append(day)
        day += dt.timedelta(days=1)
    return found
