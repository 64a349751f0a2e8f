"""Astrology and numerology: on-the-fly computations, places, birth profiles and their reports
and suggestions. The consultancy's texts and suggestion rules are in `astrology_content`.

Who may call: signed-in people of an active consultancy — its owner, consultants and staff,
and its clients. Clients see and manage only their own birth profiles; the consultancy's
people see every client's.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import or_, select
from starlette.concurrency import run_in_threadpool

from activities.documents.pdf import PdfUnavailableError
from activities.documents.renderer import pdf_from_template
from api.deps import CurrentTenant, Principal, Session, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import REPORT_UNAVAILABLE, VALIDATION, Problem, engine_problem
from api.schemas.astrology import (
    ChartOut,
    ChartRequest,
    Gender,
    LoShuConventionIn,
    LoShuOut,
    LoShuRequest,
    NumerologyOut,
    NumerologyRequest,
    PlaceOut,
    ProfileCreate,
    ProfileOut,
    ProfileUpdate,
    SuggestionsOut,
    TextLocale,
)
from api.services.astrology import (
    PAST_ORDERS,
    apply_chart,
    birth_data,
    caller_locale,
    caller_texts,
    chart_keys,
    chart_settings,
    engine_errors,
    engine_rule,
    load_profile,
    now_utc,
    profile_out,
    profile_owner,
    profiles_for,
    reader_zone,
    refresh_if_stale,
    resolved_birth,
    running_at,
    with_offerings,
)
from domain.astrology import EngineInputError, VedicChart, compute_chart, search_places
from domain.astrology.report import chart_report_context
from domain.astrology.suggestions import (
    OFFERING_KEY,
    SuggestionInput,
    add_months,
    evaluate,
    horizon_months,
    normalize_offering_key,
    transit_bodies,
)
from domain.astrology.transits import transit_outlook
from domain.numerology import (
    DriverRule,
    KuaYearStart,
    LetterSystem,
    LoShuGrid,
    NameMethod,
    YRule,
    conductor_number,
    driver_number,
    life_path,
    lo_shu_grid,
    name_numbers,
)
from models.astrology import BirthProfile, SuggestionRule
from models.platform import record_audit
from models.tenancy import Tenant

router = APIRouter(tags=["astrology"])

AtQuery = Annotated[dt.datetime | None, Query(description="instant for the running dasha (default: now)")]
LocaleQuery = Annotated[TextLocale | None, Query(description="language of the texts (default: the caller's)")]


def _aware(at: dt.datetime | None, field: str = "at") -> dt.datetime:
    if at is None:
        return now_utc()
    if at.tzinfo is None or at.utcoffset() is None:
        raise Problem(VALIDATION, f"{field}: give a UTC offset, e.g. 2026-01-01T00:00:00Z", field=field,
                      extra={"errors": [{"field": field, "message": "timezone-aware datetime required",
                                         "code": "timezone_aware"}]})
    return at.astimezone(dt.UTC)


async def _chart_out(session: Session, tenant: Tenant, principal: Principal, chart: VedicChart,
                     at: dt.datetime, locale: str | None) -> ChartOut:
    running = running_at(chart, at)
    keys = chart_keys(chart, running)
    texts = await caller_texts(session, tenant, keys, principal, locale)
    return ChartOut(chart=chart, running_dasha=running, keys=keys, texts=texts)


def _numerology(name: str, date: dt.date, *, system: LetterSystem, y_rule: YRule, method: NameMethod,
                masters: list[int] | None, life_path_masters: list[int] | None = None,
                life_path_method: str = "components") -> tuple[NumerologyOut, list[str]]:
    with engine_errors(""):
        names = name_numbers(name, system=system, y_rule=y_rule, method=method, masters=masters)
        lp = life_path(date, method=life_path_method,  # type: ignore[arg-type]
                       masters=tuple(life_path_masters) if life_path_masters is not None else (11, 22, 33))
    driver, conductor = driver_number(date), conductor_number(date)
    keys = [*names.keys, f"life_path:{lp.value}", f"driver:{driver.value}", f"conductor:{conductor.value}"]
    out = NumerologyOut(name_numbers=names, life_path=lp, driver=driver, conductor=conductor, keys=keys, texts={})
    return out, keys


# --- on the fly ------------------------------------------------------------------------------------


@router.post("/astrology/chart", response_model=ChartOut)
async def compute_chart_now(
    body: ChartRequest, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.USE_ASTROLOGY),
) -> ChartOut:
    """A Vedic chart from birth data: grahas, lagna, houses, D9, dasha and the running periods."""
    at = _aware(body.at)
    birth = birth_data(body.birth)
    with engine_errors():
        chart = compute_chart(birth, body.settings.to_engine())
    return await _chart_out(session, tenant, principal, chart, at, body.locale)


@router.post("/astrology/numerology", response_model=NumerologyOut)
async def compute_numerology(
    body: NumerologyRequest, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.USE_ASTROLOGY),
) -> NumerologyOut:
    """Name numbers (destiny, soul urge, personality), life path, driver and conductor."""
    out, keys = _numerology(body.name, body.date, system=body.system, y_rule=body.y_rule, method=body.method,
                            masters=list(body.masters) if body.masters is not None else None,
                            life_path_masters=list(body.life_path_masters),
                            life_path_method=body.life_path_method.value)
    out.texts = await caller_texts(session, tenant, keys, principal, body.locale)
    return out


@router.post("/astrology/lo-shu", response_model=LoShuOut)
async def compute_lo_shu(
    body: LoShuRequest, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.USE_ASTROLOGY),
) -> LoShuOut:
    """The Lo Shu grid of a birth date, with driver, conductor, Kua and planes."""
    with engine_errors(""):
        grid = lo_shu_grid(body.date, gender=body.gender, convention=body.convention.to_engine())
    texts = await caller_texts(session, tenant, grid.keys, principal, body.locale)
    return LoShuOut(grid=grid, keys=grid.keys, texts=texts)


@router.get("/astrology/places", response_model=list[PlaceOut])
async def find_places(
    q: Annotated[str, Query(min_length=1, max_length=100, description="name or its beginning")],
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO alpha-2 code")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    principal: Principal = require(Permission.USE_ASTROLOGY),
) -> list[PlaceOut]:
    """Places from the offline gazetteer: exact names, then alternate names, then prefixes."""
    found = await run_in_threadpool(search_places, q, country_code=country, limit=limit)
    return [PlaceOut.of(p) for p in found]


# --- birth profiles -------------------------------------------------------------------------------


@router.get("/birth-profiles", response_model=Page[ProfileOut])
async def list_birth_profiles(
    tenant: CurrentTenant, session: Session, paging: Paging,
    client_id: Annotated[UUID | None, Query(description="only this client's profiles")] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the name or label")] = None,
    principal: Principal = require(Permission.BIRTH_PROFILES),
) -> Page[ProfileOut]:
    stmt = profiles_for(principal, tenant.id)
    if client_id is not None:
        stmt = stmt.where(BirthProfile.client_id == client_id)
    if q:
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(or_(BirthProfile.full_name.ilike(pattern), BirthProfile.label.ilike(pattern)))
    rows, cursor = await paginate(
        session, stmt, paging,
        sortable={"created_at": BirthProfile.created_at, "full_name": BirthProfile.full_name,
                  "label": BirthProfile.label},
        default_sort="-created_at", id_column=BirthProfile.id,
    )
    now = now_utc()
    for row in rows:
        refresh_if_stale(row, now)
    await session.flush()
    return Page[ProfileOut](items=[profile_out(r) for r in rows], next_cursor=cursor)


@router.post("/birth-profiles", status_code=status.HTTP_201_CREATED, response_model=ProfileOut)
async def create_birth_profile(
    body: ProfileCreate, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.BIRTH_PROFILES),
) -> ProfileOut:
    """Store a person's birth data for a client, with the computed summary."""
    client_id = await profile_owner(session, principal, tenant.id, body.client_id)
    birth = birth_data(body.birth)
    settings = body.settings.to_engine()
    with engine_errors():
        chart = compute_chart(birth, settings)
    profile = BirthProfile(
        tenant_id=tenant.id, client_id=client_id, label=body.label, full_name=body.full_name, gender=body.gender,
        birth_date=body.birth.date, birth_input=body.birth.model_dump(mode="json", exclude_defaults=True),
        chart_settings=settings.model_dump(mode="json"),
    )
    apply_chart(profile, chart, now_utc())
    session.add(profile)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="birth_profile.created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="birth_profile", target_id=profile.id)
    await session.refresh(profile)
    return profile_out(profile)


