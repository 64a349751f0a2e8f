"""/consultants: who takes bookings, their public profile, weekly hours, date overrides and calendar feed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.deps import CurrentTenant, Principal, Session, State, require
from api.pagination import Page, Paging, paginate
from api.patching import apply_changes
from api.permissions import Permission
from api.problems import ALREADY_EXISTS, FORBIDDEN, NOT_FOUND, VALIDATION, Problem
from api.schemas.bookings import (
    CalendarFeedOut,
    ConsultantCreate,
    ConsultantOut,
    ConsultantUpdate,
    OverrideIn,
    OverrideOut,
)
from api.services.bookings import calendar_token, consultant_of
from domain.bookings import links
from domain.files import FileKind
from models.bookings import AvailabilityOverride, Consultant
from models.files import StoredFile
from models.identity import Role, User
from models.platform import record_audit

PHOTO_KINDS = frozenset({FileKind.PNG, FileKind.JPEG, FileKind.WEBP})

router = APIRouter(prefix="/consultants", tags=["consultants"])


async def _unique(session: Session, consultant: Consultant, field: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        text = str(exc.orig)
        if "uq_consultants_user_id" in text:
            raise Problem(ALREADY_EXISTS, "this person already has a consultant profile", field="user_id") from exc
        raise Problem(ALREADY_EXISTS, f"the address '{consultant.slug}' is taken in this consultancy",
                      field=field) from exc


async def _check_photo(session: Session, tenant: CurrentTenant, file_id: UUID | None) -> None:
    """The photo is an image of this consultancy's files (uploaded through POST /files)."""
    if file_id is None:
        return
    stored = await session.get(StoredFile, file_id)
    if stored is None or stored.tenant_id != tenant.id:
        raise Problem(NOT_FOUND, "this consultancy has no file with this id", field="photo_file_id")
    if stored.kind not in PHOTO_KINDS:
        raise Problem(VALIDATION, f"the photo must be an image (png, jpeg, webp), not {stored.kind.value}",
                      field="photo_file_id")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConsultantOut)
async def create_consultant(
    body: ConsultantCreate, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_CONSULTANTS),
) -> ConsultantOut:
    """Make someone bookable: a profile, a slug for the public page, and weekly hours in their zone."""
    user_id = body.user_id or principal.user_id
    if principal.role == Role.CONSULTANT and user_id != principal.user_id:
        raise Problem(FORBIDDEN, "consultants create only their own profile", field="user_id")
    user = await session.get(User, user_id)
    if user is None or user.tenant_id != tenant.id or user.role not in (Role.OWNER, Role.CONSULTANT):
        raise Problem(NOT_FOUND, "no consultant of this consultancy has this id", field="user_id")
    await _check_photo(session, tenant, body.photo_file_id)
    consultant = Consultant(
        tenant_id=tenant.id, user_id=user_id, slug=body.slug, display_name=body.display_name, headline=body.headline,
        bio=body.bio, timezone=body.timezone, weekly_hours=[w.model_dump() for w in body.weekly_hours],
        is_public=body.is_public, calendar_feed_version=1, photo_file_id=body.photo_file_id,
        languages=body.languages or [], specialities=body.specialities or [], experience_years=body.experience_years,
        social_links=[link.model_dump() for link in body.social_links or []],
    )
    session.add(consultant)
    await _unique(session, consultant, "slug")
    await record_audit(session, tenant_id=tenant.id, action="consultant.created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="consultant", target_id=consultant.id)
    return ConsultantOut.model_validate(consultant)


@router.get("", response_model=Page[ConsultantOut])
async def list_consultants(
    tenant: CurrentTenant, session: Session, paging: Paging, principal: Principal = require(Permission.BOOK)
) -> Page[ConsultantOut]:
    stmt = select(Consultant).where(Consultant.tenant_id == tenant.id)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": Consultant.created_at,
                                                                   "slug": Consultant.slug},
                                  default_sort="slug", id_column=Consultant.id)
    return Page[ConsultantOut](items=[ConsultantOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/{consultant_id}", response_model=ConsultantOut)
async def read_consultant(
    consultant_id: UUID, tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.BOOK)
) -> ConsultantOut:
    return ConsultantOut.model_validate(await consultant_of(session, tenant, consultant_id))


@router.patch("/{consultant_id}", response_model=ConsultantOut)
async def update_consultant(
    consultant_id: UUID, body: ConsultantUpdate, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_CONSULTANTS),
) -> ConsultantOut:
    """Edit the profile or replace the weekly hours (times in `timezone`)."""
    consultant = await consultant_of(session, tenant, consultant_id, principal)
    changes = body.model_dump(exclude_unset=True)
    if body.weekly_hours is not None:
        changes["weekly_hours"] = [w.model_dump() for w in body.weekly_hours]
    for name in ("languages", "specialities", "social_links"):
        if name in changes and changes[name] is None:
            changes[name] = []
    if "photo_file_id" in changes:
        await _check_photo(session, tenant, body.photo_file_id)
    apply_changes(consultant, changes)
    await _unique(session, consultant, "slug")
    await record_audit(session, tenant_id=tenant.id, action="consultant.updated", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="consultant", target_id=consultant.id,
                       details={"fields": sorted(changes)})
    return ConsultantOut.model_validate(consultant)


