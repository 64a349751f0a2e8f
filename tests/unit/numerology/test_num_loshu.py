"""Lo Shu grid, driver, conductor and Kua: worked examples (computed by hand) and properties."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.numerology.loshu import (
    LO_SHU,
    PLANES,
    DriverRule,
    KuaYearStart,
    LoShuConvention,
    kua_number,
    lo_shu_grid,
)
from domain.numerology.reduce import conductor_number, date_digits, driver_number

dates = st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2199, 12, 31))


def test_lo_shu_is_the_magic_square():
    assert sorted(n for row in LO_SHU for n in row) == list(range(1, 10))
    assert LO_SHU[1][1] == 5
    assert LO_SHU[0] == (4, 9, 2)
    assert LO_SHU[2] == (8, 1, 6)
    for _key, nums in PLANES:
        assert sum(nums) == 15
    rows = {nums for key, nums in PLANES if key in {"mental", "emotional", "practical"}}
    assert rows == set(LO_SHU)
    cols = {nums for key, nums in PLANES if key in {"thought", "will", "action"}}
    assert cols == {tuple(r[i] for r in LO_SHU) for i in range(3)}


def test_worked_example_17_may_1990_male():
    # Date digits 1 7 0 5 1 9 9 0 -> without zeros: 1 7 5 1 9 9
    # Driver: 17 -> 1+7 = 8 (two-digit day, so it is added)
    # Conductor: 1+7+5+1+9+9 = 32 -> 3+2 = 5 (added)
    # Kua (male): 1+9+9+0 = 19 -> 1; 11 - 1 = 10 -> 1 (added)
    # Grid digits: 1 7 5 1 9 9 8 5 1 -> 1x3, 5x2, 9x2, 7, 8; missing 2 3 4 6
    g = lo_shu_grid(dt.date(1990, 5, 17), gender="male")
    assert (g.driver, g.conductor, g.kua) == (8, 5, 1)
    assert [d.digit for d in g.digits] == [1, 7, 5, 1, 9, 9, 8, 5, 1]
    assert [d.source for d in g.digits][-3:] == ["driver", "conductor", "kua"]
    assert g.missing == (2, 3, 4, 6)
    assert g.repeated == {1: 3, 5: 2, 9: 2}
    assert g.rows == ((0, 2, 0), (0, 2, 1), (1, 3, 0))
    assert g.complete_planes == ("will",)  # 9, 5, 1 all present
    assert g.empty_planes == ()
    assert g.keys[:3] == ["driver:8", "conductor:5", "kua:1"]
    assert "repeated:1:3" in g.keys
    assert "plane:will:complete" in g.keys


def test_worked_example_single_digit_day_female():
    # 4 Jan 2005, female. Digits 0 4 0 1 2 0 0 5 -> 4 1 2 5
    # Driver 4 (single-digit day: already in the grid, not added again by default)
    # Conductor 4+1+2+5 = 12 -> 3
    # Kua: 4 Jan is before 4 Feb, so the solar year is 2004: 2+0+0+4 = 6; female 4 + 6 = 10 -> 1
    # (with the Gregorian year 2005: 7; 4 + 7 = 11 -> 2)
    g = lo_shu_grid(dt.date(2005, 1, 4), gender="female")
    assert (g.driver, g.conductor, g.kua) == (4, 3, 1)
    assert [d.digit for d in g.digits] == [4, 1, 2, 5, 3, 1]
    assert g.missing == (6, 7, 8, 9)
    assert g.repeated == {1: 2}
    # every line of the square has at least one of 1 2 3 4 5 and none has all three numbers
    assert g.empty_planes == ()
    assert g.complete_planes == ()
    jan = lo_shu_grid(
        dt.date(2005, 1, 4),
        gender="female",
        convention=LoShuConvention(kua_year_start=KuaYearStart.JAN_1),
    )
    assert jan.kua == 2


def test_empty_and_complete_planes():
    # 11 Nov 2011: digits 1 1 1 1 2 0 1 1 -> 1x6, 2; driver 11 -> 2 (added); conductor 8 -> 8
    # grid: 1x6, 2x2, 8 -> empty: emotional (3 5 7); complete: none
    g = lo_shu_grid(dt.date(2011, 11, 11))
    assert g.kua is None
    assert (g.driver, g.conductor) == (2, 8)
    assert g.counts[1] == 6
    assert g.counts[2] == 2
    assert g.counts[8] == 1
    assert "emotional" in g.empty_planes
    assert "plane:emotional:empty" in g.keys
    assert g.complete_planes == ()


@pytest.mark.parametrize(
    ("rule", "expected_extra"),
    [(DriverRule.NEVER, []), (DriverRule.IF_TWO_DIGIT_DAY, []), (DriverRule.ALWAYS, [4])],
)
def test_driver_rule_for_single_digit_day(rule, expected_extra):
    conv = LoShuConvention(driver=rule, conductor=False, kua=False)
    g = lo_shu_grid(dt.date(2005, 1, 4), convention=conv)
    assert [d.digit for d in g.digits] == [4, 1, 2, 5, *expected_extra]


def test_convention_without_extras_uses_only_date_digits():
    conv = LoShuConvention(driver=DriverRule.NEVER, conductor=False, kua=False)
    g = lo_shu_grid(dt.date(1990, 5, 17), gender="male", convention=conv)
    assert [d.digit for d in g.digits] == [1, 7, 5, 1, 9, 9]
    assert g.kua == 1  # still reported, just not placed


@pytest.mark.parametrize(
    ("d", "gender", "kua"),
    [
        # 1900s tables: male 10 - root(YY), female 5 + root(YY); 5 -> 2 (male) / 8 (female)
        (dt.date(1985, 6, 1), "male", 6),  # 85 -> 13 -> 4; 10 - 4 = 6
        (dt.date(1985, 6, 1), "female", 9),  # 5 + 4 = 9
        (dt.date(1999, 6, 1), "female", 8),  # 99 -> 9; 5 + 9 = 14 -> 5 -> 8
        (dt.date(1977, 6, 1), "male", 2),  # 77 -> 14 -> 5; 10 - 5 = 5 -> 2
        # 2000s tables: male 9 - root(YY), female 6 + root(YY)
        (dt.date(2000, 6, 1), "male", 9),
        (dt.date(2000, 6, 1), "female", 6),
        (dt.date(2005, 6, 1), "female", 2),  # 6 + 5 = 11 -> 2
        # the solar-year boundary: 3 Feb 1985 belongs to 1984
        (dt.date(1985, 2, 3), "male", 7),  # 84 -> 12 -> 3; 10 - 3 = 7
        (dt.date(1985, 2, 4), "male", 6),
    ],
)
def test_kua_examples(d, gender, kua):
    assert kua_number(d, gender) == kua


@given(st.integers(min_value=1900, max_value=2099), st.sampled_from(["male", "female"]))
def test_kua_matches_century_tables(year, gender):
    yy = year % 100
    r = 0 if yy == 0 else 1 + (yy - 1) % 9

    def root(n):
        while n > 9:
            n = sum(map(int, str(n)))
        return n

    if year < 2000:
        k = root(10 - r) if gender == "male" else root(5 + r)
    else:
        k = root(9 - r) if gender == "male" else root(6 + r)
    if k == 0:
        k = 9
    if k == 5:
        k = 2 if gender == "male" else 8
    assert kua_number(dt.date(year, 6, 1), gender) == k
    assert kua_number(dt.date(year, 6, 1), gender) != 5


@given(dates, st.sampled_from([None, "male", "female"]))
def test_grid_properties(d, gender):
    g = lo_shu_grid(d, gender=gender)
    assert 1 <= g.driver <= 9
    assert 1 <= g.conductor <= 9
    assert sum(g.counts.values()) == len(g.digits)
    assert all(1 <= x.digit <= 9 for x in g.digits)
    date_part = [x.digit for x in g.digits if x.source == "date"]
    assert date_part == [x for x in date_digits(d) if x]
    assert set(g.missing) == {n for n in range(1, 10) if g.counts[n] == 0}
    assert all(c > 1 for c in g.repeated.values())
    for p in g.planes:
        assert p.complete == (len(p.present) == 3)
        assert p.empty == (len(p.present) == 0)
    assert sum(sum(r) for r in g.rows) == len(g.digits)
    # conductor is the digital root of the date digits; driver of the day
    assert g.conductor == conductor_number(d).value == 1 + (sum(date_digits(d)) - 1) % 9
    assert g.driver == driver_number(d).value == 1 + (d.day - 1) % 9
    if gender is None:
        assert g.kua is None
    else:
        assert g.kua in {1, 2, 3, 4, 6, 7, 8, 9}