@router.get("/birth-profiles/{profile_id}", response_model=ProfileOut)
async def read_birth_profile(
    profile_id: UUID, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.BIRTH_PROFILES),
) -> ProfileOut:
    profile = await load_profile(session, principal, tenant.id, profile_id)
    if refresh_if_stale(profile, now_utc()):
        await session.flush()
    return profile_out(profile)


@router.patch("/birth-profiles/{profile_id}", response_model=ProfileOut)
async def update_birth_profile(
    profile_id: UUID, body: ProfileUpdate, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.BIRTH_PROFILES),
) -> ProfileOut:
    """Change names or labels; new birth data or settings recompute the summary."""
    profile = await load_profile(session, principal, tenant.id, profile_id)
    changes = body.model_dump(exclude_unset=True)
    for name in ("label", "full_name", "gender"):
        if name in changes:
            if changes[name] is None and name != "gender":
                raise Problem(VALIDATION, f"{name}: may not be empty", field=name)
            setattr(profile, name, changes[name])
    if body.birth is not None or body.settings is not None:
        settings = (body.settings.to_engine() if body.settings is not None else chart_settings(profile))
        if body.birth is not None:
            birth = birth_data(body.birth)
            with engine_errors():
                chart = compute_chart(birth, settings)
            profile.birth_input = body.birth.model_dump(mode="json", exclude_defaults=True)
            profile.birth_date = body.birth.date
        else:
            chart = compute_chart(resolved_birth(profile), settings)
        profile.chart_settings = settings.model_dump(mode="json")
        apply_chart(profile, chart, now_utc())
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="birth_profile.updated", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="birth_profile", target_id=profile.id,
                       details={"fields": sorted(changes)})
    await session.refresh(profile)
    return profile_out(profile)


