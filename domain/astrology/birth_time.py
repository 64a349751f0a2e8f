"""Birth data → the UTC instant of birth, with the offset used and why.

Local civil time is turned into UTC by one of three rules, reported as data:

* ``tz_database`` (default): the IANA tz database history for the zone at that date, read from
  the ``tzdata`` package (not the host's /usr/share/zoneinfo, so results do not depend on the
  machine). Spring-forward gaps and fall-back overlaps are errors unless ``fold`` says which
  offset is meant.
* ``explicit``: the caller gives the UTC offset (e.g. from the birth certificate's time system).
* ``local_mean_time``: offset = longitude * 4 minutes, for births before standard time.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Final, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from domain.astrology.errors import (
    AmbiguousLocalTimeError,
    ConflictingOptionsError,
    DateOutOfRangeError,
    InvalidUtcOffsetError,
    NonexistentLocalTimeError,
    PlaceRequiredError,
    UnknownTimezoneError,
)
from domain.astrology.places import (
    Place,
    check_coordinates,
    place_by_id,
    resolve_place,
    timezone_at,
)

#: Supported local dates. The Moshier ephemeris covers 3000 BC - 3000 AD; we keep to years
#: Python's datetime can hold with a margin, and to a period where birth records exist.
MIN_DATE: Final = dt.date(1000, 1, 1)
MAX_DATE: Final = dt.date(2999, 12, 31)
MAX_ABS_OFFSET: Final = dt.timedelta(hours=18)
GREGORIAN_START: Final = dt.date(1582, 10, 15)
UNKNOWN_TIME_NOON: Final = dt.time(12, 0)

_UNIX_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_JD_UNIX_EPOCH: Final = 2440587.5

FoldChoice = Literal[0, 1, "earlier", "later"]


class OffsetSource(StrEnum):
    TZ_DATABASE = "tz_database"
    EXPLICIT = "explicit"
    LOCAL_MEAN_TIME = "local_mean_time"


class ChartWarning(BaseModel):
    """A caveat attached to a result; ``code`` is stable, ``message`` is for people."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class BirthData(BaseModel):
    """What the client tells us. Give coordinates, a ``geonameid`` or a ``place_name``.

    ``time=None`` means the time of birth is unknown. ``fold`` picks the offset for a local time
    that falls in a clock change: 0/"earlier" = the offset in force before the transition,
    1/"later" = the offset after it (PEP 495 semantics, for both gaps and overlaps).
    """

    model_config = ConfigDict(frozen=True)

    date: dt.date
    time: dt.time | None = None
    latitude: float | None = None
    longitude: float | None = None
    timezone: str | None = None
    place_name: str | None = None
    country_code: str | None = None
    geonameid: int | None = None
    utc_offset: dt.timedelta | None = None
    local_mean_time: bool = False
    fold: FoldChoice | None = None


class ResolvedBirth(BaseModel):
    """The birth instant, and everything that went into it."""

    model_config = ConfigDict(frozen=True)

    local_date: dt.date
    local_time: dt.time
    time_known: bool
    latitude: float
    longitude: float
    place: Place | None
    timezone: str | None
    utc_offset: dt.timedelta
    utc_offset_text: str
    offset_source: OffsetSource
    offset_reason: str
    tz_abbreviation: str | None
    dst: dt.timedelta | None
    fold: int | None
    tzdata_version: str | None
    utc: dt.datetime
    jd_ut: float
    warnings: tuple[ChartWarning, ...]


