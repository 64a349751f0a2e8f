"""/remedy-programmes: a remedy assigned to a client, steered by the client and the consultancy.

Each programme is a RemedyWorkflow (`remedy-<id>`). Assigning writes the row and starts the
workflow after the commit; reads come from the row (for staff with the live workflow's state);
check-ins, pause, resume, extend, new times and stop are validated Updates answered once the
workflow has written the change (the next reminder moves at once). `/remedy-links/<token>` is
the signed link a reminder carries: the client checks in on that occurrence without signing in.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import ColumnElement, desc, literal_column, or_, select
from temporalio.service import RPCError

from api.deps import CurrentTenant, Principal, Session, State, Temporal, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import FORBIDDEN, INVALID_LINK, NOT_FOUND, TOKEN_EXPIRED_OR_USED, VALIDATION, Problem
from api.schemas.remedies import (
    CheckInBody,
    CheckInOut,
    CheckInResult,
    ExtendBody,
    LinkCheckInBody,
    LinkView,
    PauseBody,
    ProgrammeCreate,
    ProgrammeOut,
    ProgrammeView,
    ResumeBody,
    StopBody,
    TimesBody,
    TodayView,
)
from api.services.remedies import (
    is_staff,
    person,
    place_of,
    plan_for,
    programme_out,
    programmes_of,
    refuse_quiet_times,
    run_update,
    today_view,
    visible_programme,
    visible_remedy,
    zone_for,
)
from api.workflow_starts import start_after_commit
from core.logging import request_id_var
from core.signing import LinkError, verify
from domain.notification_templates import language_of
from domain.remedies.programme import (
    REMEDY_WORKFLOW,
    REMINDER_LEAD_SECONDS,
    ChangeTimes,
    CheckIn,
    CheckInAnswer,
    Extend,
    Pause,
    ProgrammeSource,
    ProgrammeStatus,
    RemedyInput,
    RemedyState,
    Resume,
    Stop,
    remedy_workflow_id,
    summary,
)
from domain.remedies.schedule import next_occurrence
from models.bookings import Booking
from models.identity import Role, User
from models.platform import record_audit
from models.remedies import Remedy, RemedyCheckIn, RemedyProgramme

log = logging.getLogger(__name__)
CHECK_IN_LINK = "remedy-check-in"   # activities.remedies.messages signs it

router = APIRouter(prefix="/remedy-programmes", tags=["remedy programmes"])
links = APIRouter(prefix="/remedy-links", tags=["remedy programmes"])
CONSULTANT_ROLES = (Role.OWNER, Role.CONSULTANT)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProgrammeOut)
async def assign(body: ProgrammeCreate, request: Request, tenant: CurrentTenant, session: Session, state: State,
                 principal: Principal = require(Permission.MANAGE_REMEDIES)) -> ProgrammeOut:
    """Assign a remedy to a client: its default schedule and length unless given, in the client's zone
    from today (their local date). Times inside the client's quiet hours are refused (reminders would
    wait them out). Tithi schedules are computed at the birth profile's place."""
    remedy = await visible_remedy(session, tenant.id, principal, body.remedy_id)
    if not remedy.active:
        raise Problem(VALIDATION, "this remedy is retired; choose one the consultancy offers", field="remedy_id")
    client = await person(session, tenant.id, body.client_id, (Role.CLIENT,), "client_id", "client")
    consultant_id = body.consultant_id
    if consultant_id is not None:
        await person(session, tenant.id, consultant_id, CONSULTANT_ROLES, "consultant_id", "consultant")
    elif principal.role in CONSULTANT_ROLES:
        consultant_id = principal.user_id
    if body.booking_id is not None:
        booking = await session.get(Booking, body.booking_id)
        if booking is None or booking.tenant_id != tenant.id or booking.client_id != client.id:
            raise Problem(NOT_FOUND, "this client has no booking with this id", field="booking_id")
    elif body.source == ProgrammeSource.CONSULTATION:
        raise Problem(VALIDATION, "a programme from a consultation names its booking", field="booking_id")
    zone = zone_for(body.timezone, client, tenant)
    today = datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
    start = body.start_date or today
    if start < today:
        raise Problem(VALIDATION, f"start_date: the client's today is {today}; start then or later",
                      field="start_date")
    profile, place = await place_of(session, client, body.birth_profile_id)
    plan = plan_for(remedy, schedule=body.schedule, zone=zone, start=start, duration_days=body.duration_days,
                    occurrences=body.occurrences, place=place)
    await refuse_quiet_times(session, client, plan.schedule.times, "schedule.times")
    programme_id = uuid.uuid4()
    workflow_id = remedy_workflow_id(programme_id)
    first = next_occurrence(plan, datetime.now(UTC))   # shown at once; the workflow keeps it from then on
    programme = RemedyProgramme(
        id=programme_id, tenant_id=tenant.id, remedy_id=remedy.id, client_id=client.id,
        birth_profile_id=profile.id if profile else None, consultant_id=consultant_id, source=body.source.value,
        booking_id=body.booking_id, title=remedy.title, note=body.note, status=ProgrammeStatus.ACTIVE.value,
        plan=plan.model_dump(mode="json"), timezone=zone, start_date=start, end_date=plan.end_date,
        workflow_id=workflow_id, counted=0, done=0, skipped=0, missed=0, streak=0, best_streak=0,
        assigned_by=principal.user_id, next_occurrence_at=first.at if first else None,
        next_occurrence_key=first.key if first else None)
    session.add(programme)
    await session.flush()
    inp = RemedyInput(programme_id=programme_id, tenant_id=tenant.id, client_id=client.id,
                      consultant_id=consultant_id, plan=plan, source=body.source,
                      reminder_lead_seconds=REMINDER_LEAD_SECONDS)
    attributes = {"TenantId": str(tenant.id), "ClientId": str(client.id), "EntityStatus": "active"}
    if consultant_id is not None:
        attributes["ConsultantId"] = str(consultant_id)
    await start_after_commit(request, session, state, workflow_type=REMEDY_WORKFLOW, workflow_id=workflow_id,
                             payload=inp, tenant_id=tenant.id, search_attributes=attributes,
                             memo={"summary": summary(RemedyState(programme_id=programme_id, client_id=client.id,
                                                                  plan=plan))})
    await record_audit(session, tenant_id=tenant.id, action="remedy.assigned", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="remedy_programme", target_id=programme_id,
                       details={"remedy_id": str(remedy.id), "source": body.source.value})
    await session.refresh(programme)
    return programme_out(programme)


