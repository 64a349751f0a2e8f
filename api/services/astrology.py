"""Astrology around the engine: birth input, profiles and their summary, texts, suggestions."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Principal
from api.problems import FORBIDDEN, NOT_FOUND, VALIDATION, Problem, engine_problem
from api.schemas.astrology import (
    BirthIn,
    PeriodOut,
    ProfileOut,
    ProfileSummary,
    RuleOut,
    SettingsIn,
    SuggestedOffering,
    SuggestionOut,
)
from domain.astrology import (
    BirthData,
    ChartSettings,
    EngineInputError,
    ResolvedBirth,
    RunningDasha,
    VedicChart,
    YearLength,
    parse_utc_offset,
    running_dasha,
)
from domain.astrology.suggestions import Rule, Suggestion, offering_id_of
from domain.payments.orders import LineStatus, OrderStatus
from domain.zones import zone_of
from models.astrology import BirthProfile, InterpretiveText, SuggestionRule
from models.base import utcnow
from models.bookings import Consultant, Offering
from models.identity import Role, User
from models.payments import Order, OrderLine
from models.tenancy import Tenant

#: Engine fields that belong to the birth object of a request.
BIRTH_FIELDS = frozenset({
    "date", "time", "latitude", "longitude", "timezone", "place_name", "country_code", "geonameid",
    "utc_offset", "local_mean_time", "fold", "time_unknown",
})
SETTINGS_FIELDS = frozenset({"ayanamsa", "node", "year_length", "dasha_depth", "placidus"})


def request_field(field: str | None, birth_prefix: str = "birth") -> str | None:
    """The request's path of an engine field: `latitude` -> `birth.latitude`."""
    if field is None:
        return None
    if field in BIRTH_FIELDS and birth_prefix:
        return f"{birth_prefix}.{field}"
    if field in SETTINGS_FIELDS:
        return f"settings.{field}"
    return field


@contextmanager
def engine_errors(birth_prefix: str = "birth") -> Iterator[None]:
    """Turn the engine's input errors into 422 problems naming the request's field."""
    try:
        yield
    except EngineInputError as exc:
        raise engine_problem(exc, request_field(exc.field, birth_prefix)) from exc


def _invalid(field: str, message: str) -> Problem:
    return Problem(VALIDATION, f"{field}: {message}", field=field,
                   extra={"errors": [{"field": field, "message": message, "code": "value_error"}]})


def birth_data(body: BirthIn, prefix: str = "birth") -> BirthData:
    """The engine's BirthData from the request (a missing time must be said to be unknown)."""
    if body.time is None and not body.time_unknown:
        raise _invalid(f"{prefix}.time", "give the time of birth, or set time_unknown to true")
    if body.time is not None and body.time_unknown:
        raise _invalid(f"{prefix}.time_unknown", "a time was given: leave time_unknown false, or drop the time")
    with engine_errors(prefix):
        offset = parse_utc_offset(body.utc_offset) if body.utc_offset is not None else None
    return BirthData(
        date=body.date, time=body.time, latitude=body.latitude, longitude=body.longitude,
        timezone=body.timezone, place_name=body.place_name, country_code=body.country_code,
        geonameid=body.geonameid, utc_offset=offset, local_mean_time=body.local_mean_time, fold=body.fold,
    )


def running_at(chart: VedicChart, at: dt.datetime) -> RunningDasha | None:
    if chart.dasha is None:
        return None
    try:
        return chart.dasha.running(at, depth=chart.dasha.depth)
    except EngineInputError:
        return None  # outside the 120-year cycle


# --- content keys and texts ------------------------------------------------------------------


def _slug(text: str) -> str:
    return "_".join(text.lower().replace("-", " ").split())


def chart_keys(chart: VedicChart, running: RunningDasha | None) -> list[str]:
    """The engine's keys plus `nakshatra:<moon's>`, `mahadasha:<lord>`, `antardasha:<maha>:<antar>`."""
    keys = list(chart.keys)
    keys.append(f"nakshatra:{_slug(chart.moon_nakshatra.name)}")
    if running is not None:
        keys.append(f"mahadasha:{running.mahadasha.lord.value}")
        if running.antardasha is not None:
            keys.append(f"antardasha:{running.mahadasha.lord.value}:{running.antardasha.lord.value}")
    return list(dict.fromkeys(keys))


