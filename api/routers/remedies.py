"""/remedies: the consultancy's remedy catalogue, and completion rates of its programmes.

A remedy is what a consultant prescribes (a mantra, a donation, a gemstone, a fast...), with
instructions in English and Hindi and the schedule a programme of it follows by default. Deleting
a remedy that programmes used retires it (no longer offered) instead, so their history stays.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import case, func, select

from api.deps import CurrentTenant, Principal, Session, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import VALIDATION, Problem
from api.schemas.remedies import CompletionRate, RemedyCreate, RemedyOut, RemedyUpdate
from api.services.remedies import visible_remedy
from domain.remedies.programme import RemedyKind
from models.platform import record_audit
from models.remedies import Remedy, RemedyProgramme

router = APIRouter(prefix="/remedies", tags=["remedies"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RemedyOut)
async def create_remedy(body: RemedyCreate, tenant: CurrentTenant, session: Session,
                        principal: Principal = require(Permission.MANAGE_REMEDIES)) -> RemedyOut:
    """Add a remedy to the catalogue (its default schedule and length; 40 days if no length is given)."""
    remedy = Remedy(tenant_id=tenant.id, kind=body.kind.value, title=body.title, instructions_en=body.instructions_en,
                    instructions_hi=body.instructions_hi,
                    default_schedule=body.default_schedule.model_dump(mode="json", exclude_none=True),
                    default_duration_days=body.default_duration_days, default_occurrences=body.default_occurrences,
                    price_minor=body.price_minor, currency=body.currency, active=True, created_by=principal.user_id)
    session.add(remedy)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="remedy.created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="remedy", target_id=remedy.id)
    await session.refresh(remedy)
    return RemedyOut.model_validate(remedy)


@router.get("", response_model=Page[RemedyOut])
async def list_remedies(
    tenant: CurrentTenant, session: Session, paging: Paging,
    kind: Annotated[RemedyKind | None, Query()] = None,
    active: Annotated[bool | None, Query(description="staff: offered (true) or retired (false)")] = None,
    principal: Principal = require(Permission.FOLLOW_REMEDIES),
) -> Page[RemedyOut]:
    """The catalogue: staff see all of it, clients what is offered. Sortable by `title`, `created_at`."""
    from api.services.remedies import remedies_of

    stmt = remedies_of(tenant.id, principal)
    if kind is not None:
        stmt = stmt.where(Remedy.kind == kind.value)
    if active is not None:
        stmt = stmt.where(Remedy.active.is_(active))
    rows, cursor = await paginate(session, stmt, paging, sortable={"title": Remedy.title,
                                                                   "created_at": Remedy.created_at},
                                  default_sort="title", id_column=Remedy.id)
    return Page[RemedyOut](items=[RemedyOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/completion-rates", response_model=list[CompletionRate])
async def completion_rates(
    tenant: CurrentTenant, session: Session,
    consultant_id: Annotated[UUID | None, Query(description="the consultant's user id")] = None,
    remedy_id: Annotated[UUID | None, Query()] = None,
    principal: Principal = require(Permission.MANAGE_REMEDIES),
) -> list[CompletionRate]:
    """Per remedy: programmes (live, completed, stopped) and what became of their occurrences.
    `completion_percent` is done / occurrences that came (paused ones do not count)."""
    live = RemedyProgramme.status.in_(["active", "paused"])
    stmt = (select(Remedy.id, Remedy.title, func.count(RemedyProgramme.id),
                   func.count(case((live, 1))), func.count(case((RemedyProgramme.status == "completed", 1))),
                   func.count(case((RemedyProgramme.status == "stopped", 1))),
                   func.coalesce(func.sum(RemedyProgramme.counted), 0),
                   func.coalesce(func.sum(RemedyProgramme.done), 0),
                   func.coalesce(func.sum(RemedyProgramme.skipped), 0),
                   func.coalesce(func.sum(RemedyProgramme.missed), 0))
            .join(RemedyProgramme, RemedyProgramme.remedy_id == Remedy.id)
            .where(Remedy.tenant_id == tenant.id, RemedyProgramme.tenant_id == tenant.id)
            .group_by(Remedy.id, Remedy.title).order_by(Remedy.title))
    if consultant_id is not None:
        stmt = stmt.where(RemedyProgramme.consultant_id == consultant_id)
    if remedy_id is not None:
        stmt = stmt.where(Remedy.id == remedy_id)
    out = []
    for rid, title, programmes, live_n, completed, stopped, counted, done, skipped, missed in (
            await session.execute(stmt)).all():
        out.append(CompletionRate(remedy_id=rid, title=title, programmes=programmes, live=live_n, completed=completed,
                                  stopped=stopped, counted=counted, done=done, skipped=skipped, missed=missed,
                                  completion_percent=round(100 * done / counted) if counted else 0))
    return out


@router.get("/{remedy_id}", response_model=RemedyOut)
async def read_remedy(remedy_id: UUID, tenant: CurrentTenant, session: Session,
                      principal: Principal = require(Permission.FOLLOW_REMEDIES)) -> RemedyOut:
    return RemedyOut.model_validate(await visible_remedy(session, tenant.id, principal, remedy_id))


@router.patch("/{remedy_id}", response_model=RemedyOut)
async def update_remedy(remedy_id: UUID, body: RemedyUpdate, tenant: CurrentTenant, session: Session,
                        principal: Principal = require(Permission.MANAGE_REMEDIES)) -> RemedyOut:
    """Change a remedy. Running programmes keep the plan they were given; new ones take the new defaults."""
    remedy = await visible_remedy(session, tenant.id, principal, remedy_id)
    given = body.model_dump(exclude_unset=True)
    for name in ("kind", "title", "instructions_en", "currency", "active"):
        if name in given and given[name] is None:
            raise Problem(VALIDATION, f"{name} cannot be null", field=name)
    if given.get("default_duration_days") is not None and given.get("default_occurrences") is not None:
        raise Problem(VALIDATION, "give the length in days or in occurrences, not both", field="default_occurrences")
    if given.get("default_duration_days") is not None:
        remedy.default_occurrences = None
    if given.get("default_occurrences") is not None:
        remedy.default_duration_days = None
    for name, value in given.items():
        if name == "default_schedule":
            if value is None:
                raise Problem(VALIDATION, "default_schedule cannot be null", field="default_schedule")
            remedy.default_schedule = body.default_schedule.model_dump(mode="json", exclude_none=True) \
                if body.default_schedule else remedy.default_schedule
        elif name == "kind":
            remedy.kind = RemedyKind(value).value
        elif name in ("default_duration_days", "default_occurrences") and value is None:
            continue
        else:
            setattr(remedy, name, value)
    if remedy.default_duration_days is None and remedy.default_occurrences is None:
        raise Problem(VALIDATION, "a remedy needs a default length in days or occurrences",
                      field="default_duration_days")
    await record_audit(session, tenant_id=tenant.id, action="remedy.updated", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="remedy", target_id=remedy.id,
                       details={"fields": sorted(given)})
    await session.flush()
    await session.refresh(remedy)
    return RemedyOut.model_validate(remedy)


@router.delete("/{remedy_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_remedy(remedy_id: UUID, tenant: CurrentTenant, session: Session,
                        principal: Principal = require(Permission.MANAGE_REMEDIES)) -> Response:
    """Remove a remedy; one that programmes used is retired instead (kept for their history, no longer offered)."""
    remedy = await visible_remedy(session, tenant.id, principal, remedy_id)
    used = await session.scalar(select(func.count()).select_from(RemedyProgramme).where(
        RemedyProgramme.remedy_id == remedy.id))
    if used:
        remedy.active = False
    else:
        await session.delete(remedy)
    await record_audit(session, tenant_id=tenant.id, action="remedy.retired" if used else "remedy.deleted",
                       actor_user_id=principal.user_id, actor_role=principal.role.value, target_type="remedy",
                       target_id=remedy_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