@router.get("", response_model=Page[ProgrammeOut])
async def list_programmes(
    tenant: CurrentTenant, session: Session, paging: Paging,
    client_id: Annotated[UUID | None, Query()] = None,
    consultant_id: Annotated[UUID | None, Query(description="the consultant's user id")] = None,
    remedy_id: Annotated[UUID | None, Query()] = None,
    status_: Annotated[ProgrammeStatus | None, Query(alias="status")] = None,
    due_today: Annotated[bool, Query(description="only those with an occurrence still to come or open today, "
                                                 "on each programme's own local date")] = False,
    principal: Principal = require(Permission.FOLLOW_REMEDIES),
) -> Page[ProgrammeOut]:
    """Staff: the consultancy's programmes; a client: their own. Sortable by `created_at`,
    `next_occurrence_at`."""
    stmt = programmes_of(tenant.id, principal)
    if client_id is not None:
        stmt = stmt.where(RemedyProgramme.client_id == client_id)
    if consultant_id is not None:
        stmt = stmt.where(RemedyProgramme.consultant_id == consultant_id)
    if remedy_id is not None:
        stmt = stmt.where(RemedyProgramme.remedy_id == remedy_id)
    if status_ is not None:
        stmt = stmt.where(RemedyProgramme.status == status_.value)
    if due_today:
        # the end of today where each programme's client lives (PostgreSQL does the zone arithmetic)
        end_of_day: ColumnElement[datetime] = literal_column(
            "((date_trunc('day', now() AT TIME ZONE remedy_programmes.timezone) + interval '1 day') "
            "AT TIME ZONE remedy_programmes.timezone)")
        stmt = stmt.where(RemedyProgramme.status == ProgrammeStatus.ACTIVE.value, or_(
            RemedyProgramme.open_occurrence_key.is_not(None), RemedyProgramme.next_occurrence_at < end_of_day))
    rows, cursor = await paginate(session, stmt, paging,
                                  sortable={"created_at": RemedyProgramme.created_at,
                                            "next_occurrence_at": RemedyProgramme.next_occurrence_at},
                                  default_sort="created_at", id_column=RemedyProgramme.id)
    return Page[ProgrammeOut](items=[programme_out(r) for r in rows], next_cursor=cursor)


