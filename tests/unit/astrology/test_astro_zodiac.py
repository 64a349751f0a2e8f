"""Signs, nakshatras, padas and navamsa from a sidereal longitude."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.astrology.zodiac import (
    DASHA_LORDS,
    NAKSHATRAS,
    SIGNS,
    Body,
    degree_in_sign,
    format_dms,
    nakshatra_of,
    navamsa_sign_of,
    normalize,
    pada_index,
    sign_of,
)

longitudes = st.floats(min_value=0.0, max_value=360.0, exclude_max=True, allow_nan=False)

EPS = 1e-9


def classical_navamsa(longitude: float) -> int:
    """The textbook rule, written independently of the engine's "pada mod 12" shortcut:
    the nine navamsas of a movable (chara) sign start from the sign itself, of a fixed (sthira)
    sign from its 9th, of a dual (dvisvabhava) sign from its 5th."""
    sign = int(longitude // 30)
    part = int((longitude - 30 * sign) // (30 / 9))
    start = {0: sign, 1: (sign + 8) % 12, 2: (sign + 4) % 12}[sign % 3]
    return (start + part) % 12


def test_tables():
    assert [s.english for s in SIGNS][:4] == ["Aries", "Taurus", "Gemini", "Cancer"]
    assert SIGNS[3].name == "Karka"
    assert len(NAKSHATRAS) == 27
    assert NAKSHATRAS[0].name == "Ashwini"
    assert NAKSHATRAS[0].lord is Body.KETU
    assert NAKSHATRAS[8].name == "Ashlesha"
    assert NAKSHATRAS[8].lord is Body.MERCURY
    assert NAKSHATRAS[26].name == "Revati"
    assert NAKSHATRAS[26].lord is Body.MERCURY
    # each lord rules three nakshatras, nine apart
    for i, lord in enumerate(DASHA_LORDS):
        assert [n.index for n in NAKSHATRAS if n.lord is lord] == [i, i + 9, i + 18]


@pytest.mark.parametrize(
    ("lon", "sign", "nak", "pada", "d9"),
    [
        (0.0, "Aries", "Ashwini", 1, "Aries"),
        (3.34, "Aries", "Ashwini", 2, "Taurus"),
        (13.34, "Aries", "Bharani", 1, "Leo"),
        (29.99, "Aries", "Krittika", 1, "Sagittarius"),
        (30.0, "Taurus", "Krittika", 2, "Capricorn"),
        (95.0, "Cancer", "Pushya", 1, "Leo"),  # 93°20' starts Pushya
        (119.99, "Cancer", "Ashlesha", 4, "Pisces"),
        (271.0, "Capricorn", "Uttara Ashadha", 2, "Capricorn"),  # vargottama
        (275.5, "Capricorn", "Uttara Ashadha", 3, "Aquarius"),
        (359.999, "Pisces", "Revati", 4, "Pisces"),
    ],
)
def test_known_positions(lon, sign, nak, pada, d9):
    assert sign_of(lon).english == sign
    n, p = nakshatra_of(lon)
    assert (n.name, p) == (nak, pada)
    assert navamsa_sign_of(lon).english == d9


@given(longitudes)
def test_nakshatra_and_pada_contain_the_longitude(lon):
    nak, pada = nakshatra_of(lon)
    start = nak.index * 40 / 3 + (pada - 1) * 10 / 3
    assert start - EPS <= lon < start + 10 / 3 + EPS
    assert 1 <= pada <= 4


@given(longitudes)
def test_sign_contains_the_longitude_and_agrees_with_nakshatra(lon):
    s = sign_of(lon)
    assert 30 * s.index - EPS <= lon < 30 * s.index + 30 + EPS
    assert 0.0 <= degree_in_sign(lon, s) < 30.0
    # a sign holds exactly 9 padas: the pada index and the sign agree
    assert pada_index(lon) // 9 == s.index


@given(longitudes)
def test_navamsa_matches_classical_rule(lon):
    # away from boundaries the two formulas must agree exactly; at a boundary (within float
    # noise) either neighbour is acceptable
    p = lon / (10 / 3)
    if abs(p - round(p)) < 1e-9:
        return
    assert navamsa_sign_of(lon).index == classical_navamsa(lon)


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_normalize_range(x):
    assert 0.0 <= normalize(x) < 360.0


def test_normalize_tiny_negative():
    assert normalize(-1e-20) == 0.0


@pytest.mark.parametrize(
    ("deg", "text"),
    [(23.857092, "23°51'26\""), (0.0, "0°00'00\""), (29.99999, "30°00'00\""), (-1.5, "-1°30'00\"")],
)
def test_format_dms(deg, text):
    assert format_dms(deg) == text
