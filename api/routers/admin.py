"""/admin: platform admins review consultancies and read platform-wide records (TOTP required)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sqlalchemy import or_, select

from api.deps import PlatformSession, Principal, State, Temporal, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import CONFLICT, NOT_FOUND, Problem
from api.schemas.admin import AdminTenantOut, ApproveBody, AuditEventOut, OutboxMessageOut, RejectBody
from api.schemas.identity import TenantOut
from api.services.onboarding import decide, onboarding_view
from api.services.records import audit_page, outbox_page
from core.logging import client_ip_var, request_id_var
from domain.onboarding import OnboardingDecision
from models.tenancy import Tenant, TenantStatus

router = APIRouter(prefix="/admin", tags=["admin"])


async def _tenant(session: PlatformSession, tenant_id: UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise Problem(NOT_FOUND, "no consultancy has this id", field="tenant_id")
    return tenant


@router.get("/tenants", response_model=Page[TenantOut])
async def list_tenants(
    session: PlatformSession, paging: Paging,
    status: Annotated[TenantStatus | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the slug or name")] = None,
    admin: Principal = require(Permission.ADMIN_TENANTS),
) -> Page[TenantOut]:
    stmt = select(Tenant)
    if status:
        stmt = stmt.where(Tenant.status == status)
    if q:
        pattern = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(Tenant.slug.like(pattern), Tenant.name.ilike(pattern)))
    rows, cursor = await paginate(session, stmt, paging,
                                  sortable={"created_at": Tenant.created_at, "slug": Tenant.slug},
                                  default_sort="-created_at", id_column=Tenant.id)
    return Page[TenantOut](items=[TenantOut.of(t) for t in rows], next_cursor=cursor)


@router.get("/tenants/{tenant_id}", response_model=AdminTenantOut)
async def read_tenant(
    tenant_id: UUID, session: PlatformSession, state: State, admin: Principal = require(Permission.ADMIN_TENANTS)
) -> AdminTenantOut:
    tenant = await _tenant(session, tenant_id)
    return AdminTenantOut(**TenantOut.of(tenant).model_dump(), onboarding=await onboarding_view(state, tenant))


async def _decide(
    session: PlatformSession, state: State, client: Temporal, tenant_id: UUID, decision: OnboardingDecision
) -> AdminTenantOut:
    tenant = await _tenant(session, tenant_id)
    if tenant.status != TenantStatus.PENDING:
        raise Problem(CONFLICT, f"this consultancy is {tenant.status.value}, not awaiting approval")
    await decide(client, tenant, decision)
    await session.refresh(tenant)
    return AdminTenantOut(**TenantOut.of(tenant).model_dump(), onboarding=await onboarding_view(state, tenant))


@router.post("/tenants/{tenant_id}/approve", response_model=AdminTenantOut)
async def approve_tenant(
    tenant_id: UUID, session: PlatformSession, state: State, client: Temporal,
    body: ApproveBody | None = None, admin: Principal = require(Permission.ADMIN_TENANTS),
) -> AdminTenantOut:
    """Approve a pending consultancy: it becomes active and its owner is told."""
    decision = OnboardingDecision(approve=True, reason=body.note if body else None,
                                  actor_user_id=admin.user_id, request_id=request_id_var.get(), ip=client_ip_var.get())
    return await _decide(session, state, client, tenant_id, decision)


@router.post("/tenants/{tenant_id}/reject", response_model=AdminTenantOut)
async def reject_tenant(
    tenant_id: UUID, body: RejectBody, session: PlatformSession, state: State, client: Temporal,
    admin: Principal = require(Permission.ADMIN_TENANTS),
) -> AdminTenantOut:
    """Reject a pending consultancy with a reason, which the owner is told."""
    decision = OnboardingDecision(approve=False, reason=body.reason, actor_user_id=admin.user_id,
                                  request_id=request_id_var.get(), ip=client_ip_var.get())
    return await _decide(session, state, client, tenant_id, decision)


@router.get("/audit-events", response_model=Page[AuditEventOut])
async def list_all_audit_events(
    session: PlatformSession, paging: Paging,
    tenant_id: Annotated[UUID | None, Query()] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    admin: Principal = require(Permission.ADMIN_AUDIT),
) -> Page[AuditEventOut]:
    return await audit_page(session, paging, tenant_id=tenant_id, action=action)


@router.get("/outbox", response_model=Page[OutboxMessageOut])
async def list_all_outbox(
    session: PlatformSession, paging: Paging,
    tenant_id: Annotated[UUID | None, Query()] = None,
    template: Annotated[str | None, Query(max_length=100)] = None,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    admin: Principal = require(Permission.ADMIN_OUTBOX),
) -> Page[OutboxMessageOut]:
    return await outbox_page(session, paging, tenant_id=tenant_id, template=template, recipient=recipient)