# The caller's texts: their locale (`asked`, else their own 'hi…' or English) or English.
#
# Each API process keeps every tenant's texts in memory, keyed by the tenant's `texts_version`,
# which PostgreSQL bumps in the same transaction as any change to them (migration 2800). Every
# tenant request has its tenant's row already (api.deps.tenant_in_scope: read, or kept by
# api.tenant_directory, which drops a tenant when that bump is notified), so knowing whether the
# copy is current costs no round trip, in any process; a chart no longer queries its texts
# (docs/performance.md, sixth and tenth passes). A copy read in a transaction that began before
# a change may be newer than its version says, never older: the next request sees the new
# version and reads them again.
_ALL_TEXTS = select(InterpretiveText.key, InterpretiveText.locale, InterpretiveText.text).where(
    InterpretiveText.tenant_id == bindparam("tenant"))
_TEXTS_CACHE_TENANTS = 256


class TenantTexts:
    """One tenant's texts at one `texts_version`: {locale: {key: text}}."""

    __slots__ = ("by_locale", "version")

    def __init__(self, version: int, by_locale: dict[str, dict[str, str]]) -> None:
        self.version = version
        self.by_locale = by_locale

    @property
    def only_english(self) -> bool:
        return all(locale == "en" for locale in self.by_locale)


_texts_cache: OrderedDict[UUID, TenantTexts] = OrderedDict()


def forget_texts() -> None:
    """Drop every cached copy (tests)."""
    _texts_cache.clear()


async def tenant_texts(session: AsyncSession, tenant: Tenant) -> TenantTexts:
    cached = _texts_cache.get(tenant.id)
    if cached is not None and cached.version == tenant.texts_version:
        _texts_cache.move_to_end(tenant.id)
        return cached
    by_locale: dict[str, dict[str, str]] = {}
    for key, locale, text in (await session.execute(_ALL_TEXTS, {"tenant": tenant.id})).all():
        by_locale.setdefault(locale, {})[key] = text
    fresh = TenantTexts(tenant.texts_version, by_locale)
    _texts_cache[tenant.id] = fresh
    _texts_cache.move_to_end(tenant.id)
    while len(_texts_cache) > _TEXTS_CACHE_TENANTS:
        _texts_cache.popitem(last=False)
    return fresh


async def caller_texts(session: AsyncSession, tenant: Tenant, keys: Sequence[str], principal: Principal,
                       asked: str | None) -> dict[str, str]:
    """The tenant's text for each key that has one, in the caller's locale (`asked`, else
    `caller_locale`'s), else in English.

    From the process's copy of the tenant's texts (above); the caller's own locale is read only
    when it matters, i.e. when nothing was asked and the tenant has texts in another language."""
    if not keys:
        return {}
    texts = await tenant_texts(session, tenant)
    english = texts.by_locale.get("en", {})
    locale = asked or ("en" if texts.only_english else await caller_locale(session, principal, None))
    wanted = texts.by_locale.get(locale, {}) if locale != "en" else {}
    found: dict[str, str] = {}
    for key in keys:
        text = wanted.get(key, english.get(key))
        if text is not None:
            found[key] = text
    return found


async def caller_locale(session: AsyncSession, principal: Principal, asked: str | None) -> str:
    if asked:
        return asked
    locale = await session.scalar(select(User.locale).where(User.id == principal.user_id))
    return "hi" if (locale or "en").startswith("hi") else "en"


# --- birth profiles ----------------------------------------------------------------------------


def profiles_for(principal: Principal, tenant_id: UUID) -> Select[Any]:
    """The one readable statement for birth profiles: a client's own, or all of the tenant's."""
    stmt = select(BirthProfile).where(BirthProfile.tenant_id == tenant_id)
    if principal.role == Role.CLIENT:
        stmt = stmt.where(BirthProfile.client_id == principal.user_id)
    return stmt


async def load_profile(session: AsyncSession, principal: Principal, tenant_id: UUID, profile_id: UUID) -> BirthProfile:
    profile: BirthProfile | None = (await session.execute(
        profiles_for(principal, tenant_id).where(BirthProfile.id == profile_id))).scalar_one_or_none()
    if profile is None:
        raise Problem(NOT_FOUND, "no birth profile with this id", field="profile_id")
    return profile


async def profile_owner(session: AsyncSession, principal: Principal, tenant_id: UUID, client_id: UUID | None) -> UUID:
    """Whose profile a new one is: a client's own; for the tenant's people, a client they name."""
    if principal.role == Role.CLIENT:
        if client_id is not None and client_id != principal.user_id:
            raise Problem(FORBIDDEN, "clients keep birth profiles for their own account only", field="client_id")
        return principal.user_id
    if client_id is None:
        raise _invalid("client_id", "name the client whose birth profile this is")
    found = await session.scalar(select(User.id).where(User.id == client_id, User.tenant_id == tenant_id,
                                                       User.role == Role.CLIENT))
    if found is None:
        raise _invalid("client_id", "this consultancy has no client with this id")
    return client_id


