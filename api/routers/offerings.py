"""/offerings: what consultants sell (1:1 sessions, webinars), webinar sessions and free slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import DBAPIError

from api.deps import CurrentTenant, Principal, Session, require
from api.pagination import Page, Paging, paginate
from api.patching import apply_changes
from api.permissions import Permission
from api.problems import SLOT_TAKEN, VALIDATION, Problem
from api.schemas.bookings import (
    OfferingCreate,
    OfferingOut,
    OfferingUpdate,
    SlotsOut,
    WebinarSessionCreate,
    WebinarSessionOut,
)
from api.schemas.common import TimeZone
from api.services.bookings import consultant_of, offering_of
from api.services.slot_listing import list_slots
from models.bookings import Booking, Consultant, Offering, OfferingKind, WebinarSession, WebinarStatus, live_bookings_of
from models.platform import record_audit

router = APIRouter(prefix="/offerings", tags=["offerings"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OfferingOut)
async def create_offering(
    body: OfferingCreate, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_OFFERINGS),
) -> OfferingOut:
    """A 1:1 session or a webinar (with `capacity`), its rules, intake form and policies."""
    consultant = await consultant_of(session, tenant, body.consultant_id, principal)
    if body.kind == OfferingKind.WEBINAR.value and not body.capacity:
        raise Problem(VALIDATION, "a webinar needs a capacity (seats per session)", field="capacity")
    fields = body.model_dump(exclude={"consultant_id", "kind"}, mode="json")
    offering = Offering(tenant_id=tenant.id, consultant_id=consultant.id, kind=OfferingKind(body.kind), **fields)
    session.add(offering)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="offering.created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="offering", target_id=offering.id)
    return OfferingOut.model_validate(offering)


@router.get("", response_model=Page[OfferingOut])
async def list_offerings(
    tenant: CurrentTenant, session: Session, paging: Paging,
    consultant_id: Annotated[UUID | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
    principal: Principal = require(Permission.BOOK),
) -> Page[OfferingOut]:
    stmt = select(Offering).where(Offering.tenant_id == tenant.id)
    if consultant_id:
        stmt = stmt.where(Offering.consultant_id == consultant_id)
    if active is not None:
        stmt = stmt.where(Offering.is_active.is_(active))
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": Offering.created_at,
                                                                   "title": Offering.title},
                                  default_sort="title", id_column=Offering.id)
    return Page[OfferingOut](items=[OfferingOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{offering_id}", response_model=OfferingOut)
async def read_offering(
    offering_id: UUID, tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.BOOK)
) -> OfferingOut:
    return OfferingOut.model_validate(await offering_of(session, tenant, offering_id))


@router.patch("/{offering_id}", response_model=OfferingOut)
async def update_offering(
    offering_id: UUID, body: OfferingUpdate, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_OFFERINGS),
) -> OfferingOut:
    """Change the offering for bookings made from now on; existing bookings keep the terms they were made with."""
    offering = await offering_of(session, tenant, offering_id, principal)
    changes = body.model_dump(exclude_unset=True, mode="json")
    apply_changes(offering, changes)
    if offering.kind == OfferingKind.WEBINAR and not offering.capacity:
        raise Problem(VALIDATION, "a webinar needs a capacity (seats per session)", field="capacity")
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="offering.updated", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="offering", target_id=offering.id,
                       details={"fields": sorted(changes)})
    return OfferingOut.model_validate(offering)


@router.post("/{offering_id}/webinar-sessions", status_code=status.HTTP_201_CREATED,
             response_model=WebinarSessionOut)
async def schedule_webinar_session(
    offering_id: UUID, body: WebinarSessionCreate, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_OFFERINGS),
) -> WebinarSessionOut:
    """Schedule a run of a webinar. It takes the consultant's time like a booking does."""
    offering = await offering_of(session, tenant, offering_id, principal)
    if offering.kind != OfferingKind.WEBINAR:
        raise Problem(VALIDATION, "only webinars have sessions; 1:1 offerings have slots", field="offering_id")
    starts_at = body.starts_at.astimezone(UTC)
    if starts_at <= datetime.now(UTC):
        raise Problem(VALIDATION, "schedule the session in the future", field="starts_at")
    ends_at = starts_at + timedelta(minutes=offering.duration_minutes)
    blocked = Range(starts_at - timedelta(minutes=offering.buffer_before_minutes),
                    ends_at + timedelta(minutes=offering.buffer_after_minutes), bounds="[)")
    # An exclusive lock on the consultant: 1:1 bookings (FOR SHARE, models.bookings.consultant_for_booking)
    # wait, so none can slip in.
    await session.execute(select(Consultant.id).where(Consultant.id == offering.consultant_id)
                          .with_for_update())
    clash = (await session.execute(
        live_bookings_of(offering.consultant_id).where(Booking.blocked.overlaps(blocked)).limit(1))).first()
    if clash:
        raise Problem(SLOT_TAKEN, "the consultant has a booking at that time", field="starts_at")
    ws = WebinarSession(tenant_id=tenant.id, offering_id=offering.id, consultant_id=offering.consultant_id,
                        starts_at=starts_at, ends_at=ends_at, blocked=blocked,
                        capacity=body.capacity or offering.capacity or 1, seats_taken=0,
                        status=WebinarStatus.SCHEDULED)
    session.add(ws)
    try:
        async with session.begin_nested():
            await session.flush()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "23P01":
            raise Problem(SLOT_TAKEN, "another webinar session of this consultant overlaps it",
                          field="starts_at") from exc
        raise
    await record_audit(session, tenant_id=tenant.id, action="webinar_session.scheduled",
                       actor_user_id=principal.user_id, actor_role=principal.role.value,
                       target_type="webinar_session", target_id=ws.id)
    return WebinarSessionOut.model_validate(ws)


@router.get("/{offering_id}/webinar-sessions", response_model=list[WebinarSessionOut])
async def list_webinar_sessions(
    offering_id: UUID, tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.BOOK)
) -> list[WebinarSessionOut]:
    offering = await offering_of(session, tenant, offering_id)
    rows = (await session.execute(select(WebinarSession).where(WebinarSession.offering_id == offering.id)
                                  .order_by(WebinarSession.starts_at))).scalars()
    return [WebinarSessionOut.model_validate(r) for r in rows]


@router.get("/{offering_id}/slots", response_model=SlotsOut)
async def offering_slots(
    offering_id: UUID, tenant: CurrentTenant, session: Session,
    start: Annotated[date | None, Query(description="first day, on the viewer's clock (default today)")] = None,
    days: Annotated[int, Query(ge=1, le=92)] = 7,
    timezone: Annotated[TimeZone | None, Query(description="the viewer's IANA zone")] = None,
    principal: Principal = require(Permission.BOOK),
) -> Response:
    """Free slots (or webinar sessions with seats left), as the public page shows them."""
    offering = await offering_of(session, tenant, offering_id)
    consultant = await consultant_of(session, tenant, offering.consultant_id)
    return await list_slots(session, consultant, offering, start=start, days=days, viewer_zone=timezone,
                            now=datetime.now(UTC))