@router.delete("/birth-profiles/{profile_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_birth_profile(
    profile_id: UUID, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.BIRTH_PROFILES),
) -> None:
    profile = await load_profile(session, principal, tenant.id, profile_id)
    await session.delete(profile)
    await record_audit(session, tenant_id=tenant.id, action="birth_profile.deleted", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="birth_profile", target_id=profile_id)


async def _profile_chart(profile: BirthProfile) -> VedicChart:
    return compute_chart(resolved_birth(profile), chart_settings(profile))


@router.get("/birth-profiles/{profile_id}/chart", response_model=ChartOut)
async def birth_profile_chart(
    profile_id: UUID, tenant: CurrentTenant, session: Session, at: AtQuery = None, locale: LocaleQuery = None,
    principal: Principal = require(Permission.BIRTH_PROFILES),
) -> ChartOut:
    when = _aware(at)
    profile = await load_profile(session, principal, tenant.id, profile_id)
    return await _chart_out(session, tenant, principal, await _profile_chart(profile), when, locale)


@router.get("/birth-profiles/{profile_id}/numerology", response_model=NumerologyOut)
async def birth_profile_numerology(
    profile_id: UUID, tenant: CurrentTenant, session: Session,
    system: LetterSystem = LetterSystem.CHALDEAN, y_rule: YRule = YRule.NEVER, method: NameMethod = NameMethod.WHOLE,
    locale: LocaleQuery = None, principal: Principal = require(Permission.BIRTH_PROFILES),
) -> NumerologyOut:
    """Numerology of the profile's full name and birth date."""
    profile = await load_profile(session, principal, tenant.id, profile_id)
    out, keys = _numerology(profile.full_name, profile.birth_date, system=system, y_rule=y_rule, method=method,
                            masters=None)
    out.texts = await caller_texts(session, tenant, keys, principal, locale)
    return out


def _grid(profile: BirthProfile, convention: LoShuConventionIn | None = None) -> LoShuGrid:
    gender: Gender | None = profile.gender if profile.gender in ("male", "female") else None  # type: ignore[assignment]
    return lo_shu_grid(profile.birth_date, gender=gender,
                       convention=(convention or LoShuConventionIn()).to_engine())


