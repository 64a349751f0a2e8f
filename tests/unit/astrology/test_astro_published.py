"""Published charts of public figures, reproduced with the default settings (Lahiri, mean node).

Each test names the pages its expectations come from. Those pages were read while writing the
tests; figures not found in them are not asserted. Where sources disagree with each other or
with us, the docstring says so rather than hiding it.
"""

import datetime as dt

from domain.astrology.birth_time import BirthData, OffsetSource
from domain.astrology.chart import ChartSettings, compute_chart
from domain.astrology.zodiac import Body


def dms(d, m, s):
    return d + m / 60 + s / 3600


def test_indira_gandhi():
    """Indira Gandhi, 19 Nov 1917, 23:11 IST, Anand Bhawan, Allahabad (25°27'34"N 81°51'36"E).

    Birth data: vedicastrology.wikidot.com/indira-gandhi ("23:11 IST", coordinates of the birth
    room) and jyotshivirbhagat.com ("19/11/1917, 2311 Hours, Allahabad").
    Positions: jyotshivirbhagat.com/blog/former-prime-minister-indira-gandhis-chart-a-tough-life/
    lists ASC Cancer 27-20-56, Saturn Cancer 21-53-28, Mars Leo 16-23-06, Mercury Scorpio
    13-14-36, Sun Scorpio 04-07-59, Rahu Sagittarius 10-33-52, Venus Sagittarius 21-00-39,
    Moon Capricorn 05-35-20. We agree to within 1' except: the ascendant (2'07", i.e. about 30 s
    of birth time or the coordinates used) and Saturn, where the page's 21-53-28 is 6' from our
    21°47' — the only outlier, probably a different source ephemeris or a typo; not asserted.
    Houses from shakerastroguide.com/post/indra-gandhi-birth-chart-analysis: Saturn in the
    lagna, Jupiter retrograde in the 11th, Mars in the 2nd, Ketu in the 12th.
    """
    c = compute_chart(
        BirthData(
            date=dt.date(1917, 11, 19),
            time=dt.time(23, 11),
            latitude=dms(25, 27, 34),
            longitude=dms(81, 51, 36),
            timezone="Asia/Kolkata",
        )
    )
    # the tz database has India on IST (+05:30) in 1917, as the record's "IST" says
    assert c.birth.utc_offset_text == "+05:30"
    assert c.birth.offset_source is OffsetSource.TZ_DATABASE
    assert c.lagna is not None
    assert c.lagna.sign.english == "Cancer"
    assert abs(c.lagna.degree_in_sign - dms(27, 20, 56)) < 3 / 60
    assert c.moon_sign.name == "Makara"
    assert c.moon_nakshatra.name == "Uttara Ashadha"  # Capricorn 0°-10° is Uttara Ashadha
    published = {
        Body.MOON: ("Capricorn", dms(5, 35, 20)),
        Body.SUN: ("Scorpio", dms(4, 7, 59)),
        Body.MARS: ("Leo", dms(16, 23, 6)),
        Body.MERCURY: ("Scorpio", dms(13, 14, 36)),
        Body.VENUS: ("Sagittarius", dms(21, 0, 39)),
        Body.RAHU: ("Sagittarius", dms(10, 33, 52)),
    }
    for body, (sign, deg) in published.items():
        p = c.body(body)
        assert p.sign.english == sign, body
        assert abs(p.degree_in_sign - deg) < 1 / 60, body
    assert c.body(Body.SATURN).sign.english == "Cancer"
    assert c.body(Body.SATURN).house == 1
    assert c.body(Body.JUPITER).house == 11
    assert c.body(Body.JUPITER).retrograde
    assert c.body(Body.MARS).house == 2
    assert c.body(Body.KETU).house == 12
    assert c.body(Body.RAHU).retrograde


def test_swami_vivekananda():
    """Swami Vivekananda, 12 Jan 1863, 06:33 local mean time, Kolkata.

    astroassured.com/swami-vivekananda-kundali-analysis gives "6:33 AM", Kolkata, Ascendant
    Sagittarius, Rashi Virgo, Nakshatra Hasta, and the Sun in the ascendant. The 1863 record
    predates standard time, so the chart uses the birthplace's own local mean time (here
    +05:53:27; the tz database's Kolkata LMT is +05:53:20 "HMT" for 1863).
    Not asserted: some pages (gotoastro.com, blabberwockying.wordpress.com) call the lagna
    vargottama (Sagittarius navamsa too), which needs the lagna beyond Sagittarius 26°40'; at
    06:33 LMT we get 26°02', so those authors must use a birth time a few minutes later.
    """
    c = compute_chart(
        BirthData(
            date=dt.date(1863, 1, 12),
            time=dt.time(6, 33),
            place_name="Kolkata",
            country_code="IN",
            local_mean_time=True,
        )
    )
    assert c.birth.offset_source is OffsetSource.LOCAL_MEAN_TIME
    assert c.lagna is not None
    assert c.lagna.sign.english == "Sagittarius"
    assert c.moon_sign.english == "Virgo"
    assert c.moon_nakshatra.name == "Hasta"
    assert c.body(Body.SUN).house == 1
    assert c.body(Body.SUN).sign.english == "Sagittarius"


def test_mahatma_gandhi():
    """M.K. Gandhi, 2 Oct 1869, Porbandar, in the morning (local mean time).

    The published analyses agree on the placements but not on the minute: 07:12 LMT is the
    time most often quoted (its original source could not be checked here), astrosage.com's
    chart (cited by blabberwockying.wordpress.com) uses 08:36. Libra rises through both, so both
    are computed and every assertion must hold for each.
    Placements from aghortantra.com/mahatma-gandhi/ (Libra ascendant, Sun in the 12th in Virgo,
    Jupiter in the 7th, Moon in its own sign Cancer in the 10th with Rahu, Saturn in the 2nd)
    and blabberwockying.wordpress.com/2016/06/15/horoscope-of-mahatma-gandhi/ (Venus in its own
    sign in the lagna, Moon with Rahu in the 10th). lightonvedicastrology.com (Gajakesari yoga
    article) says the "Quit India" call of 9 Aug 1942 fell in Jupiter-Saturn: we assert that
    mahadasha and antardasha. The same page has Jupiter's mahadasha begin in January 1940 and
    the pratyantar as Mercury; we get May 1940 and Saturn at 07:12 LMT — a 15' difference in
    the Moon, so those finer figures are not asserted.
    """
    for t in (dt.time(7, 12), dt.time(8, 36)):
        c = compute_chart(
            BirthData(
                date=dt.date(1869, 10, 2),
                time=t,
                place_name="Porbandar",
                local_mean_time=True,
            ),
            ChartSettings(dasha_depth=2),
        )
        assert c.lagna is not None
        assert c.lagna.sign.english == "Libra", t
        assert c.moon_sign.english == "Cancer"
        houses = {b: c.body(b).house for b in Body}
        assert houses[Body.MOON] == 10
        assert houses[Body.RAHU] == 10
        assert houses[Body.SUN] == 12
        assert c.body(Body.SUN).sign.english == "Virgo"
        assert houses[Body.JUPITER] == 7
        assert houses[Body.SATURN] == 2
        assert houses[Body.VENUS] == 1
        assert c.body(Body.VENUS).sign.english == "Libra"
        assert c.dasha is not None
        running = c.dasha.running(dt.datetime(1942, 8, 9, tzinfo=dt.UTC), depth=2)
        assert [p.lord for p in running.periods] == [Body.JUPITER, Body.SATURN]