@router.get("/today", response_model=TodayView)
async def today(
    tenant: CurrentTenant, session: Session,
    client_id: Annotated[UUID | None, Query(description="staff: whose day (a client's user id)")] = None,
    principal: Principal = require(Permission.FOLLOW_REMEDIES),
) -> TodayView:
    """What to do today: each live programme's occurrences on the client's local date, and what
    became of each (done, skipped, missed, open, upcoming)."""
    who_id = client_id or principal.user_id
    if who_id != principal.user_id and not is_staff(principal):
        raise Problem(FORBIDDEN, "you may only see your own day", field="client_id")
    who = await session.get(User, who_id)
    if who is None or who.tenant_id != tenant.id:
        raise Problem(NOT_FOUND, "this consultancy has no client with this id", field="client_id")
    zone = zone_for(None, who, tenant)
    viewer = await session.get(User, principal.user_id)
    day, items = await today_view(session, tenant.id, who.id, zone, language_of(viewer.locale if viewer else None),
                                  datetime.now(UTC))
    return TodayView(day=day, timezone=zone, programmes=items)


@router.get("/{programme_id}", response_model=ProgrammeView)
async def read_programme(programme_id: UUID, tenant: CurrentTenant, session: Session, state: State,
                         principal: Principal = require(Permission.FOLLOW_REMEDIES)) -> ProgrammeView:
    """The programme as the database records it, its latest check-ins, and for staff the live workflow."""
    programme = await visible_programme(session, tenant.id, principal, programme_id)
    check_ins = (await session.execute(select(RemedyCheckIn).where(RemedyCheckIn.programme_id == programme.id)
                                       .order_by(desc(RemedyCheckIn.occurrence_at)).limit(30))).scalars().all()
    out = ProgrammeView(**programme_out(programme).model_dump(),
                        check_ins=[CheckInOut.model_validate(c) for c in check_ins])
    if is_staff(principal) and state.temporal is not None:
        await session.commit()   # not holding a transaction while Temporal answers
        try:
            handle = state.temporal.get_workflow_handle(programme.workflow_id)
            out.workflow = await handle.query("state", result_type=RemedyState)
        except RPCError as exc:
            log.info("state of %s not available: %s", programme.workflow_id, exc)
    return out


def _actor(request: Request, principal: Principal) -> dict[str, object]:
    return {"actor_user_id": principal.user_id, "actor_role": principal.role.value,
            "request_id": request_id_var.get(), "ip": request.state.context.ip}


@router.post("/{programme_id}/check-ins", response_model=CheckInResult)
async def check_in(programme_id: UUID, body: CheckInBody, request: Request, tenant: CurrentTenant,
                   session: Session, temporal: Temporal,
                   principal: Principal = require(Permission.FOLLOW_REMEDIES)) -> CheckInResult:
    """Done or skipped, on the occurrence open now (or one due later today), or the one named. A
    repeat is answered with the first check-in and counts nothing (`counted_now` false)."""
    programme = await visible_programme(session, tenant.id, principal, programme_id)
    answer = await run_update(temporal, session, programme, "check_in", CheckIn(
        occurrence_key=body.occurrence_key, status=body.status, note=body.note, **_actor(request, principal)),
        CheckInAnswer)
    return CheckInResult(occurrence_key=answer.occurrence_key, status=answer.status, counted_now=answer.counted_now,
                         programme=programme_out(programme))


async def _steer(request: Request, session: Session, temporal: Temporal, tenant_id: UUID, principal: Principal,
                 programme_id: UUID, update: str, argument: object) -> ProgrammeOut:
    programme = await visible_programme(session, tenant_id, principal, programme_id)
    await run_update(temporal, session, programme, update, argument, RemedyState)
    return programme_out(programme)


@router.post("/{programme_id}/pause", response_model=ProgrammeOut)
async def pause(programme_id: UUID, body: PauseBody, request: Request, tenant: CurrentTenant, session: Session,
                temporal: Temporal, principal: Principal = require(Permission.FOLLOW_REMEDIES)) -> ProgrammeOut:
    """Pause: no reminders until resumed; occurrences meanwhile are skipped, not missed."""
    return await _steer(request, session, temporal, tenant.id, principal, programme_id, "pause",
                        Pause(reason=body.reason, **_actor(request, principal)))


@router.post("/{programme_id}/resume", response_model=ProgrammeOut)
async def resume(programme_id: UUID, body: ResumeBody, request: Request, tenant: CurrentTenant, session: Session,
                 temporal: Temporal, principal: Principal = require(Permission.FOLLOW_REMEDIES)) -> ProgrammeOut:
    """Resume from the next occurrence; a programme of N days gains the calendar days it was paused."""
    return await _steer(request, session, temporal, tenant.id, principal, programme_id, "resume",
                        Resume(**_actor(request, principal)))


