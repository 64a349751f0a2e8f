"""Slow-planet ingresses against direct Swiss Ephemeris calls and published transit dates."""

import datetime as dt

import pytest
import swisseph as swe

from domain.astrology.birth_time import julian_day_ut
from domain.astrology.ephemeris import SWE_LOCK
from domain.astrology.errors import EngineInputError
from domain.astrology.transits import (
    datetime_from_jd,
    house_from,
    sign_ingresses,
    transit_outlook,
)
from domain.astrology.zodiac import SIGNS, Body

FLAGS = swe.FLG_MOSEPH | swe.FLG_SIDEREAL
SIDM = {"lahiri": swe.SIDM_LAHIRI, "raman": swe.SIDM_RAMAN, "krishnamurti": swe.SIDM_KRISHNAMURTI}
IPL = {Body.SATURN: swe.SATURN, Body.JUPITER: swe.JUPITER, Body.RAHU: swe.MEAN_NODE}
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def direct_sign(jd, body, aya="lahiri"):
    """The sign a careful programmer gets from pyswisseph by hand."""
    with SWE_LOCK:
        swe.set_sid_mode(SIDM[aya], 0, 0)
        lon = swe.calc_ut(jd, IPL[Body.RAHU if body == Body.KETU else body], FLAGS)[0][0]
    if body == Body.KETU:
        lon = (lon + 180.0) % 360.0
    return int(lon // 30)


@pytest.mark.parametrize("aya", ["lahiri", "raman", "krishnamurti"])
@pytest.mark.parametrize("body", [Body.SATURN, Body.JUPITER, Body.RAHU, Body.KETU])
def test_each_ingress_is_a_sign_change_seen_by_direct_calls(body, aya):
    found = sign_ingresses(body, utc(2015, 1, 1), utc(2035, 1, 1), ayanamsa=aya)
    assert found
    second = 1 / 86400
    for ing in found:
        assert direct_sign(ing.jd_ut - 1.5 * second, body, aya) == ing.from_sign.index
        assert direct_sign(ing.jd_ut + 1.5 * second, body, aya) == ing.to_sign.index
        assert abs((ing.at - datetime_from_jd(ing.jd_ut)).total_seconds()) < 1e-3


@pytest.mark.parametrize("body", [Body.SATURN, Body.JUPITER, Body.RAHU])
def test_no_ingress_is_missed_against_an_hourly_direct_scan(body):
    start, end = utc(2019, 1, 1), utc(2029, 1, 1)
    found = sign_ingresses(body, start, end)
    jd, jd_end = julian_day_ut(start), julian_day_ut(end)
    changes = []
    prev = direct_sign(jd, body)
    while jd < jd_end:
        jd += 1 / 24
        now = direct_sign(jd, body)
        if now != prev:
            changes.append(jd)
        prev = now
    assert len(changes) == len(found)
    for jd_change, ing in zip(changes, found, strict=True):
        assert 0 <= jd_change - ing.jd_ut < 1 / 24 + 1e-9


def test_published_transit_dates_lahiri():
    """Dates as printed by Indian almanacs (e.g. Drik Panchang, IST): Saturn into Meena on
    29 March 2025 in the evening, Jupiter into Vrishabha on 1 May 2024 and into Mithuna on
    14 May 2025, Rahu (mean) into Kumbha on 18 May 2025."""
    saturn = sign_ingresses(Body.SATURN, utc(2025, 1, 1), utc(2025, 12, 31))
    assert [(i.at.astimezone(IST).date(), i.to_sign.name) for i in saturn] == [
        (dt.date(2025, 3, 29), "Meena")]
    assert 20 <= saturn[0].at.astimezone(IST).hour <= 22
    jupiter = sign_ingresses(Body.JUPITER, utc(2024, 1, 1), utc(2025, 6, 1))
    assert [(i.at.astimezone(IST).date(), i.to_sign.name) for i in jupiter] == [
        (dt.date(2024, 5, 1), "Vrishabha"), (dt.date(2025, 5, 14), "Mithuna")]
    rahu = sign_ingresses(Body.RAHU, utc(2025, 1, 1), utc(2025, 12, 31))
    assert [(i.at.astimezone(IST).date(), i.to_sign.name, i.retrograde) for i in rahu] == [
        (dt.date(2025, 5, 18), "Kumbha", True)]
    ketu = sign_ingresses(Body.KETU, utc(2025, 1, 1), utc(2025, 12, 31))
    assert [i.to_sign.name for i in ketu] == ["Simha"] and ketu[0].at == rahu[0].at


def test_retrograde_re_entry_is_reported():
    jupiter = sign_ingresses(Body.JUPITER, utc(2025, 6, 1), utc(2026, 12, 31))
    assert [(i.to_sign.english, i.retrograde) for i in jupiter] == [
        ("Cancer", False), ("Gemini", True), ("Cancer", False), ("Leo", False)]


def test_outlook_counts_houses_from_the_moon():
    # Moon in Kumbha: Saturn entering Meena is the 2nd from the Moon (last phase of sade sati)
    out = transit_outlook(SIGNS[10], utc(2025, 1, 1), utc(2025, 12, 31), bodies=[Body.SATURN])
    saturn = out.body(Body.SATURN)
    assert saturn is not None and out.body(Body.JUPITER) is None
    assert saturn.sign.name == "Kumbha" and saturn.house_from_moon == 1
    assert house_from(saturn.ingresses[0].to_sign.index, 10) == 2
    assert house_from(10, 11) == 12 and house_from(0, 11) == 2


def test_bad_arguments_are_engine_errors():
    with pytest.raises(EngineInputError) as e:
        sign_ingresses(Body.MOON, utc(2025, 1, 1), utc(2025, 2, 1))
    assert e.value.field == "body"
    with pytest.raises(EngineInputError) as e:
        sign_ingresses(Body.SATURN, dt.datetime(2025, 1, 1), utc(2025, 2, 1))
    assert e.value.field == "start"
    with pytest.raises(EngineInputError) as e:
        sign_ingresses(Body.SATURN, utc(2025, 2, 1), utc(2025, 1, 1))
    assert e.value.field == "end"
    assert sign_ingresses(Body.SATURN, utc(2025, 1, 1), utc(2025, 1, 1)) == ()
