"""The one place that calls pyswisseph.

Swiss Ephemeris keeps the sidereal mode (ayanamsa) as global state, so every call sequence that
depends on it — ``set_sid_mode`` then the positions and houses — runs under ``SWE_LOCK``, and
the mode is set before every computation. (The pyswisseph 2.10 wheel builds the library with
thread-local state: a new thread starts with the default Fagan/Bradley mode whatever another
thread set — hence "set it every time". Builds without thread-local storage share one state
across threads — hence the lock.) Other code in the process that calls ``swe`` must do the
same.

Ephemeris: the built-in Moshier theory (``FLG_MOSEPH``), always. It needs no data files and
deviates from JPL by under 1" for the planets and a few " for the Moon (Swiss Ephemeris
documentation, "The Moshier Ephemeris") — the Moon covers 1" in about 2 s of time — and it
makes results identical on every machine. The return flag of each call is checked so that a silent
fallback to another ephemeris cannot go unnoticed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import swisseph as swe

from domain.astrology.errors import DateOutOfRangeError, coerce_enum

SWE_LOCK: Final = threading.RLock()

EPHEMERIS_FLAG: Final[int] = swe.FLG_MOSEPH
EPHEMERIS_NAME: Final = "moshier"
#: Flags for positions: Moshier, speeds, sidereal zodiac (the library applies the ayanamsa).
CALC_FLAGS: Final[int] = swe.FLG_MOSEPH | swe.FLG_SPEED | swe.FLG_SIDEREAL
#: Flags for houses and the ascendant.
HOUSE_FLAGS: Final[int] = swe.FLG_MOSEPH | swe.FLG_SIDEREAL

#: Moshier's range (Julian day), from the library's own error message.
JD_MIN: Final = 625000.5
JD_MAX: Final = 2818000.5


class Ayanamsa(StrEnum):
    LAHIRI = "lahiri"
    RAMAN = "raman"
    KRISHNAMURTI = "krishnamurti"


SID_MODE: Final[dict[Ayanamsa, int]] = {
    Ayanamsa.LAHIRI: swe.SIDM_LAHIRI,
    Ayanamsa.RAMAN: swe.SIDM_RAMAN,
    Ayanamsa.KRISHNAMURTI: swe.SIDM_KRISHNAMURTI,
}


class NodeType(StrEnum):
    MEAN = "mean"
    TRUE = "true"


NODE_BODY: Final[dict[NodeType, int]] = {NodeType.MEAN: swe.MEAN_NODE, NodeType.TRUE: swe.TRUE_NODE}

#: swe body numbers for Sun..Saturn in the traditional graha order; the node is added per call.
PLANET_IDS: Final[tuple[int, ...]] = (
    swe.SUN,
    swe.MOON,
    swe.MARS,
    swe.MERCURY,
    swe.JUPITER,
    swe.VENUS,
    swe.SATURN,
)


@dataclass(frozen=True, slots=True)
class RawPositions:
    """Sidereal (longitude, latitude, speed in longitude) of Sun..Saturn and Rahu, in order."""

    jd_ut: float
    bodies: tuple[tuple[float, float, float], ...]
    ayanamsa_true: float
    ayanamsa_mean: float
    ascendant: float | None
    midheaven: float | None
    placidus_cusps: tuple[float, ...] | None
    placidus_error: str | None


def check_jd(jd_ut: float) -> None:
    if not (JD_MIN <= jd_ut <= JD_MAX):
        raise DateOutOfRangeError(
            f"Julian day {jd_ut} is outside the Moshier ephemeris range {JD_MIN}..{JD_MAX}.",
            field="date",
        )


def _check_flag(retflag: int) -> None:
    if not retflag & swe.FLG_MOSEPH:  # pragma: no cover - would be a library change
        raise RuntimeError(f"Swiss Ephemeris did not use the Moshier ephemeris (flag {retflag})")


def compute_positions(
    jd_ut: float,
    ayanamsa: Ayanamsa,
    node: NodeType,
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    placidus: bool = False,
) -> RawPositions:
    """Positions, ayanamsa and (when coordinates are given) ascendant and Placidus cusps."""
    check_jd(jd_ut)
    ayanamsa = coerce_enum(Ayanamsa, ayanamsa, "ayanamsa")
    node = coerce_enum(NodeType, node, "node")
    calc = swe.calc_ut
    flags = CALC_FLAGS
    out: list[tuple[float, float, float]] = []
    asc = mc = None
    cusps: tuple[float, ...] | None = None
    placidus_error: str | None = None
    with SWE_LOCK:
        swe.set_sid_mode(SID_MODE[ayanamsa], 0.0, 0.0)
        for ipl in PLANET_IDS:
            xx, ret = calc(jd_ut, ipl, flags)
            out.append((xx[0], xx[1], xx[3]))
        xx, ret = calc(jd_ut, NODE_BODY[node], flags)
        out.append((xx[0], xx[1], xx[3]))
        _check_flag(ret)
        _aya_ret, aya_true = swe.get_ayanamsa_ex_ut(jd_ut, EPHEMERIS_FLAG)
        aya_mean = swe.get_ayanamsa_ex_ut(jd_ut, EPHEMERIS_FLAG | swe.FLG_NONUT)[1]
        if latitude is not None and longitude is not None:
            if placidus:
                try:
                    c, ascmc = swe.houses_ex(jd_ut, latitude, longitude, b"P", HOUSE_FLAGS)
                    cusps = tuple(c[:12])
                    asc, mc = ascmc[0], ascmc[1]
                except swe.Error as exc:
                    placidus_error = str(exc)
            if asc is None:
                _c, ascmc = swe.houses_ex(jd_ut, latitude, longitude, b"W", HOUSE_FLAGS)
                asc, mc = ascmc[0], ascmc[1]
    return RawPositions(
        jd_ut=jd_ut,
        bodies=tuple(out),
        ayanamsa_true=aya_true,
        ayanamsa_mean=aya_mean,
        ascendant=asc,
        midheaven=mc,
        placidus_cusps=cusps,
        placidus_error=placidus_error,
    )


def sidereal_longitude(jd_ut: float, body: int, ayanamsa: Ayanamsa) -> float:
    """One body's sidereal longitude (used for the time-unknown range checks)."""
    with SWE_LOCK:
        swe.set_sid_mode(SID_MODE[ayanamsa], 0.0, 0.0)
        xx, _ret = swe.calc_ut(jd_ut, body, CALC_FLAGS)
    return float(xx[0])


def ayanamsa_value(jd_ut: float, ayanamsa: Ayanamsa, *, with_nutation: bool = True) -> float:
    """The ayanamsa at ``jd_ut``: true (with nutation, what sidereal positions subtract from
    apparent tropical ones) or mean (``with_nutation=False``, what most printed tables list)."""
    ayanamsa = coerce_enum(Ayanamsa, ayanamsa, "ayanamsa")
    flags = EPHEMERIS_FLAG if with_nutation else EPHEMERIS_FLAG | swe.FLG_NONUT
    with SWE_LOCK:
        swe.set_sid_mode(SID_MODE[ayanamsa], 0.0, 0.0)
        return float(swe.get_ayanamsa_ex_ut(jd_ut, flags)[1])