def chart_settings(profile: BirthProfile) -> ChartSettings:
    return ChartSettings.model_validate(profile.chart_settings)


def resolved_birth(profile: BirthProfile) -> ResolvedBirth:
    return ResolvedBirth.model_validate(profile.resolved)


def apply_chart(profile: BirthProfile, chart: VedicChart, now: dt.datetime) -> None:
    """Store the resolved birth and the summary of a freshly computed chart."""
    b = chart.birth
    moon = chart.bodies[1]
    profile.resolved = b.model_dump(mode="json")
    profile.time_known = b.time_known
    profile.birth_utc = b.utc
    profile.place_label = (b.place.label if b.place else f"{b.latitude:.4f}, {b.longitude:.4f}"
                           + (f" ({b.timezone})" if b.timezone else ""))
    profile.utc_offset = b.utc_offset_text
    profile.offset_source = b.offset_source.value
    profile.lagna_sign = chart.lagna.sign.name if chart.lagna else None
    profile.moon_sign = chart.moon_sign.name
    profile.moon_longitude = moon.longitude
    profile.nakshatra = chart.moon_nakshatra.name
    profile.nakshatra_pada = chart.moon_pada
    profile.warnings = [w.model_dump() for w in chart.warnings]
    set_dasha(profile, now)


def set_dasha(profile: BirthProfile, now: dt.datetime) -> None:
    year_length = YearLength(profile.chart_settings.get("year_length", "julian"))
    try:
        running = running_dasha(profile.moon_longitude, profile.birth_utc, now, year_length=year_length, depth=2)
    except EngineInputError:
        running = None
    maha = running.mahadasha if running else None
    antar = running.antardasha if running else None
    profile.mahadasha_lord = maha.lord.value if maha else None
    profile.mahadasha_end = maha.end if maha else None
    profile.antardasha_lord = antar.lord.value if antar else None
    profile.antardasha_end = antar.end if antar else None
    profile.summary_computed_at = now


def refresh_if_stale(profile: BirthProfile, now: dt.datetime) -> bool:
    """Move the stored dasha on when the stored antardasha is over; True if it changed."""
    if profile.antardasha_end is not None and profile.antardasha_end <= now:
        set_dasha(profile, now)
        return True
    return False


def _period(lord: str | None, start: dt.datetime | None, end: dt.datetime | None) -> PeriodOut | None:
    if lord is None or start is None or end is None:
        return None
    return PeriodOut(lord=lord, start=start, end=end)


def profile_out(profile: BirthProfile) -> ProfileOut:
    resolved = profile.resolved
    running = None
    if profile.mahadasha_lord is not None:
        year_length = YearLength(profile.chart_settings.get("year_length", "julian"))
        try:
            running = running_dasha(profile.moon_longitude, profile.birth_utc, profile.summary_computed_at,
                                    year_length=year_length, depth=2)
        except EngineInputError:
            running = None
    maha = running.mahadasha if running else None
    antar = running.antardasha if running else None
    return ProfileOut(
        id=profile.id, client_id=profile.client_id, label=profile.label, full_name=profile.full_name,
        gender=profile.gender, birth=profile.birth_input, settings=profile.chart_settings,
        summary=ProfileSummary(
            time_known=profile.time_known, birth_utc=profile.birth_utc, place=profile.place_label,
            utc_offset=profile.utc_offset, offset_source=profile.offset_source,
            offset_reason=str(resolved.get("offset_reason", "")),
            lagna_sign=profile.lagna_sign, moon_sign=profile.moon_sign, nakshatra=profile.nakshatra,
            nakshatra_pada=profile.nakshatra_pada,
            mahadasha=_period(profile.mahadasha_lord, maha.start if maha else None, profile.mahadasha_end),
            antardasha=_period(profile.antardasha_lord, antar.start if antar else None, profile.antardasha_end),
            warnings=profile.warnings, computed_at=profile.summary_computed_at,
        ),
        created_at=profile.created_at, updated_at=profile.updated_at,
    )


async def reader_zone(session: AsyncSession, profile: BirthProfile, tenant: Tenant, chart: VedicChart) -> str:
    """The zone a profile's report is read in: its client's, else the consultancy's, else the birth's."""
    client = await session.get(User, profile.client_id)
    fallback = chart.birth.timezone or "UTC"
    return zone_of(client, tenant, fallback) if client is not None else tenant.timezone or fallback


def settings_in(profile: BirthProfile) -> SettingsIn:
    return SettingsIn.model_validate(profile.chart_settings)


def now_utc() -> dt.datetime:
    return utcnow()


# --- suggestion rules and past orders ------------------------------------------------------------


