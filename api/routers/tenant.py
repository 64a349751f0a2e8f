"""/tenant: the signed-in consultant's own consultancy, its domains and its onboarding."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.deps import CurrentTenant, Principal, Session, State, require
from api.patching import apply_changes
from api.permissions import Permission
from api.problems import ALREADY_EXISTS, NOT_FOUND, Problem
from api.schemas.admin import OnboardingView
from api.schemas.identity import DomainIn, TenantOut, TenantUpdate
from api.services.onboarding import onboarding_view
from models.platform import record_audit
from models.tenancy import TenantDomain

router = APIRouter(prefix="/tenant", tags=["tenant"])


@router.get("", response_model=TenantOut)
async def read_tenant(
    tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.EDIT_OWN_PROFILE)
) -> TenantOut:
    await session.refresh(tenant, ["domains"])  # not loaded with the request's tenant (api/deps.py)
    return TenantOut.of(tenant)


@router.patch("", response_model=TenantOut)
async def update_tenant(
    body: TenantUpdate, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.EDIT_TENANT_PROFILE),
) -> TenantOut:
    """The owner edits the consultancy's profile (allowed while awaiting approval)."""
    changes = body.model_dump(exclude_unset=True)
    apply_changes(tenant, changes)
    await record_audit(session, tenant_id=tenant.id, action="tenant.updated", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="tenant", target_id=tenant.id,
                       details={"fields": sorted(changes)})
    await session.flush()
    await session.refresh(tenant, ["domains"])
    return TenantOut.of(tenant)


@router.get("/onboarding", response_model=OnboardingView)
async def read_onboarding(
    tenant: CurrentTenant, state: State, principal: Principal = require(Permission.VIEW_ONBOARDING)
) -> OnboardingView:
    return await onboarding_view(state, tenant)


@router.post("/domains", status_code=status.HTTP_201_CREATED, response_model=TenantOut)
async def add_domain(
    body: DomainIn, tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.MANAGE_TENANT)
) -> TenantOut:
    """Register a custom domain: requests to it are served as this consultancy."""
    taken = (await session.execute(select(TenantDomain.id).where(TenantDomain.domain == body.domain))).first()
    if taken:
        raise Problem(ALREADY_EXISTS, f"{body.domain} is registered already", field="domain")
    try:
        async with session.begin_nested():
            session.add(TenantDomain(tenant_id=tenant.id, domain=body.domain))
            await session.flush()
    except IntegrityError as exc:
        raise Problem(ALREADY_EXISTS, f"{body.domain} is registered already", field="domain") from exc
    await record_audit(session, tenant_id=tenant.id, action="tenant.domain_added", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="domain", target_id=body.domain)
    await session.refresh(tenant, ["domains"])
    return TenantOut.of(tenant)


@router.delete("/domains/{domain_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_domain(
    domain_id: UUID, tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.MANAGE_TENANT)
) -> None:
    domain = await session.get(TenantDomain, domain_id)
    if domain is None or domain.tenant_id != tenant.id:
        raise Problem(NOT_FOUND, "this consultancy has no domain with this id", field="domain_id")
    await session.delete(domain)
    await record_audit(session, tenant_id=tenant.id, action="tenant.domain_removed",
                       actor_user_id=principal.user_id, target_type="domain", target_id=domain.domain)