@router.get("/birth-profiles/{profile_id}/lo-shu", response_model=LoShuOut)
async def birth_profile_lo_shu(
    profile_id: UUID, tenant: CurrentTenant, session: Session,
    driver: DriverRule = DriverRule.IF_TWO_DIGIT_DAY, conductor: bool = True, kua: bool = True,
    kua_year_start: KuaYearStart = KuaYearStart.FEB_4, locale: LocaleQuery = None,
    principal: Principal = require(Permission.BIRTH_PROFILES),
) -> LoShuOut:
    """Lo Shu grid of the profile's birth date (the Kua number needs the profile's gender)."""
    profile = await load_profile(session, principal, tenant.id, profile_id)
    grid = _grid(profile, LoShuConventionIn(driver=driver, conductor=conductor, kua=kua,
                                            kua_year_start=kua_year_start))
    texts = await caller_texts(session, tenant, grid.keys, principal, locale)
    return LoShuOut(grid=grid, keys=grid.keys, texts=texts)


@router.get("/birth-profiles/{profile_id}/report.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "the chart report"}})
async def birth_profile_report(
    profile_id: UUID, tenant: CurrentTenant, session: Session, locale: LocaleQuery = None,
    principal: Principal = require(Permission.BIRTH_PROFILES),
) -> Response:
    """The chart report as a PDF: both chart styles for D1 and D9, planets, dasha, Lo Shu, texts."""
    profile = await load_profile(session, principal, tenant.id, profile_id)
    chart = await _profile_chart(profile)
    now = now_utc()
    running = running_at(chart, now)
    grid = _grid(profile)
    keys = chart_keys(chart, running) + grid.keys
    texts = await caller_texts(session, tenant, keys, principal, locale)
    context = chart_report_context(chart, name=profile.full_name, label=profile.label, at=now, running=running,
                                   grid=grid, texts=texts, consultancy=tenant.name,
                                   zone=await reader_zone(session, profile, tenant, chart))
    try:
        pdf = await pdf_from_template("chart_report.html", context)
    except PdfUnavailableError as exc:
        raise Problem(REPORT_UNAVAILABLE, headers={"Retry-After": "60"}) from exc
    filename = "chart-" + "".join(c if c.isalnum() else "-" for c in profile.full_name.lower()).strip("-") + ".pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.get("/birth-profiles/{profile_id}/suggestions", response_model=SuggestionsOut)
async def birth_profile_suggestions(
    profile_id: UUID, tenant: CurrentTenant, session: Session, at: AtQuery = None, locale: LocaleQuery = None,
    ordered: Annotated[list[str] | None, Query(max_length=50, description="offering keys the client bought "
                                               "elsewhere (their paid orders here count anyway)")] = None,
    principal: Principal = require(Permission.BIRTH_PROFILES),
) -> SuggestionsOut:
    """What to offer next, by the consultancy's active rules, each with its reason and, for a rule that
    names an offering's id, that offering (title, price, where to book); an inactive offering is not
    suggested."""
    when = _aware(at)
    ordered = [normalize_offering_key(key) for key in ordered or []]
    for key in ordered:
        if not re.match(OFFERING_KEY, key):
            raise Problem(VALIDATION, f"ordered: {key!r} is not an offering key", field="ordered")
    profile = await load_profile(session, principal, tenant.id, profile_id)
    stored = (await session.execute(select(SuggestionRule).where(
        SuggestionRule.tenant_id == tenant.id, SuggestionRule.active.is_(True)))).scalars().all()
    rules = [engine_rule(r) for r in stored]
    chart = await _profile_chart(profile)
    running = running_at(chart, when)
    outlook = None
    bodies = transit_bodies(rules)
    if bodies:
        settings = chart_settings(profile)
        try:
            outlook = await run_in_threadpool(
                lambda: transit_outlook(chart.moon_sign, when, add_months(when, max(horizon_months(rules), 1)),
                                        bodies=bodies, ayanamsa=settings.ayanamsa, node=settings.node))
        except EngineInputError as exc:  # `at` (plus the horizon) outside the ephemeris
            raise engine_problem(exc, "at") from exc
    from_source = await PAST_ORDERS.offering_keys(session, tenant.id, profile.client_id)
    past = list(dict.fromkeys([*(ordered or []), *from_source]))
    data = SuggestionInput(at=when, running=running, transits=outlook, past_offerings=tuple(past))
    suggestions = await with_offerings(session, tenant.id, tenant.slug,
                                       evaluate(rules, data, locale=await caller_locale(session, principal, locale)))
    source = ", ".join(filter(None, ["caller" if ordered else "", f"orders source ({PAST_ORDERS.name})"]))
    return SuggestionsOut(at=when, moon_sign=chart.moon_sign.name, running_dasha=running, transits=outlook,
                          past_offerings=past, past_orders_source=source, suggestions=suggestions)
