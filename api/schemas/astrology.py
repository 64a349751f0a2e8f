"""Requests and responses of the astrology and numerology API.

Computed results are the engine's own models (domain/astrology, domain/numerology), returned as
they are; the request models here only gather the input and say what each field means.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.schemas.common import Name
from domain.astrology import (
    Ayanamsa,
    ChartSettings,
    NodeType,
    Place,
    RunningDasha,
    VedicChart,
    YearLength,
)
from domain.astrology.suggestions import OfferingKey as EngineOfferingKey
from domain.astrology.suggestions import Suggestion, When
from domain.astrology.transits import TransitOutlook
from domain.numerology import (
    DriverRule,
    KuaYearStart,
    LetterSystem,
    LifePathMethod,
    LoShuConvention,
    LoShuGrid,
    NameMethod,
    NameNumbers,
    Reduced,
    YRule,
)

TextLocale = Literal["en", "hi"]
Gender = Literal["male", "female"]
MasterNumber = Literal[11, 22, 33]
_KEY = re.compile(r"^[a-z0-9_]{1,40}(:[a-z0-9_]{1,40}){1,3}$")


def normalize_key(value: str) -> str:
    """`Nakshatra:Purva Phalguni` -> `nakshatra:purva_phalguni`."""
    key = "_".join(value.strip().lower().replace("-", "_").split())
    if not _KEY.match(key):
        raise ValueError("use a content key like driver:5, nakshatra:rohini or mahadasha:saturn "
                         "(letters, digits and _; 2 to 4 parts joined by ':')")
    return key


ContentKey = Annotated[str, AfterValidator(normalize_key)]
OfferingKey = Annotated[EngineOfferingKey, Field(
    description="what the rule suggests: an offering's id (GET /api/v1/offerings; it must be one of this "
                "consultancy's offerings), or, for something sold by key on staff-made orders, that key "
                "(lower-case letters, digits and _ . : -)")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- input ---------------------------------------------------------------------------------


class BirthIn(Strict):
    """Date, time and place of birth, and how to read the clock.

    Place: `latitude` + `longitude` (decimal degrees, east and north positive; the zone is
    found from them unless `timezone` is given), or a `geonameid`, or a `place_name` from the
    offline gazetteer (cities over 15,000 people; narrow with `country_code`).
    Time: `time` (local wall clock), or `time_unknown: true` (the chart is computed for local
    noon; lagna and houses are omitted and the Moon and dasha marked approximate).
    Offset: by default the tz database's history for that date; `utc_offset` ("+05:30")
    overrides it and `local_mean_time` uses the longitude's mean time instead. `fold` chooses
    the reading of a time inside a clock change ("earlier" = the offset before it).
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"date": "1990-05-17", "time": "14:25", "latitude": 28.6139, "longitude": 77.209}]})

    date: dt.date
    time: dt.time | None = Field(None, description="local wall-clock time, HH:MM or HH:MM:SS")
    time_unknown: bool = False
    latitude: float | None = Field(None, description="-90..90, north positive")
    longitude: float | None = Field(None, description="-180..180, east positive")
    timezone: str | None = Field(None, max_length=64, description="IANA zone, e.g. Asia/Kolkata")
    place_name: str | None = Field(None, min_length=1, max_length=200)
    country_code: str | None = Field(None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")
    geonameid: int | None = Field(None, ge=1)
    utc_offset: str | None = Field(None, max_length=16, description="explicit offset, e.g. +05:30 or +04:51")
    local_mean_time: bool = False
    fold: Literal["earlier", "later"] | None = None


class SettingsIn(Strict):
    ayanamsa: Ayanamsa = Ayanamsa.LAHIRI
    node: NodeType = NodeType.MEAN
    year_length: YearLength = YearLength.JULIAN
    dasha_depth: int = Field(2, ge=0, le=3, description="0 none, 1 maha, 2 antar, 3 pratyantar")
    placidus: bool = False

    def to_engine(self) -> ChartSettings:
        return ChartSettings(**self.model_dump())


class ChartRequest(Strict):
    birth: BirthIn
    settings: SettingsIn = Field(default_factory=SettingsIn)
    at: dt.datetime | None = Field(None, description="the instant for the running dasha (default: now)")
    locale: TextLocale | None = None


def _all_masters() -> list[MasterNumber]:
    return [11, 22, 33]


class NumerologyRequest(Strict):
    name: str = Field(min_length=1, max_length=200)
    date: dt.date
    system: LetterSystem = LetterSystem.CHALDEAN
    y_rule: YRule = YRule.NEVER
    method: NameMethod = NameMethod.WHOLE
    masters: list[MasterNumber] | None = Field(None, description="master numbers kept in name numbers "
                                                                 "(default: Pythagorean 11/22/33, Chaldean none)")
    life_path_method: LifePathMethod = LifePathMethod.COMPONENTS
    life_path_masters: list[MasterNumber] = Field(default_factory=_all_masters)
    locale: TextLocale | None = None


class LoShuConventionIn(Strict):
    driver: DriverRule = DriverRule.IF_TWO_DIGIT_DAY
    conductor: bool = True
    kua: bool = True
    kua_year_start: KuaYearStart = KuaYearStart.FEB_4

    def to_engine(self) -> LoShuConvention:
        return LoShuConvention(**self.model_dump())


class LoShuRequest(Strict):
    date: dt.date
    gender: Gender | None = Field(None, description="needed for the Kua number")
    convention: LoShuConventionIn = Field(default_factory=LoShuConventionIn)
    locale: TextLocale | None = None


# --- computed results ----------------------------------------------------------------------


class ChartOut(BaseModel):
    chart: VedicChart
    running_dasha: RunningDasha | None = Field(description="periods in force at `at` (none without a dasha "
                                                           "or outside the 120-year cycle)")
    keys: list[str] = Field(description="content keys of this result")
    texts: dict[str, str] = Field(description="the tenant's texts for those keys, where one exists")


class NumerologyOut(BaseModel):
    name_numbers: NameNumbers
    life_path: Reduced
    driver: Reduced
    conductor: Reduced
    keys: list[str]
    texts: dict[str, str]


class LoShuOut(BaseModel):
    grid: LoShuGrid
    keys: list[str]
    texts: dict[str, str]


class PlaceOut(BaseModel):
    geonameid: int
    name: str
    country_code: str
    admin1_code: str
    latitude: float
    longitude: float
    timezone: str
    population: int
    label: str

    @classmethod
    def of(cls, place: Place) -> PlaceOut:
        return cls(**place.model_dump(), label=place.label)


# --- birth profiles ------------------------------------------------------------------------

Label = Annotated[str, Field(min_length=1, max_length=100)]


class ProfileCreate(Strict):
    client_id: UUID | None = Field(None, description="whose profile: required for consultants and staff; "
                                                    "a client may omit it (their own)")
    label: Label = Field("Self", description="e.g. Self, Daughter, Father")
    full_name: Name
    gender: Gender | None = None
    birth: BirthIn
    settings: SettingsIn = Field(default_factory=SettingsIn)


class ProfileUpdate(Strict):
    label: Label | None = None
    full_name: Name | None = None
    gender: Gender | None = None
    birth: BirthIn | None = None
    settings: SettingsIn | None = None


class PeriodOut(BaseModel):
    lord: str
    start: dt.datetime
    end: dt.datetime


class ProfileSummary(BaseModel):
    time_known: bool
    birth_utc: dt.datetime
    place: str | None
    utc_offset: str
    offset_source: str
    offset_reason: str
    lagna_sign: str | None
    moon_sign: str
    nakshatra: str
    nakshatra_pada: int
    mahadasha: PeriodOut | None
    antardasha: PeriodOut | None
    warnings: list[dict[str, str]]
    computed_at: dt.datetime


class ProfileOut(BaseModel):
    id: UUID
    client_id: UUID
    label: str
    full_name: str
    gender: str | None
    birth: dict[str, Any]
    settings: dict[str, Any]
    summary: ProfileSummary
    created_at: dt.datetime
    updated_at: dt.datetime


# --- texts and rules -------------------------------------------------------------------------


class TextIn(Strict):
    text: str = Field(min_length=1, max_length=20000)


class TextOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    locale: str
    text: str
    updated_at: dt.datetime


class RuleIn(Strict):
    name: Name
    when: When = Field(description="dasha {mahadasha, antardasha} | transit {body, houses_from_moon, "
                                   "within_months, include_current} | past_order {any_of}")
    offering_key: OfferingKey
    reasons: dict[TextLocale, Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=dict, description="reason shown per locale; {placeholders} are filled from the facts")
    priority: int = Field(0, ge=-1000, le=1000)
    skip_if_ordered: bool = True
    active: bool = True


class RulePatch(Strict):
    name: Name | None = None
    when: When | None = None
    offering_key: OfferingKey | None = None
    reasons: dict[TextLocale, Annotated[str, Field(min_length=1, max_length=2000)]] | None = None
    priority: int | None = Field(None, ge=-1000, le=1000)
    skip_if_ordered: bool | None = None
    active: bool | None = None


class RuleOut(BaseModel):
    id: UUID
    name: str
    when: When
    offering_key: str
    reasons: dict[str, str]
    priority: int
    skip_if_ordered: bool
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class SuggestedOffering(BaseModel):
    """The offering a suggestion names, as the client would book it."""

    id: UUID
    title: str
    kind: str = Field(description="one_to_one or webinar")
    price_minor: int = Field(description="price in the currency's minor unit (paise)")
    currency: str
    consultant_slug: str
    slots_url: str = Field(description="where its free slots are listed: the public page's path "
                                       "(/api/v1/public/{tenant}/consultants/{consultant}/offerings/{id}/slots), "
                                       "or /api/v1/offerings/{id}/slots (signed in) when the consultant is not "
                                       "shown publicly")


class SuggestionOut(Suggestion):
    offering: SuggestedOffering | None = Field(description="the offering, when `offering_key` is an offering's "
                                                           "id; null for a plain key")


class SuggestionsOut(BaseModel):
    at: dt.datetime
    moon_sign: str
    running_dasha: RunningDasha | None
    transits: TransitOutlook | None
    past_offerings: list[str] = Field(description="offering keys the client bought: offering ids from paid "
                                                  "orders here, plus any `ordered` keys")
    past_orders_source: str = Field(description="where past orders came from: `caller` (the `ordered` "
                                                "parameter) and/or `orders source (paid orders)`, the client's "
                                                "paid orders in this consultancy")
    suggestions: list[SuggestionOut] = Field(description="by priority; a rule whose offering is no longer "
                                                         "active (or gone) suggests nothing")
