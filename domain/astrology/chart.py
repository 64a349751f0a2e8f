"""The Vedic (sidereal) birth chart: grahas, lagna, whole-sign houses, D9 and dasha."""

from __future__ import annotations

import datetime as dt
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, computed_field

from domain.astrology._fast import construct
from domain.astrology.birth_time import BirthData, ChartWarning, ResolvedBirth, resolve_birth
from domain.astrology.dasha import VimshottariDasha, YearLength, vimshottari_dasha
from domain.astrology.ephemeris import (
    EPHEMERIS_NAME,
    Ayanamsa,
    NodeType,
    RawPositions,
    compute_positions,
)
from domain.astrology.zodiac import (
    BODIES,
    NAKSHATRAS,
    SIGNS,
    Body,
    NakshatraRef,
    SignRef,
    degree_in_sign,
    format_dms,
    normalize,
    pada_index,
)


class ChartSettings(BaseModel):
    """Conventions; the defaults are the common North-Indian practice (see docs/astrology.md)."""

    model_config = ConfigDict(frozen=True)

    ayanamsa: Ayanamsa = Ayanamsa.LAHIRI
    node: NodeType = NodeType.MEAN
    year_length: YearLength = YearLength.JULIAN
    dasha_depth: int = Field(default=2, ge=0, le=3)  # 0 none, 1 maha, 2 antar, 3 pratyantar
    placidus: bool = False


DEFAULT_SETTINGS: Final = ChartSettings()


class BodyPosition(BaseModel):
    """A graha. Longitudes are sidereal degrees; ``speed`` is degrees per day.

    ``retrograde`` is ``speed < 0`` for every body, nodes included: the mean node always moves
    backwards, so it is always retrograde; the true node occasionally moves forward and is then
    reported direct. ``approximate`` is set when the birth time is unknown and the body's sign,
    nakshatra or pada changes during the birth day.
    """

    model_config = ConfigDict(frozen=True)

    body: Body
    longitude: float
    latitude: float
    speed: float
    retrograde: bool
    sign: SignRef
    degree_in_sign: float
    nakshatra: NakshatraRef
    pada: int
    navamsa_sign: SignRef
    house: int | None
    approximate: bool

    @computed_field  # type: ignore[prop-decorator]
    @property
    def degree_in_sign_dms(self) -> str:
        return format_dms(self.degree_in_sign)


class Lagna(BaseModel):
    model_config = ConfigDict(frozen=True)

    longitude: float
    sign: SignRef
    degree_in_sign: float
    nakshatra: NakshatraRef
    pada: int
    navamsa_sign: SignRef

    @computed_field  # type: ignore[prop-decorator]
    @property
    def degree_in_sign_dms(self) -> str:
        return format_dms(self.degree_in_sign)


class House(BaseModel):
    """A whole-sign house: house 1 is the lagna's sign, and so on."""

    model_config = ConfigDict(frozen=True)

    number: int
    sign: SignRef
    bodies: tuple[Body, ...]


