"""Local birth time → UTC: tz database history, explicit offsets, LMT, gaps and overlaps."""

import datetime as dt
import math

import pytest
import swisseph as swe
from hypothesis import given
from hypothesis import strategies as st

from domain.astrology.birth_time import (
    BirthData,
    OffsetSource,
    format_offset,
    julian_day_ut,
    load_zone,
    local_mean_time_offset,
    parse_utc_offset,
    resolve_birth,
)
from domain.astrology.errors import (
    AmbiguousLocalTimeError,
    ConflictingOptionsError,
    DateOutOfRangeError,
    EngineInputError,
    InvalidCoordinatesError,
    InvalidUtcOffsetError,
    NonexistentLocalTimeError,
    PlaceRequiredError,
    UnknownTimezoneError,
)

KOLKATA = {"latitude": 22.5726, "longitude": 88.3639, "timezone": "Asia/Kolkata"}
NEW_YORK = {"latitude": 40.7128, "longitude": -74.0060, "timezone": "America/New_York"}


def birth(d, t=dt.time(10, 0), **kw):
    return BirthData(date=d, time=t, **kw)


# --- the tz database's history of Asia/Kolkata (tzdata's "asia" file) --------------------


@pytest.mark.parametrize(
    ("day", "offset", "abbr"),
    [
        (dt.date(1850, 6, 1), "+05:53:28", "LMT"),  # Kolkata local mean time until 1854-06-28
        (dt.date(1860, 6, 1), "+05:53:20", "HMT"),  # Howrah Mean Time until 1870
        (dt.date(1890, 6, 1), "+05:21:10", "MMT"),  # Madras Mean Time until 1906
        (dt.date(1917, 11, 19), "+05:30", "IST"),
        (dt.date(1942, 1, 15), "+06:30", "+0630"),  # war time from 1941-10 ...
        (dt.date(1942, 6, 15), "+05:30", "IST"),  # ... interrupted 1942-05-15 .. 1942-09 ...
        (dt.date(1943, 6, 15), "+06:30", "+0630"),  # ... and again until 1945-10-15
        (dt.date(1945, 10, 20), "+05:30", "IST"),
        (dt.date(1990, 1, 1), "+05:30", "IST"),
    ],
)
def test_kolkata_history(day, offset, abbr):
    r = resolve_birth(birth(day, **KOLKATA))
    assert r.offset_source is OffsetSource.TZ_DATABASE
    assert r.utc_offset_text == offset
    assert r.tz_abbreviation == abbr
    assert r.timezone == "Asia/Kolkata"
    assert r.tzdata_version
    assert abbr in r.offset_reason
    assert offset in r.offset_reason


def test_kolkata_war_time_is_flagged_as_dst():
    r = resolve_birth(birth(dt.date(1943, 6, 15), **KOLKATA))
    assert r.dst == dt.timedelta(hours=1)
    assert r.utc == dt.datetime(1943, 6, 15, 3, 30, tzinfo=dt.UTC)


def test_india_before_1955_warns_about_local_clocks():
    codes = {w.code for w in resolve_birth(birth(dt.date(1950, 1, 1), **KOLKATA)).warnings}
    assert "india_local_times" in codes
    codes = {w.code for w in resolve_birth(birth(dt.date(1960, 1, 1), **KOLKATA)).warnings}
    assert "india_local_times" not in codes
    assert "tz_history_pre_1970" in codes
    assert not resolve_birth(birth(dt.date(1990, 1, 1), **KOLKATA)).warnings


def test_tz_lmt_warns_and_suggests_local_mean_time():
    r = resolve_birth(birth(dt.date(1850, 6, 1), **KOLKATA))
    (w,) = [w for w in r.warnings if w.code == "tz_reference_lmt"]
    assert "+05:53:27" in w.message  # the birth place's own LMT (88.3639° E)


# --- explicit offset and local mean time ------------------------------------------------


def test_explicit_offset_overrides_the_zone():
    r = resolve_birth(
        birth(
            dt.date(1940, 5, 1),
            dt.time(6, 0),
            utc_offset=dt.timedelta(hours=4, minutes=51),
            **KOLKATA,
        )
    )
    assert r.offset_source is OffsetSource.EXPLICIT
    assert r.utc_offset_text == "+04:51"
    assert r.utc == dt.datetime(1940, 5, 1, 1, 9, tzinfo=dt.UTC)
    assert r.tz_abbreviation is None
    assert r.timezone == "Asia/Kolkata"


def test_local_mean_time_is_four_minutes_per_degree():
    r = resolve_birth(birth(dt.date(1863, 1, 12), dt.time(6, 33), local_mean_time=True, **KOLKATA))
    assert r.offset_source is OffsetSource.LOCAL_MEAN_TIME
    # 88.3639° * 4 min = 353.4556 min = 5 h 53 min 27.3 s
    assert r.utc_offset == local_mean_time_offset(88.3639)
    assert abs(r.utc_offset.total_seconds() - 21207.336) < 1e-3
    assert r.utc_offset_text == "+05:53:27"
    assert "88.3639" in r.offset_reason