@router.get("/{consultant_id}/overrides", response_model=list[OverrideOut])
async def list_overrides(
    consultant_id: UUID, tenant: CurrentTenant, session: Session,
    start: Annotated[date | None, Query(description="first date (default today)")] = None,
    days: Annotated[int, Query(ge=1, le=366)] = 90,
    principal: Principal = require(Permission.MANAGE_CONSULTANTS),
) -> list[OverrideOut]:
    consultant = await consultant_of(session, tenant, consultant_id, principal)
    first = start or date.today()
    rows = (await session.execute(select(AvailabilityOverride).where(
        AvailabilityOverride.consultant_id == consultant.id,
        AvailabilityOverride.on_date.between(first, first + timedelta(days=days - 1)),
    ).order_by(AvailabilityOverride.on_date))).scalars()
    return [OverrideOut.model_validate(r) for r in rows]


@router.put("/{consultant_id}/overrides/{on_date}", response_model=OverrideOut)
async def set_override(
    consultant_id: UUID, on_date: date, body: OverrideIn, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_CONSULTANTS),
) -> OverrideOut:
    """Other hours on one date (on the consultant's clock), or a day off with no windows.

    Bookings already made that day stay; only new slots follow the override.
    """
    consultant = await consultant_of(session, tenant, consultant_id, principal)
    row = (await session.execute(select(AvailabilityOverride).where(
        AvailabilityOverride.consultant_id == consultant.id, AvailabilityOverride.on_date == on_date,
    ))).scalar_one_or_none()
    if row is None:
        row = AvailabilityOverride(tenant_id=tenant.id, consultant_id=consultant.id, on_date=on_date)
        session.add(row)
    row.windows = [w.model_dump() for w in body.windows]
    row.note = body.note
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="consultant.override_set", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="consultant", target_id=consultant.id,
                       details={"date": on_date.isoformat(), "windows": row.windows})
    return OverrideOut.model_validate(row)


@router.delete("/{consultant_id}/overrides/{on_date}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_override(
    consultant_id: UUID, on_date: date, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_CONSULTANTS),
) -> None:
    consultant = await consultant_of(session, tenant, consultant_id, principal)
    row = (await session.execute(select(AvailabilityOverride).where(
        AvailabilityOverride.consultant_id == consultant.id, AvailabilityOverride.on_date == on_date,
    ))).scalar_one_or_none()
    if row is None:
        raise Problem(NOT_FOUND, "no override on this date", field="on_date")
    await session.delete(row)


@router.get("/{consultant_id}/calendar-feed", response_model=CalendarFeedOut)
async def calendar_feed(
    consultant_id: UUID, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_CONSULTANTS),
) -> CalendarFeedOut:
    """The secret address of the consultant's bookings as an iCalendar feed (subscribe from any calendar app)."""
    consultant = await consultant_of(session, tenant, consultant_id, principal)
    return CalendarFeedOut(url=state.settings.public_base_url.rstrip("/")
                           + links.calendar_path(calendar_token(state, consultant)))


@router.post("/{consultant_id}/calendar-feed/rotate", response_model=CalendarFeedOut)
async def rotate_calendar_feed(
    consultant_id: UUID, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_CONSULTANTS),
) -> CalendarFeedOut:
    """A new secret address; the old one stops working at once."""
    consultant = await consultant_of(session, tenant, consultant_id, principal)
    consultant.calendar_feed_version += 1
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="consultant.calendar_feed_rotated",
                       actor_user_id=principal.user_id, actor_role=principal.role.value,
                       target_type="consultant", target_id=consultant.id)
    return CalendarFeedOut(url=state.settings.public_base_url.rstrip("/")
                           + links.calendar_path(calendar_token(state, consultant)))
