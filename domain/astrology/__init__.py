"""Astrology engine: pure computation (no database, no network).

Public entry points: ``resolve_birth`` (birth data → UTC instant), ``compute_chart`` (Vedic
chart), ``vimshottari_dasha`` / ``running_dasha``, and the gazetteer ``search_places`` /
``resolve_place``. Conventions are documented in docs/astrology.md.
"""

from domain.astrology.birth_time import (
    BirthData,
    ChartWarning,
    OffsetSource,
    ResolvedBirth,
    format_offset,
    julian_day_ut,
    load_zone,
    local_mean_time_offset,
    parse_utc_offset,
    resolve_birth,
)
from domain.astrology.chart import (
    BodyPosition,
    ChartSettings,
    Cusp,
    House,
    Lagna,
    PlacidusHouses,
    VedicChart,
    compute_chart,
)
from domain.astrology.dasha import (
    DashaPeriod,
    RunningDasha,
    VimshottariDasha,
    YearLength,
    dasha_balance,
    running_dasha,
    vimshottari_dasha,
)
from domain.astrology.ephemeris import SWE_LOCK, Ayanamsa, NodeType, ayanamsa_value
from domain.astrology.errors import EngineInputError
from domain.astrology.places import Place, place_by_id, resolve_place, search_places, timezone_at
from domain.astrology.zodiac import (
    NAKSHATRAS,
    SIGNS,
    Body,
    NakshatraRef,
    SignRef,
    format_dms,
    nakshatra_of,
    navamsa_sign_of,
    sign_of,
)

__all__ = [
    "NAKSHATRAS",
    "SIGNS",
    "SWE_LOCK",
    "Ayanamsa",
    "BirthData",
    "Body",
    "BodyPosition",
    "ChartSettings",
    "ChartWarning",
    "Cusp",
    "DashaPeriod",
    "EngineInputError",
    "House",
    "Lagna",
    "NakshatraRef",
    "NodeType",
    "OffsetSource",
    "Place",
    "PlacidusHouses",
    "ResolvedBirth",
    "RunningDasha",
    "SignRef",
    "VedicChart",
    "VimshottariDasha",
    "YearLength",
    "ayanamsa_value",
    "compute_chart",
    "dasha_balance",
    "format_dms",
    "format_offset",
    "julian_day_ut",
    "load_zone",
    "local_mean_time_offset",
    "nakshatra_of",
    "navamsa_sign_of",
    "parse_utc_offset",
    "place_by_id",
    "resolve_birth",
    "resolve_place",
    "running_dasha",
    "search_places",
    "sign_of",
    "timezone_at",
    "vimshottari_dasha",
]
