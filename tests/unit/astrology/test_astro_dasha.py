"""Vimshottari dasha: worked examples and properties."""

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.astrology.dasha import (
    DASHA_YEARS,
    YearLength,
    dasha_balance,
    running_dasha,
    vimshottari_dasha,
)
from domain.astrology.errors import DashaOutOfRangeError, InvalidSettingError
from domain.astrology.zodiac import DASHA_LORDS, Body

BIRTH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)

moons = st.floats(min_value=0.0, max_value=360.0, exclude_max=True, allow_nan=False)
births = st.datetimes(
    min_value=dt.datetime(1800, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
)
years = st.sampled_from(list(YearLength))


def test_year_lengths():
    assert YearLength.JULIAN.days == 365.25
    assert float(YearLength.TROPICAL.days) == 365.2422
    assert YearLength.SAVANA.days == 360
    assert sum(DASHA_YEARS.values()) == 120


def test_worked_example_half_way_through_pushya():
    # Pushya spans 93°20'..106°40' and is ruled by Saturn (19 years). At 100° the Moon has
    # traversed (100 - 93.333..)/13.333.. = 0.5 of it, so 9.5 years of Saturn have "elapsed"
    # and 9.5 remain: 9.5 * 365.25 = 3469.875 days.
    d = vimshottari_dasha(100.0, BIRTH)
    assert d.nakshatra.name == "Pushya"
    assert d.starting_lord is Body.SATURN
    assert d.elapsed_fraction == pytest.approx(0.5)
    assert d.balance_years == pytest.approx(9.5)
    assert d.cycle_start == BIRTH - dt.timedelta(days=3469.875)
    sat, merc = d.periods[0], d.periods[1]
    assert (sat.lord, merc.lord) == (Body.SATURN, Body.MERCURY)
    assert sat.end == BIRTH + dt.timedelta(days=3469.875)
    assert merc.end - merc.start == dt.timedelta(days=17 * 365.25)
    # Saturn/Saturn antardasha = 19 * 19 / 120 years = 3.008333 years; then Saturn/Mercury
    # = 19 * 17 / 120 = 2.691667 years
    ss, sm = sat.sub_periods[0], sat.sub_periods[1]
    assert (ss.lord, sm.lord) == (Body.SATURN, Body.MERCURY)
    assert ss.end - ss.start == dt.timedelta(days=19 * 19 / 120 * 365.25)
    assert sm.end - sm.start == dt.timedelta(days=19 * 17 / 120 * 365.25)


def test_worked_example_start_of_ashwini():
    # 0° Aries: nothing of Ashwini (Ketu, 7 years) has elapsed; the whole Ketu period remains
    d = vimshottari_dasha(0.0, BIRTH)
    assert d.starting_lord is Body.KETU
    assert d.balance_years == pytest.approx(7.0)
    assert d.cycle_start == BIRTH
    assert [p.lord for p in d.periods] == list(DASHA_LORDS)


def test_running_dasha_worked_example():
    # Moon at 100° (Pushya, Saturn): Saturn's balance is 9.5 years, so at birth + 10 years we
    # are 0.5 years into Mercury's mahadasha. Its first antardasha, Mercury/Mercury, lasts
    # 17*17/120 = 2.408 years, so we are in it. Inside it the pratyantars are Mercury
    # (2.408*17/120 = 0.3412 y), Ketu (2.408*7/120 = 0.1405 y, ending at 0.4817 y) and Venus
    # (2.408*20/120 = 0.4014 y, ending at 0.8831 y): 0.5 years in, Venus runs.
    at = BIRTH + dt.timedelta(days=10 * 365.25)
    r = running_dasha(100.0, BIRTH, at)
    assert [p.lord for p in r.periods] == [Body.MERCURY, Body.MERCURY, Body.VENUS]
    assert r.key == "mercury/mercury/venus"
    assert r.mahadasha.level == 1
    assert r.antardasha is not None
    assert r.pratyantardasha is not None
    assert r.pratyantardasha.level == 3
    # Venus starts after Mercury + Ketu = 17*17*(17+7)/14400 years of the Mercury mahadasha
    assert r.pratyantardasha.start == BIRTH + dt.timedelta(
        days=(9.5 + 17 * 17 * 24 / 14400) * 365.25
    )
    # 0.3 years into Mercury: still Mercury/Mercury/Mercury
    at2 = BIRTH + dt.timedelta(days=9.8 * 365.25)
    assert running_dasha(100.0, BIRTH, at2).key == "mercury/mercury/mercury"
    # depth 1 gives only the mahadasha
    assert running_dasha(100.0, BIRTH, at, depth=1).antardasha is None


@settings(max_examples=150, deadline=None)
@given(moons, births, years)
def test_periods_contiguous_and_sum_to_120_years(moon, birth, year):
    d = vimshottari_dasha(moon, birth, year_length=year, depth=3)
    year_td = dt.timedelta(days=float(year.days))
    assert d.cycle_end - d.cycle_start == 120 * year_td
    assert d.periods[0].start == d.cycle_start
    assert d.periods[-1].end == d.cycle_end
    assert len(d.periods) == 9
    for level_periods in _levels(d.periods):
        for parent, children in level_periods:
            if parent is not None:
                assert children[0].start == parent.start
                assert children[-1].end == parent.end
            for a, b in itertools.pairwise(children):
                assert a.end == b.start
            assert [c.lord for c in children] == _sequence_from(children[0].lord)
            assert children[0].lord == (parent.lord if parent is not None else d.starting_lord)
            assert sum(c.years for c in children) == pytest.approx(
                parent.years if parent is not None else 120
            )
            for c in children:
                expected = DASHA_YEARS[c.lord] * (parent.years if parent is not None else 120) / 120
                assert c.years == pytest.approx(expected)
                assert abs((c.end - c.start) / year_td - c.years) < 1e-9


@settings(max_examples=150, deadline=None)
@given(moons, births, years)
def test_balance_is_within_the_first_period(moon, birth, year):
    d = vimshottari_dasha(moon, birth, year_length=year, depth=1)
    full = DASHA_YEARS[d.starting_lord]
    assert 0.0 < d.balance_years <= full
    assert d.balance_years == pytest.approx((1 - d.elapsed_fraction) * full, abs=1e-9)
    assert d.cycle_start <= birth < d.periods[0].end
    nak, frac = dasha_balance(moon)
    assert nak.lord is d.starting_lord
    assert 0.0 <= frac < 1.0


@settings(max_examples=100, deadline=None)
@given(moons, births, years, st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_running_dasha_agrees_with_the_timeline(moon, birth, year, where):
    d = vimshottari_dasha(moon, birth, year_length=year, depth=3)
    at = min(d.cycle_start + (d.cycle_end - d.cycle_start) * where, d.cycle_end - US)
    r = d.running(at)
    assert r == running_dasha(moon, birth, at, year_length=year)
    periods = d.periods
    for level, got in enumerate(r.periods, start=1):
        (match,) = [p for p in periods if p.start <= at < p.end]
        assert (got.lord, got.start, got.end, got.level) == (
            match.lord,
            match.start,
            match.end,
            level,
        )
        periods = match.sub_periods


def test_boundaries_belong_to_the_next_period():
    d = vimshottari_dasha(100.0, BIRTH, depth=1)
    boundary = d.periods[1].start
    assert d.running(boundary, depth=1).mahadasha.lord is d.periods[1].lord
    assert d.running(boundary - US, depth=1).mahadasha.lord is d.periods[0].lord


def test_out_of_cycle_instants_raise():
    d = vimshottari_dasha(100.0, BIRTH, depth=1)
    with pytest.raises(DashaOutOfRangeError) as e:
        d.running(d.cycle_start - US)
    assert e.value.field == "at"
    with pytest.raises(DashaOutOfRangeError):
        d.running(d.cycle_end)


def test_naive_datetimes_and_bad_depth_are_refused():
    with pytest.raises(InvalidSettingError):
        vimshottari_dasha(10.0, dt.datetime(2000, 1, 1))
    with pytest.raises(InvalidSettingError):
        vimshottari_dasha(10.0, BIRTH, depth=4)
    with pytest.raises(InvalidSettingError):
        running_dasha(10.0, BIRTH, BIRTH, depth=0)


def test_savana_year_cycle_is_43200_days():
    d = vimshottari_dasha(200.0, BIRTH, year_length=YearLength.SAVANA, depth=1)
    assert d.cycle_end - d.cycle_start == dt.timedelta(days=43200)
    assert d.year_days == 360.0


def test_aware_non_utc_birth_is_converted():
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    d = vimshottari_dasha(100.0, dt.datetime(2000, 1, 1, 5, 30, tzinfo=ist), depth=1)
    assert d.birth == BIRTH
    assert d.birth.tzinfo == dt.UTC


def _sequence_from(first):
    i = DASHA_LORDS.index(first)
    return [DASHA_LORDS[(i + k) % 9] for k in range(9)]


def _levels(top):
    """[(parent, children)] for each level; parent None for the mahadashas."""
    out = [[(None, top)]]
    frontier = list(top)
    while frontier and frontier[0].sub_periods:
        out.append([(p, p.sub_periods) for p in frontier])
        frontier = [c for p in frontier for c in p.sub_periods]
    return out


@given(moons, births, years)
@settings(max_examples=30, deadline=None)
def test_timeline_is_valid_against_its_schema(moon, birth, year):
    """Periods are built without validation for speed; the data must still be valid."""
    d = vimshottari_dasha(moon, birth, year_length=year, depth=3)
    again = type(d).model_validate(d.model_dump())
    assert again == d
    assert again.model_dump_json() == d.model_dump_json()


def test_unknown_year_length_is_a_domain_error():
    with pytest.raises(InvalidSettingError) as e:
        vimshottari_dasha(10.0, BIRTH, year_length="lunar")
    assert e.value.field == "year_length"
    assert e.value.details["allowed"] == ["julian", "tropical", "savana"]