@router.post("/{programme_id}/extend", response_model=ProgrammeOut)
async def extend(programme_id: UUID, body: ExtendBody, request: Request, tenant: CurrentTenant, session: Session,
                 temporal: Temporal, principal: Principal = require(Permission.FOLLOW_REMEDIES)) -> ProgrammeOut:
    """Lengthen by days (a programme counted in days) or occurrences (one counted in occurrences)."""
    return await _steer(request, session, temporal, tenant.id, principal, programme_id, "extend",
                        Extend(days=body.days, occurrences=body.occurrences, **_actor(request, principal)))


@router.put("/{programme_id}/times", response_model=ProgrammeOut)
async def change_times(programme_id: UUID, body: TimesBody, request: Request, tenant: CurrentTenant,
                       session: Session, temporal: Temporal,
                       principal: Principal = require(Permission.FOLLOW_REMEDIES)) -> ProgrammeOut:
    """New local times of day; they apply from the next occurrence (tomorrow if today's came already)."""
    programme = await visible_programme(session, tenant.id, principal, programme_id)
    client = await session.get(User, programme.client_id)
    assert client is not None
    await refuse_quiet_times(session, client, body.times, "times")
    return await _steer(request, session, temporal, tenant.id, principal, programme_id, "change_times",
                        ChangeTimes(times=body.times, **_actor(request, principal)))


@router.post("/{programme_id}/stop", response_model=ProgrammeOut)
async def stop(programme_id: UUID, body: StopBody, request: Request, tenant: CurrentTenant, session: Session,
               temporal: Temporal, principal: Principal = require(Permission.FOLLOW_REMEDIES)) -> ProgrammeOut:
    """End the programme now; no more reminders (the consultant is told)."""
    return await _steer(request, session, temporal, tenant.id, principal, programme_id, "stop",
                        Stop(reason=body.reason, **_actor(request, principal)))


# -- the signed link of a reminder -----------------------------------------------------------------------
async def _from_link(session: Session, state: State, token: str) -> tuple[RemedyProgramme, str]:
    from core.db import TenantScope, enter_scope

    try:
        claims = verify(state.keys, CHECK_IN_LINK, token)
        tenant_id, programme_id, key = uuid.UUID(claims["t"]), uuid.UUID(claims["r"]), str(claims["k"])
    except LinkError as exc:
        if "expired" in str(exc):
            raise Problem(TOKEN_EXPIRED_OR_USED, "this check-in link has expired; check in from the app",
                          field="link_token") from exc
        raise Problem(INVALID_LINK, field="link_token") from exc
    except (KeyError, ValueError) as exc:
        raise Problem(INVALID_LINK, field="link_token") from exc
    await enter_scope(session, TenantScope.of(tenant_id))
    programme = await session.get(RemedyProgramme, programme_id)
    if programme is None or programme.tenant_id != tenant_id:
        raise Problem(INVALID_LINK, field="link_token")
    return programme, key


@links.get("/{link_token}", response_model=LinkView)
async def read_link(link_token: str, session: Session, state: State) -> LinkView:
    """What a reminder's link is for: the remedy, the occurrence, and whether it was checked in."""
    programme, key = await _from_link(session, state, link_token)
    remedy = await session.get(Remedy, programme.remedy_id)
    client = await session.get(User, programme.client_id)
    assert remedy is not None and client is not None
    found = (await session.execute(select(RemedyCheckIn).where(
        RemedyCheckIn.programme_id == programme.id, RemedyCheckIn.occurrence_key == key))).scalar_one_or_none()
    hindi = language_of(client.locale) == "hi" and remedy.instructions_hi
    return LinkView(programme_id=programme.id, title=programme.title,
                    instructions=remedy.instructions_hi if hindi and remedy.instructions_hi else remedy.instructions_en,
                    occurrence_key=key, at=found.occurrence_at if found else None,
                    checked=found.status if found else None)


@links.post("/{link_token}/check-in", response_model=CheckInResult)
async def check_in_by_link(link_token: str, body: LinkCheckInBody, request: Request, session: Session,
                           state: State, temporal: Temporal) -> CheckInResult:
    """Check in on the link's own occurrence, without signing in (the link is the client's)."""
    programme, key = await _from_link(session, state, link_token)
    answer = await run_update(temporal, session, programme, "check_in", CheckIn(
        occurrence_key=key, status=body.status, note=body.note, actor_user_id=programme.client_id,
        actor_role=Role.CLIENT.value, request_id=request_id_var.get(), ip=request.state.context.ip), CheckInAnswer)
    return CheckInResult(occurrence_key=answer.occurrence_key, status=answer.status, counted_now=answer.counted_now,
                         programme=programme_out(programme))