def rule_out(rule: SuggestionRule) -> RuleOut:
    return RuleOut.model_validate({
        "id": rule.id, "name": rule.name, "when": rule.condition, "offering_key": rule.offering_key,
        "reasons": rule.reasons, "priority": rule.priority, "skip_if_ordered": rule.skip_if_ordered,
        "active": rule.active, "created_at": rule.created_at, "updated_at": rule.updated_at,
    })


def engine_rule(rule: SuggestionRule) -> Rule:
    return Rule.model_validate({
        "id": str(rule.id), "when": rule.condition, "offering_key": rule.offering_key, "reasons": rule.reasons,
        "priority": rule.priority, "skip_if_ordered": rule.skip_if_ordered,
    })


async def check_offering_key(session: AsyncSession, tenant_id: UUID, key: str) -> None:
    """An offering key that is an id must name one of the tenant's offerings (422 on `offering_key`)."""
    offering_id = offering_id_of(key)
    if offering_id is None:
        return
    found = await session.scalar(select(Offering.id).where(Offering.tenant_id == tenant_id,
                                                           Offering.id == offering_id))
    if found is None:
        raise _invalid("offering_key", "this consultancy has no offering with this id; use an id from "
                                       "GET /api/v1/offerings, or a key of your own (not an id) for something "
                                       "sold by key on staff-made orders")


def slots_path(tenant_slug: str, consultant: Consultant, offering_id: UUID) -> str:
    """Where an offering's free slots are listed: the public page, or signed in for a non-public consultant."""
    if consultant.is_public:
        return f"/api/v1/public/{tenant_slug}/consultants/{consultant.slug}/offerings/{offering_id}/slots"
    return f"/api/v1/offerings/{offering_id}/slots"


async def with_offerings(session: AsyncSession, tenant_id: UUID, tenant_slug: str,
                         suggestions: Sequence[Suggestion]) -> list[SuggestionOut]:
    """Each suggestion with the active offering its key names (one query); a suggestion naming an
    offering that is inactive or gone is dropped, one with a plain key gets `offering: null`."""
    ids = {i for s in suggestions if (i := offering_id_of(s.offering_key)) is not None}
    found: dict[UUID, SuggestedOffering] = {}
    if ids:
        rows = await session.execute(
            select(Offering, Consultant).join(Consultant, Consultant.id == Offering.consultant_id)
            .where(Offering.tenant_id == tenant_id, Offering.id.in_(ids), Offering.is_active.is_(True)))
        for offering, consultant in rows:
            found[offering.id] = SuggestedOffering(
                id=offering.id, title=offering.title, kind=offering.kind.value, price_minor=offering.price_minor,
                currency=offering.currency, consultant_slug=consultant.slug,
                slots_url=slots_path(tenant_slug, consultant, offering.id))
    out: list[SuggestionOut] = []
    for suggestion in suggestions:
        offering_id = offering_id_of(suggestion.offering_key)
        if offering_id is not None and offering_id not in found:
            continue
        shown = found[offering_id] if offering_id is not None else None
        out.append(SuggestionOut(**suggestion.model_dump(), offering=shown))
    return out


class PastOrdersSource(Protocol):
    """Where the offering keys a client bought before come from."""

    name: str

    async def offering_keys(self, session: AsyncSession, tenant_id: UUID, client_id: UUID) -> list[str]: ...


# Orders in these statuses were paid for and not given back; a released or failed line was not had.
_BOUGHT = (OrderStatus.PAID, OrderStatus.AWAITING_FULFILMENT, OrderStatus.FULFILLED)
_NOT_HAD = (LineStatus.RELEASED, LineStatus.FAILED)


class PaidOrderLines:
    """The offerings on the client's paid orders: what they bought (line `offering_id`).

    Bookings put the offering's id there; staff-made orders the key they chose. Expired,
    cancelled and refunded orders do not count."""

    name = "paid orders"

    async def offering_keys(self, session: AsyncSession, tenant_id: UUID, client_id: UUID) -> list[str]:
        rows = await session.execute(
            select(OrderLine.offering_id).join(Order, Order.id == OrderLine.order_id)
            .where(Order.tenant_id == tenant_id, Order.client_id == client_id,
                   Order.status.in_([s.value for s in _BOUGHT]), OrderLine.offering_id.is_not(None),
                   OrderLine.status.not_in([s.value for s in _NOT_HAD]))
            .group_by(OrderLine.offering_id).order_by(func.min(Order.created_at)))
        return [key for key in rows.scalars() if key]


PAST_ORDERS: PastOrdersSource = PaidOrderLines()


def dump(value: Any) -> Any:
    """JSON-ready form of a pydantic model (for audit details)."""
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value