def test_lmt_west_of_greenwich_is_negative():
    assert local_mean_time_offset(-74.006) < dt.timedelta(0)
    assert format_offset(local_mean_time_offset(-90.0)) == "-06:00"


def test_offset_and_lmt_together_conflict():
    with pytest.raises(ConflictingOptionsError) as e:
        resolve_birth(
            birth(
                dt.date(1900, 1, 1),
                utc_offset=dt.timedelta(hours=5),
                local_mean_time=True,
                **KOLKATA,
            )
        )
    assert e.value.field == "utc_offset"


def test_offset_beyond_18h_is_refused():
    with pytest.raises(InvalidUtcOffsetError):
        resolve_birth(birth(dt.date(1990, 1, 1), utc_offset=dt.timedelta(hours=19), **KOLKATA))


# --- gaps and overlaps ----------------------------------------------------------------------


def test_spring_forward_gap_is_an_error_with_both_offsets():
    # 2021-03-14: New York clocks went from 02:00 EST straight to 03:00 EDT
    with pytest.raises(NonexistentLocalTimeError) as e:
        resolve_birth(birth(dt.date(2021, 3, 14), dt.time(2, 30), **NEW_YORK))
    err = e.value
    assert err.code == "nonexistent_local_time"
    assert err.field == "time"
    assert [c["utc_offset"] for c in err.details["candidates"]] == ["-05:00", "-04:00"]
    assert "did not exist" in err.message


@pytest.mark.parametrize(
    ("fold", "offset", "utc_hour"),
    [(0, "-05:00", 7), ("earlier", "-05:00", 7), (1, "-04:00", 6), ("later", "-04:00", 6)],
)
def test_gap_resolved_by_fold(fold, offset, utc_hour):
    r = resolve_birth(birth(dt.date(2021, 3, 14), dt.time(2, 30), fold=fold, **NEW_YORK))
    assert r.utc_offset_text == offset
    assert r.utc == dt.datetime(2021, 3, 14, utc_hour, 30, tzinfo=dt.UTC)
    assert r.fold in (0, 1)
    assert "nonexistent_time_resolved" in {w.code for w in r.warnings}


def test_fall_back_overlap_is_an_error_with_both_candidates():
    # 2021-11-07: 01:00-02:00 happened twice in New York (EDT, then EST)
    with pytest.raises(AmbiguousLocalTimeError) as e:
        resolve_birth(birth(dt.date(2021, 11, 7), dt.time(1, 30), **NEW_YORK))
    cands = e.value.details["candidates"]
    assert [(c["fold"], c["utc_offset"]) for c in cands] == [(0, "-04:00"), (1, "-05:00")]
    assert cands[0]["utc"] == "2021-11-07T05:30:00+00:00"
    assert cands[1]["utc"] == "2021-11-07T06:30:00+00:00"
    assert e.value.as_dict()["code"] == "ambiguous_local_time"


@pytest.mark.parametrize(("fold", "utc_hour"), [("earlier", 5), (0, 5), ("later", 6), (1, 6)])
def test_overlap_resolved_by_fold(fold, utc_hour):
    r = resolve_birth(birth(dt.date(2021, 11, 7), dt.time(1, 30), fold=fold, **NEW_YORK))
    assert r.utc == dt.datetime(2021, 11, 7, utc_hour, 30, tzinfo=dt.UTC)
    assert not r.warnings


def test_fold_is_ignored_for_an_ordinary_time():
    r = resolve_birth(birth(dt.date(2021, 7, 1), dt.time(12, 0), fold=1, **NEW_YORK))
    assert r.fold is None
    assert r.utc_offset_text == "-04:00"


@given(
    st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2037, 12, 31)),
    st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
)
def test_round_trip_or_clear_error(naive, zone):
    b = BirthData(date=naive.date(), time=naive.time(), latitude=0.0, longitude=0.0, timezone=zone)
    off0 = naive.replace(tzinfo=load_zone(zone), fold=0).utcoffset()
    off1 = naive.replace(tzinfo=load_zone(zone), fold=1).utcoffset()
    if off0 != off1:
        error = AmbiguousLocalTimeError if off0 > off1 else NonexistentLocalTimeError
        with pytest.raises(error) as e:
            resolve_birth(b)
        assert len(e.value.details["candidates"]) == 2
        for fold in (0, 1):
            resolve_birth(b.model_copy(update={"fold": fold}))
        return
    r = resolve_birth(b)
    back = r.utc.astimezone(load_zone(zone))
    assert back.replace(tzinfo=None) == naive
    assert r.utc_offset == back.utcoffset()


# --- unknown time, place and zone ---------------------------------------------------------