def format_offset(offset: dt.timedelta) -> str:
    """``+05:30``; seconds appear when present (``+05:53:28``), rounded to whole seconds."""
    total = round(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    h, rem = divmod(abs(total), 3600)
    m, s = divmod(rem, 60)
    return f"{sign}{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


_OFFSET_RE: Final = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$")


def parse_utc_offset(text: str) -> dt.timedelta:
    """``+05:30``, ``-0800``, ``UTC+5``, ``+05:53:28`` → timedelta."""
    m = _OFFSET_RE.match(text.strip().upper())
    if not m:
        raise InvalidUtcOffsetError(
            f"{text!r} is not a UTC offset like +05:30.", field="utc_offset"
        )
    sign, h, mi, s = m.groups()
    if int(mi or 0) > 59 or int(s or 0) > 59:
        raise InvalidUtcOffsetError(f"{text!r}: minutes and seconds go to 59.", field="utc_offset")
    delta = dt.timedelta(hours=int(h), minutes=int(mi or 0), seconds=int(s or 0))
    return -delta if sign == "-" else delta


def local_mean_time_offset(longitude: float) -> dt.timedelta:
    """Offset of local mean time: 4 minutes of time per degree of longitude east."""
    return dt.timedelta(seconds=longitude * 240.0)


def julian_day_ut(utc: dt.datetime) -> float:
    """Julian day (UT) of an aware instant, proleptic Gregorian calendar like ``swe.julday``."""
    return _JD_UNIX_EPOCH + (utc - _UNIX_EPOCH) / dt.timedelta(days=1)


# --- the tz database, from the tzdata package -------------------------------------------------


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    text = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return {line.strip().casefold(): line.strip() for line in text.splitlines() if line.strip()}


@lru_cache(maxsize=1)
def tzdata_version() -> str:
    import tzdata

    return str(getattr(tzdata, "IANA_VERSION", "unknown"))


_zone_lock = threading.Lock()


@lru_cache(maxsize=1024)
def _load_zone(canonical: str) -> ZoneInfo:
    path = resources.files("tzdata.zoneinfo").joinpath(*canonical.split("/"))
    with _zone_lock, path.open("rb") as fh:
        return ZoneInfo.from_file(fh, key=canonical)


def load_zone(name: str) -> ZoneInfo:
    """A ZoneInfo built from the ``tzdata`` package; the name is matched case-insensitively."""
    canonical = _zone_names().get(name.strip().casefold())
    if canonical is None:
        raise UnknownTimezoneError(f"{name!r} is not an IANA time zone.", field="timezone")
    return _load_zone(canonical)


def _fold_value(fold: FoldChoice | None) -> int | None:
    if fold is None:
        return None
    if fold in (0, "earlier"):
        return 0
    return 1


# --- resolution ---------------------------------------------------------------------------


def _coordinates(birth: BirthData) -> tuple[float, float, Place | None]:
    if birth.latitude is not None and birth.longitude is not None:
        check_coordinates(birth.latitude, birth.longitude)
        return birth.latitude, birth.longitude, None
    if (birth.latitude is None) != (birth.longitude is None):
        missing = "longitude" if birth.longitude is None else "latitude"
        raise PlaceRequiredError("Give both latitude and longitude.", field=missing)
    if birth.geonameid is not None:
        place = place_by_id(birth.geonameid)
    elif birth.place_name:
        place = resolve_place(birth.place_name, country_code=birth.country_code)
    else:
        raise PlaceRequiredError(
            "Give the place of birth: coordinates, a geonameid or a place name.",
            field="place_name",
        )
    return place.latitude, place.longitude, place


def _check_date(d: dt.date) -> None:
    if not (MIN_DATE <= d <= MAX_DATE):
        raise DateOutOfRangeError(
            f"{d.isoformat()} is outside the supported range "
            f"{MIN_DATE.isoformat()}..{MAX_DATE.isoformat()}.",
            field="date",
            details={"min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()},
        )


def _candidate(naive: dt.datetime, offset: dt.timedelta, fold: int) -> dict[str, str | int]:
    utc = (naive - offset).replace(tzinfo=dt.UTC)
    return {"fold": fold, "utc_offset": format_offset(offset), "utc": utc.isoformat()}


def resolve_birth(birth: BirthData) -> ResolvedBirth:
    """Resolve place, zone and offset; raise an ``EngineInputError`` on bad input."""
    _check_date(birth.date)
    latitude, longitude, place = _coordinates(birth)
    if birth.time is not None and birth.time.tzinfo is not None:
        raise ConflictingOptionsError(
            "Give the local wall-clock time without a zone; use utc_offset for a fixed offset.",
            field="time",
        )
    if birth.utc_offset is not None and birth.local_mean_time:
        raise ConflictingOptionsError(
            "Choose either an explicit UTC offset or local mean time, not both.",
            field="utc_offset",
        )
    warnings: list[ChartWarning] = []
    time_known = birth.time is not None
    local_time = birth.time if birth.time is not None else UNKNOWN_TIME_NOON
    if not time_known:
        warnings.append(
            ChartWarning(
                code="time_unknown",
                message="Birth time unknown: computed for local noon. Lagna, houses, the D9 "
                "lagna and cusps are omitted; the Moon and the dasha are approximate.",
            )
        )
    if birth.date < GREGORIAN_START:
        warnings.append(
            ChartWarning(
                code="proleptic_gregorian",
                message="Dates before 1582-10-15 are read in the proleptic Gregorian calendar; "
                "convert a Julian-calendar date first.",
            )
        )
    naive = dt.datetime.combine(birth.date, local_time)
    zone_name = birth.timezone or (place.timezone if place else None)
    abbreviation: str | None = None
    dst: dt.timedelta | None = None
    applied_fold: int | None = None
    version: str | None = None

    if birth.utc_offset is not None:
        offset = birth.utc_offset
        if abs(offset) >= MAX_ABS_OFFSET:
            raise InvalidUtcOffsetError(
                f"UTC offset {format_offset(offset)} is beyond ±18:00.", field="utc_offset"
            )
        source = OffsetSource.EXPLICIT
        reason = f"UTC offset {format_offset(offset)} given by the caller."
        if zone_name is not None:
            zone_name = load_zone(zone_name).key
    elif birth.local_mean_time:
        offset = local_mean_time_offset(longitude)
        source = OffsetSource.LOCAL_MEAN_TIME
        reason = (
            f"Local mean time at longitude {longitude:.4f}° (4 min per degree): "
            f"{format_offset(offset)}."
        )
        if zone_name is not None:
            zone_name = load_zone(zone_name).key
    else:
        if zone_name is None:
            zone_name = timezone_at(latitude, longitude)
        zone = load_zone(zone_name)
        zone_name = zone.key
        version = tzdata_version()
        first = naive.replace(tzinfo=zone, fold=0)
        second = naive.replace(tzinfo=zone, fold=1)
        off0, off1 = first.utcoffset(), second.utcoffset()
        assert off0 is not None
        assert off1 is not None
        wanted = _fold_value(birth.fold)
        if off0 == off1:
            chosen = first
        else:
            overlap = off0 > off1
            if wanted is None and not time_known:
                wanted = 0
                warnings.append(
                    ChartWarning(
                        code="noon_in_clock_change",
                        message="Local noon falls in a clock change; the earlier offset is used.",
                    )
                )
            if wanted is None:
                cands = [_candidate(naive, off0, 0), _candidate(naive, off1, 1)]
                if overlap:
                    raise AmbiguousLocalTimeError(
                        f"{naive.isoformat(sep=' ')} happened twice in {zone_name} (clocks went "
                        f"back from {format_offset(off0)} to {format_offset(off1)}); say which "
                        "one with fold 0/'earlier' or 1/'later'.",
                        field="time",
                        details={"candidates": cands},
                    )
                raise NonexistentLocalTimeError(
                    f"{naive.isoformat(sep=' ')} did not exist in {zone_name} (clocks jumped "
                    f"from {format_offset(off0)} to {format_offset(off1)}); check the time, or "
                    "give fold 0/'earlier' (offset before the change) or 1/'later' (after).",
                    field="time",
                    details={"candidates": cands},
                )
            chosen = second if wanted == 1 else first
            applied_fold = wanted
            if not overlap and time_known:
                warnings.append(
                    ChartWarning(
                        code="nonexistent_time_resolved",
                        message="The local time falls in a spring-forward gap; it was read with "
                        f"the offset {'after' if wanted else 'before'} the change, as asked.",
                    )
                )
        off = chosen.utcoffset()
        assert off is not None
        offset = off
        abbreviation = chosen.tzname()
        dst = chosen.dst()
        source = OffsetSource.TZ_DATABASE
        reason = (
            f"tz database {version}, zone {zone_name}: {abbreviation} "
            f"{format_offset(offset)} on {birth.date.isoformat()}."
        )
        warnings.extend(_tz_caveats(zone_name, birth.date, abbreviation, longitude, offset))

    utc = (naive - offset).replace(tzinfo=dt.UTC)
    return ResolvedBirth(
        local_date=birth.date,
        local_time=local_time,
        time_known=time_known,
        latitude=latitude,
        longitude=longitude,
        place=place,
        timezone=zone_name,
        utc_offset=offset,
        utc_offset_text=format_offset(offset),
        offset_source=source,
        offset_reason=reason,
        tz_abbreviation=abbreviation,
        dst=dst,
        fold=applied_fold,
        tzdata_version=version,
        utc=utc,
        jd_ut=julian_day_ut(utc),
        warnings=tuple(warnings),
    )


_INDIA_ZONES: Final = frozenset({"Asia/Kolkata", "Asia/Calcutta"})


def _tz_caveats(
    zone: str, date: dt.date, abbreviation: str | None, longitude: float, offset: dt.timedelta
) -> list[ChartWarning]:
    out: list[ChartWarning] = []
    if abbreviation == "LMT":
        out.append(
            ChartWarning(
                code="tz_reference_lmt",
                message=f"For this date the tz database gives the local mean time of {zone}'s "
                f"reference city ({format_offset(offset)}), not of the birth place; set "
                "local_mean_time for the birth place's own LMT "
                f"({format_offset(local_mean_time_offset(longitude))}).",
            )
        )
    elif zone in _INDIA_ZONES and date < dt.date(1955, 1, 1):
        out.append(
            ChartWarning(
                code="india_local_times",
                message="Before 1955 parts of India kept their own clocks (Bombay Time "
                "+04:51 until 1955, Calcutta Time +05:53:20 until 1948) which the tz database "
                "does not model; check which time the record uses and pass utc_offset if "
                "needed.",
            )
        )
    elif date.year < 1970:
        out.append(
            ChartWarning(
                code="tz_history_pre_1970",
                message="Offsets before 1970 come from the tz database's historical notes; "
                "verify the clock in use at the birth place if the record allows.",
            )
        )
    return out