class Cusp(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    longitude: float
    sign: SignRef
    degree_in_sign: float


class PlacidusHouses(BaseModel):
    """Placidus cusps, sidereal (tropical cusps less the ayanamsa, as Swiss Ephemeris does)."""

    model_config = ConfigDict(frozen=True)

    cusps: tuple[Cusp, ...]
    midheaven: float


class VedicChart(BaseModel):
    model_config = ConfigDict(frozen=True)

    birth: ResolvedBirth
    settings: ChartSettings
    ephemeris: str
    ayanamsa: float
    ayanamsa_mean: float
    bodies: tuple[BodyPosition, ...]
    moon_sign: SignRef
    moon_nakshatra: NakshatraRef
    moon_pada: int
    moon_approximate: bool
    lagna: Lagna | None
    houses: tuple[House, ...] | None
    placidus: PlacidusHouses | None
    dasha: VimshottariDasha | None
    warnings: tuple[ChartWarning, ...]

    def body(self, body: Body) -> BodyPosition:
        return self.bodies[BODIES.index(body)]

    @property
    def keys(self) -> list[str]:
        """Content keys for tenant-editable texts, e.g. ``lagna:cancer``."""
        out = [
            f"moon_sign:{self.moon_sign.english.lower()}",
            f"moon_nakshatra:{self.moon_nakshatra.name.lower().replace(' ', '_')}",
        ]
        if self.lagna is not None:
            out.insert(0, f"lagna:{self.lagna.sign.english.lower()}")
            out.extend(f"{p.body.value}_house:{p.house}" for p in self.bodies)
        out.extend(f"{p.body.value}_sign:{p.sign.english.lower()}" for p in self.bodies)
        return out


def _position(
    body: Body,
    lon: float,
    lat: float,
    speed: float,
    lagna_sign: int | None,
    approximate: bool,
) -> BodyPosition:
    p = pada_index(lon)
    sign = SIGNS[p // 9]
    return construct(
        BodyPosition,
        {
            "body": body,
            "longitude": lon,
            "latitude": lat,
            "speed": speed,
            "retrograde": speed < 0.0,
            "sign": sign,
            "degree_in_sign": degree_in_sign(lon, sign),
            "nakshatra": NAKSHATRAS[p // 4],
            "pada": p % 4 + 1,
            "navamsa_sign": SIGNS[p % 12],
            "house": None if lagna_sign is None else (sign.index - lagna_sign) % 12 + 1,
            "approximate": approximate,
        },
    )


def _nine(raw: RawPositions) -> list[tuple[float, float, float]]:
    """Sun..Rahu from the ephemeris, plus Ketu opposite Rahu (same speed, opposite latitude)."""
    rows = list(raw.bodies)
    r_lon, r_lat, r_speed = rows[7]
    rows.append((normalize(r_lon + 180.0), -r_lat, r_speed))
    return rows


def compute_chart(
    birth: BirthData | ResolvedBirth, settings: ChartSettings = DEFAULT_SETTINGS
) -> VedicChart:
    """Compute a chart. Raises ``EngineInputError`` subclasses for bad input."""
    resolved = birth if isinstance(birth, ResolvedBirth) else resolve_birth(birth)
    known = resolved.time_known
    raw = compute_positions(
        resolved.jd_ut,
        settings.ayanamsa,
        settings.node,
        latitude=resolved.latitude if known else None,
        longitude=resolved.longitude if known else None,
        placidus=settings.placidus and known,
    )
    rows = _nine(raw)
    warnings = list(resolved.warnings)

    approx = [False] * 9
    if not known:
        approx = _approximate_flags(resolved, settings, rows)
        names = ", ".join(b.value for b, a in zip(BODIES, approx, strict=True) if a)
        warnings.append(
            ChartWarning(
                code="approximate_positions",
                message=f"Without a birth time, sign, nakshatra, pada or D9 may differ within "
                f"the birth day for: {names}.",
            )
        )

    lagna = houses = placidus = None
    lagna_sign: int | None = None
    if raw.ascendant is not None:
        asc = raw.ascendant
        p = pada_index(asc)
        sign = SIGNS[p // 9]
        lagna_sign = sign.index
        lagna = construct(
            Lagna,
            {
                "longitude": asc,
                "sign": sign,
                "degree_in_sign": degree_in_sign(asc, sign),
                "nakshatra": NAKSHATRAS[p // 4],
                "pada": p % 4 + 1,
                "navamsa_sign": SIGNS[p % 12],
            },
        )
    bodies = tuple(
        _position(b, lon, lat, spd, lagna_sign, a)
        for b, (lon, lat, spd), a in zip(BODIES, rows, approx, strict=True)
    )
    if lagna_sign is not None:
        members: list[list[Body]] = [[] for _ in range(12)]
        for pos in bodies:
            members[(pos.sign.index - lagna_sign) % 12].append(pos.body)
        houses = tuple(
            construct(
                House,
                {"number": n + 1, "sign": SIGNS[(lagna_sign + n) % 12], "bodies": tuple(m)},
            )
            for n, m in enumerate(members)
        )
    if raw.placidus_cusps is not None and raw.midheaven is not None:
        placidus = PlacidusHouses.model_construct(
            cusps=tuple(
                Cusp.model_construct(
                    number=i + 1,
                    longitude=c,
                    sign=SIGNS[pada_index(c) // 9],
                    degree_in_sign=degree_in_sign(c, SIGNS[pada_index(c) // 9]),
                )
                for i, c in enumerate(raw.placidus_cusps)
            ),
            midheaven=raw.midheaven,
        )
    elif settings.placidus and known:
        warnings.append(
            ChartWarning(
                code="placidus_unavailable",
                message=f"Placidus cusps are undefined at latitude {resolved.latitude:.2f}° "
                f"(inside the polar circle) at this moment; only whole-sign houses are given "
                f"({raw.placidus_error}).",
            )
        )
    moon = bodies[1]
    dasha = None
    if settings.dasha_depth:
        dasha = vimshottari_dasha(
            moon.longitude,
            resolved.utc,
            year_length=settings.year_length,
            depth=settings.dasha_depth,
            approximate=not known,
        )
    return construct(
        VedicChart,
        {
            "birth": resolved,
            "settings": settings,
            "ephemeris": EPHEMERIS_NAME,
            "ayanamsa": raw.ayanamsa_true,
            "ayanamsa_mean": raw.ayanamsa_mean,
            "bodies": bodies,
            "moon_sign": moon.sign,
            "moon_nakshatra": moon.nakshatra,
            "moon_pada": moon.pada,
            "moon_approximate": moon.approximate,
            "lagna": lagna,
            "houses": houses,
            "placidus": placidus,
            "dasha": dasha,
            "warnings": tuple(warnings),
        },
    )


def _approximate_flags(
    resolved: ResolvedBirth, settings: ChartSettings, noon_rows: list[tuple[float, float, float]]
) -> list[bool]:
    """For an unknown time: does each body change pada (hence maybe sign/nakshatra/D9) between
    00:00 and 24:00 local time? The Moon always does (it moves 12-15° a day)."""
    day_start = resolved.jd_ut - _hours_since_midnight(resolved.local_time) / 24.0
    ends = [
        _nine(compute_positions(jd, settings.ayanamsa, settings.node))
        for jd in (day_start, day_start + 1.0)
    ]
    return [
        len({pada_index(ends[0][i][0]), pada_index(noon_rows[i][0]), pada_index(ends[1][i][0])}) > 1
        for i in range(9)
    ]


def _hours_since_midnight(t: dt.time) -> float:
    return t.hour + t.minute / 60.0 + t.second / 3600.0 + t.microsecond / 3.6e9
