"""Memberships: the plans a consultancy offers (staff) and the clients' memberships.

Staff define plans (`/membership-plans`) and see every membership (`/memberships`); a client
subscribes, authorises, pauses, resumes and cancels their own (`/me/memberships`, see
api/routers/my_memberships.py). Reads come from the database (the Membership workflow mirrors
its state there); changes go through the workflow (docs/memberships.md).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from api.deps import CurrentTenant, Principal, Session, require
from api.pagination import Page, Paging, paginate
from api.patching import apply_changes
from api.permissions import Permission
from api.problems import NOT_FOUND, Problem
from api.schemas.memberships import MembershipOut, PlanCreate, PlanOut, PlanUpdate
from api.services.bookings import offering_of
from domain.memberships import MembershipStatus
from models.courses import Course
from models.memberships import Membership, MembershipPlan
from models.platform import record_audit
from models.tenancy import Tenant

router = APIRouter(tags=["memberships"])
Seller = Annotated[Principal, require(Permission.MANAGE_ORDERS)]
Viewer = Annotated[Principal, require(Permission.VIEW_ORDERS)]



async def plan_of(session: Session, tenant: Tenant, plan_id: uuid.UUID, principal: Principal, *,
                  field: str = "plan_id") -> MembershipPlan:
    """One plan of this consultancy; clients see only the active ones."""
    stmt = select(MembershipPlan).where(MembershipPlan.tenant_id == tenant.id, MembershipPlan.id == plan_id)
    if not principal.is_staff:
        stmt = stmt.where(MembershipPlan.active.is_(True))
    plan = (await session.execute(stmt)).scalar_one_or_none()
    if plan is None:
        raise Problem(NOT_FOUND, "this consultancy has no membership plan with this id", field=field)
    return plan


async def _courses(session: Session, tenant: Tenant, course_ids: list[uuid.UUID]) -> None:
    if not course_ids:
        return
    found = set((await session.execute(select(Course.id).where(
        Course.tenant_id == tenant.id, Course.id.in_(course_ids)))).scalars())
    for n, course_id in enumerate(course_ids):
        if course_id not in found:
            raise Problem(NOT_FOUND, "this consultancy has no course with this id", field=f"course_ids.{n}")


# -- plans ---------------------------------------------------------------------------------------
@router.post("/membership-plans", status_code=status.HTTP_201_CREATED, response_model=PlanOut)
async def create_plan(body: PlanCreate, tenant: CurrentTenant, session: Session, principal: Seller) -> PlanOut:
    """A monthly plan: session credits of an offering each paid period, course access, or both."""
    if body.offering_id is not None:
        await offering_of(session, tenant, body.offering_id)
    await _courses(session, tenant, body.course_ids)
    plan = MembershipPlan(tenant_id=tenant.id, title=body.title, description=body.description,
                          price_minor=body.price_minor, currency=body.currency, period=body.period.value,
                          offering_id=body.offering_id, credits_per_period=body.credits_per_period,
                          course_ids=[str(c) for c in body.course_ids], active=True, gateway_plans={})
    session.add(plan)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="membership_plan.created", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="membership_plan", target_id=plan.id)
    return PlanOut.model_validate(plan)


@router.get("/membership-plans", response_model=Page[PlanOut])
async def list_plans(tenant: CurrentTenant, session: Session, paging: Paging, principal: Viewer) -> Page[PlanOut]:
    """The consultancy's plans (clients: the active ones, to subscribe to)."""
    stmt = select(MembershipPlan).where(MembershipPlan.tenant_id == tenant.id)
    if not principal.is_staff:
        stmt = stmt.where(MembershipPlan.active.is_(True))
    rows, cursor = await paginate(session, stmt, paging, sortable={"title": MembershipPlan.title,
                                                                   "created_at": MembershipPlan.created_at},
                                  default_sort="title", id_column=MembershipPlan.id)
    return Page[PlanOut](items=[PlanOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/membership-plans/{plan_id}", response_model=PlanOut)
async def read_plan(plan_id: uuid.UUID, tenant: CurrentTenant, session: Session, principal: Viewer) -> PlanOut:
    return PlanOut.model_validate(await plan_of(session, tenant, plan_id, principal))


@router.patch("/membership-plans/{plan_id}", response_model=PlanOut)
async def update_plan(plan_id: uuid.UUID, body: PlanUpdate, tenant: CurrentTenant, session: Session,
                      principal: Seller) -> PlanOut:
    """Rename, describe, or stop offering a plan (`active: false`: no new members; running
    memberships go on). Price and benefits are fixed: make a new plan for new terms."""
    plan = await plan_of(session, tenant, plan_id, principal)
    changes = body.model_dump(exclude_unset=True)
    apply_changes(plan, changes)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="membership_plan.updated", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="membership_plan", target_id=plan.id,
                       details={"fields": sorted(changes)})
    return PlanOut.model_validate(plan)


# -- memberships (staff) ---------------------------------------------------------------------------
@router.get("/memberships", response_model=Page[MembershipOut])
async def list_memberships(
    tenant: CurrentTenant, session: Session, paging: Paging, principal: Seller,
    client_id: Annotated[uuid.UUID | None, Query()] = None,
    plan_id: Annotated[uuid.UUID | None, Query()] = None,
    status_: Annotated[MembershipStatus | None, Query(alias="status")] = None,
) -> Page[MembershipOut]:
    """Every membership of the consultancy, by client, plan or status (e.g. `past_due`)."""
    stmt = select(Membership).where(Membership.tenant_id == tenant.id)
    if client_id is not None:
        stmt = stmt.where(Membership.client_id == client_id)
    if plan_id is not None:
        stmt = stmt.where(Membership.plan_id == plan_id)
    if status_ is not None:
        stmt = stmt.where(Membership.status == status_.value)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": Membership.created_at},
                                  default_sort="-created_at", id_column=Membership.id)
    return Page[MembershipOut](items=[MembershipOut.model_validate(r) for r in rows], next_cursor=cursor)


async def membership_of(session: Session, tenant: Tenant, membership_id: uuid.UUID,
                        principal: Principal) -> Membership:
    """A membership the principal may see: clients their own, staff every one of the consultancy."""
    membership = (await session.execute(select(Membership).where(
        Membership.tenant_id == tenant.id, Membership.id == membership_id))).scalar_one_or_none()
    if membership is None or (not principal.is_staff and membership.client_id != principal.user_id):
        raise Problem(NOT_FOUND, "no membership with this id", field="membership_id")
    return membership


@router.get("/memberships/{membership_id}", response_model=MembershipOut)
async def read_membership(membership_id: uuid.UUID, tenant: CurrentTenant, session: Session,
                          principal: Viewer) -> MembershipOut:
    return MembershipOut.model_validate(await membership_of(session, tenant, membership_id, principal))