def test_unknown_time_uses_local_noon_and_says_so():
    r = resolve_birth(BirthData(date=dt.date(1990, 1, 1), **KOLKATA))
    assert not r.time_known
    assert r.local_time == dt.time(12, 0)
    assert r.utc == dt.datetime(1990, 1, 1, 6, 30, tzinfo=dt.UTC)
    assert r.warnings[0].code == "time_unknown"


def test_zone_found_from_coordinates():
    r = resolve_birth(
        birth(dt.date(2000, 7, 1), dt.time(12, 0), latitude=48.8566, longitude=2.3522)
    )
    assert r.timezone == "Europe/Paris"
    assert r.utc_offset_text == "+02:00"


def test_zone_name_is_case_insensitive_and_comes_from_tzdata():
    assert load_zone("asia/kolkata").key == "Asia/Kolkata"
    with pytest.raises(UnknownTimezoneError) as e:
        load_zone("Mars/Olympus_Mons")
    assert e.value.field == "timezone"


def test_place_by_name():
    r = resolve_birth(
        BirthData(
            date=dt.date(1917, 11, 19),
            time=dt.time(23, 11),
            place_name="Allahabad",
            country_code="IN",
        )
    )
    assert r.place is not None
    assert r.place.name == "Prayagraj"
    assert r.timezone == "Asia/Kolkata"
    assert math.isclose(r.latitude, r.place.latitude)


@pytest.mark.parametrize(
    ("kw", "error", "field"),
    [
        ({"latitude": 91.0, "longitude": 0.0}, InvalidCoordinatesError, "latitude"),
        ({"latitude": -90.5, "longitude": 0.0}, InvalidCoordinatesError, "latitude"),
        ({"latitude": 0.0, "longitude": 180.5}, InvalidCoordinatesError, "longitude"),
        ({"latitude": math.nan, "longitude": 0.0}, InvalidCoordinatesError, "latitude"),
        ({"latitude": 10.0}, PlaceRequiredError, "longitude"),
        ({}, PlaceRequiredError, "place_name"),
        (
            {"latitude": 0.0, "longitude": 0.0, "timezone": "Nowhere/Land"},
            UnknownTimezoneError,
            "timezone",
        ),
    ],
)
def test_bad_place_input(kw, error, field):
    with pytest.raises(error) as e:
        resolve_birth(birth(dt.date(2000, 1, 1), **kw))
    assert e.value.field == field
    assert isinstance(e.value, EngineInputError)
    assert e.value.message


@pytest.mark.parametrize("day", [dt.date(999, 12, 31), dt.date(3000, 1, 1), dt.date(1, 1, 1)])
def test_dates_outside_the_supported_range(day):
    with pytest.raises(DateOutOfRangeError) as e:
        resolve_birth(birth(day, **KOLKATA))
    assert e.value.code == "date_out_of_range"
    assert e.value.details == {"min": "1000-01-01", "max": "2999-12-31"}


def test_time_with_tzinfo_is_refused():
    with pytest.raises(ConflictingOptionsError):
        resolve_birth(birth(dt.date(2000, 1, 1), dt.time(1, 0, tzinfo=dt.UTC), **KOLKATA))


def test_pre_gregorian_dates_warn():
    r = resolve_birth(birth(dt.date(1500, 1, 1), utc_offset=dt.timedelta(0), **KOLKATA))
    assert "proleptic_gregorian" in {w.code for w in r.warnings}


# --- helpers ----------------------------------------------------------------------------------


@given(st.datetimes(min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(2999, 12, 30)))
def test_julian_day_matches_swe_julday(naive):
    utc = naive.replace(tzinfo=dt.UTC)
    hours = naive.hour + naive.minute / 60 + naive.second / 3600 + naive.microsecond / 3.6e9
    expected = swe.julday(naive.year, naive.month, naive.day, hours, swe.GREG_CAL)
    assert abs(julian_day_ut(utc) - expected) < 1e-8  # < 1 ms


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("+05:30", dt.timedelta(hours=5, minutes=30)),
        ("-0800", dt.timedelta(hours=-8)),
        ("UTC+5", dt.timedelta(hours=5)),
        ("+05:53:28", dt.timedelta(hours=5, minutes=53, seconds=28)),
        ("gmt-03:30", -dt.timedelta(hours=3, minutes=30)),
    ],
)
def test_parse_utc_offset(text, delta):
    assert parse_utc_offset(text) == delta


@pytest.mark.parametrize("text", ["5:30", "+5:75", "IST", ""])
def test_parse_utc_offset_rejects(text):
    with pytest.raises(InvalidUtcOffsetError):
        parse_utc_offset(text)


def test_format_offset():
    assert format_offset(dt.timedelta(hours=5, minutes=30)) == "+05:30"
    assert format_offset(dt.timedelta(hours=-3, minutes=-30)) == "-03:30"
    assert format_offset(dt.timedelta(0)) == "+00:00"
    assert format_offset(dt.timedelta(hours=5, minutes=53, seconds=28)) == "+05:53:28"
