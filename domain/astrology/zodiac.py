"""Signs, nakshatras, padas and navamsa: pure arithmetic on a sidereal longitude.

Every division of the zodiac used here is a whole number of *padas* (3°20', 108 to the circle):
a sign is 9 padas, a nakshatra 4, a navamsa is one pada. All of them are derived from the same
pada index so that they can never disagree at a boundary because of floating-point rounding.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict


class Body(StrEnum):
    """The nine grahas, in the traditional order."""

    SUN = "sun"
    MOON = "moon"
    MARS = "mars"
    MERCURY = "mercury"
    JUPITER = "jupiter"
    VENUS = "venus"
    SATURN = "saturn"
    RAHU = "rahu"
    KETU = "ketu"


BODIES: Final[tuple[Body, ...]] = tuple(Body)

PADA_SPAN: Final = 10.0 / 3.0  # 3°20'
NAKSHATRA_SPAN: Final = 40.0 / 3.0  # 13°20'
SIGN_SPAN: Final = 30.0
PADAS: Final = 108


class SignRef(BaseModel):
    """A rashi. ``index`` counts from 0 (Mesha/Aries), ``number`` from 1."""

    model_config = ConfigDict(frozen=True)

    index: int
    number: int
    name: str
    english: str
    lord: Body


class NakshatraRef(BaseModel):
    """A lunar mansion. ``index`` counts from 0 (Ashwini), ``number`` from 1."""

    model_config = ConfigDict(frozen=True)

    index: int
    number: int
    name: str
    lord: Body


_SIGN_DATA: Final = (
    ("Mesha", "Aries", Body.MARS),
    ("Vrishabha", "Taurus", Body.VENUS),
    ("Mithuna", "Gemini", Body.MERCURY),
    ("Karka", "Cancer", Body.MOON),
    ("Simha", "Leo", Body.SUN),
    ("Kanya", "Virgo", Body.MERCURY),
    ("Tula", "Libra", Body.VENUS),
    ("Vrishchika", "Scorpio", Body.MARS),
    ("Dhanu", "Sagittarius", Body.JUPITER),
    ("Makara", "Capricorn", Body.SATURN),
    ("Kumbha", "Aquarius", Body.SATURN),
    ("Meena", "Pisces", Body.JUPITER),
)

SIGNS: Final[tuple[SignRef, ...]] = tuple(
    SignRef(index=i, number=i + 1, name=n, english=e, lord=lord)
    for i, (n, e, lord) in enumerate(_SIGN_DATA)
)

#: Vimshottari order of the nakshatra lords, repeating from Ashwini.
DASHA_LORDS: Final[tuple[Body, ...]] = (
    Body.KETU,
    Body.VENUS,
    Body.SUN,
    Body.MOON,
    Body.MARS,
    Body.RAHU,
    Body.JUPITER,
    Body.SATURN,
    Body.MERCURY,
)

_NAKSHATRA_NAMES: Final = (
    "Ashwini",
    "Bharani",
    "Krittika",
    "Rohini",
    "Mrigashira",
    "Ardra",
    "Punarvasu",
    "Pushya",
    "Ashlesha",
    "Magha",
    "Purva Phalguni",
    "Uttara Phalguni",
    "Hasta",
    "Chitra",
    "Swati",
    "Vishakha",
    "Anuradha",
    "Jyeshtha",
    "Mula",
    "Purva Ashadha",
    "Uttara Ashadha",
    "Shravana",
    "Dhanishta",
    "Shatabhisha",
    "Purva Bhadrapada",
    "Uttara Bhadrapada",
    "Revati",
)

NAKSHATRAS: Final[tuple[NakshatraRef, ...]] = tuple(
    NakshatraRef(index=i, number=i + 1, name=n, lord=DASHA_LORDS[i % 9])
    for i, n in enumerate(_NAKSHATRA_NAMES)
)


def normalize(longitude: float) -> float:
    """Reduce an angle to [0, 360) — also for tiny negative inputs, where ``% 360`` gives 360."""
    x = longitude % 360.0
    return 0.0 if x >= 360.0 else x


def pada_index(longitude: float) -> int:
    """Absolute pada, 0..107, of a sidereal longitude in [0, 360)."""
    p = int(longitude * 108.0 / 360.0)
    return 107 if p > 107 else (0 if p < 0 else p)


def sign_of(longitude: float) -> SignRef:
    return SIGNS[pada_index(longitude) // 9]


def nakshatra_of(longitude: float) -> tuple[NakshatraRef, int]:
    """Nakshatra and pada (1-4)."""
    p = pada_index(longitude)
    return NAKSHATRAS[p // 4], p % 4 + 1


def navamsa_sign_of(longitude: float) -> SignRef:
    """D9 sign.

    The classical rule counts nine navamsas from Mesha for fire signs, from Makara for earth,
    from Tula for air and from Karka for water. Those starting points are exactly where the
    previous sign's count ends, so the rule equals "pada index modulo 12".
    """
    return SIGNS[pada_index(longitude) % 12]


def degree_in_sign(longitude: float, sign: SignRef) -> float:
    d = longitude - 30.0 * sign.index
    return 0.0 if d < 0.0 else (d if d < 30.0 else 29.999999999999996)


def format_dms(degrees: float) -> str:
    """``12°34'56"`` with seconds rounded (a value that rounds to 60" carries over)."""
    sign = "-" if degrees < 0 else ""
    total = round(abs(degrees) * 3600.0)
    d, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{sign}{d}°{m:02d}'{s:02d}\""
