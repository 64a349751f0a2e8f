"""/admin: suspending and reactivating consultancies; people across consultancies (find, lock,
unlock, end their sessions). Platform admins with two-factor only; every change audited.

While a consultancy is suspended its public pages, sign-ins and dashboard are refused with
`tenant-suspended`, every session of its people has ended, and its running workflows keep their
state but send nothing (the notifier skips its messages) and take no new bookings. Reactivation
lets them send again and people sign in again.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from api.deps import PlatformSession, Principal, State, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import CONFLICT, NOT_FOUND, Problem
from api.schemas.identity import TenantOut
from api.schemas.platform_admin import LockBody, PlatformUserOut, ReactivateBody, SessionsRevoked, SuspendBody
from api.services.sessions import revoke_all_sessions
from api.services.tenant_status import tell_owners
from models.identity import Role, User
from models.platform import record_audit
from models.tenancy import Tenant, TenantStatus

router = APIRouter(prefix="/admin", tags=["admin"])


async def _tenant(session: PlatformSession, tenant_id: UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id, with_for_update=True)
    if tenant is None:
        raise Problem(NOT_FOUND, "no consultancy has this id", field="tenant_id")
    return tenant


@router.post("/tenants/{tenant_id}/suspend", response_model=TenantOut)
async def suspend_tenant(
    tenant_id: UUID, body: SuspendBody, request: Request, session: PlatformSession, state: State,
    admin: Principal = require(Permission.ADMIN_TENANTS),
) -> TenantOut:
    """Suspend an active consultancy with a reason: its people are signed out at once, and its
    owners are emailed the reason (after the commit, by a Notify workflow)."""
    tenant = await _tenant(session, tenant_id)
    if tenant.status != TenantStatus.ACTIVE:
        raise Problem(CONFLICT, f"this consultancy is {tenant.status.value}; only an active one can be suspended")
    tenant.status, tenant.status_reason = TenantStatus.SUSPENDED, body.reason
    people = (await session.execute(select(User.id).where(User.tenant_id == tenant.id))).scalars().all()
    revoked = 0
    for user_id in people:
        revoked += await revoke_all_sessions(session, user_id, reason="tenant_suspended", redis=state.redis,
                                             settings=state.settings)
    event = await record_audit(session, tenant_id=tenant.id, action="platform.tenant_suspended",
                               actor_user_id=admin.user_id, actor_role=admin.role.value, target_type="tenant",
                               target_id=tenant.id, details={"reason": body.reason, "sessions_revoked": revoked})
    await session.flush()
    await tell_owners(request, session, state, tenant, event="tenant_suspended", reason=body.reason,
                      change_id=event.id)
    return TenantOut.of(tenant)


@router.post("/tenants/{tenant_id}/reactivate", response_model=TenantOut)
async def reactivate_tenant(
    tenant_id: UUID, body: ReactivateBody, request: Request, session: PlatformSession, state: State,
    admin: Principal = require(Permission.ADMIN_TENANTS),
) -> TenantOut:
    """Active again: people may sign in, pages open, workflows send again; the owners are emailed."""
    tenant = await _tenant(session, tenant_id)
    if tenant.status != TenantStatus.SUSPENDED:
        raise Problem(CONFLICT, f"this consultancy is {tenant.status.value}, not suspended")
    tenant.status, tenant.status_reason = TenantStatus.ACTIVE, None
    event = await record_audit(session, tenant_id=tenant.id, action="platform.tenant_reactivated",
                               actor_user_id=admin.user_id, actor_role=admin.role.value, target_type="tenant",
                               target_id=tenant.id, details={"reason": body.reason})
    await session.flush()
    await tell_owners(request, session, state, tenant, event="tenant_reactivated", reason=body.reason,
                      change_id=event.id)
    return TenantOut.of(tenant)


# -- people across consultancies -----------------------------------------------------------------
@router.get("/users", response_model=Page[PlatformUserOut])
async def find_users(
    session: PlatformSession, paging: Paging,
    email: Annotated[str | None, Query(max_length=320, description="part of the email")] = None,
    tenant_id: Annotated[UUID | None, Query()] = None,
    role: Annotated[Role | None, Query()] = None,
    admin: Principal = require(Permission.ADMIN_USERS),
) -> Page[PlatformUserOut]:
    """People of every consultancy (and the platform's admins), e.g. all accounts of one email."""
    stmt = select(User)
    if email:
        stmt = stmt.where(User.email.contains(email.strip().lower(), autoescape=True))
    if tenant_id:
        stmt = stmt.where(User.tenant_id == tenant_id)
    if role:
        stmt = stmt.where(User.role == role)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": User.created_at, "email": User.email},
                                  default_sort="-created_at", id_column=User.id)
    return Page[PlatformUserOut](items=[PlatformUserOut.model_validate(u) for u in rows], next_cursor=cursor)


async def _user(session: PlatformSession, user_id: UUID, admin: Principal) -> User:
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise Problem(NOT_FOUND, "no account has this id", field="user_id")
    if user.id == admin.user_id:
        raise Problem(CONFLICT, "not your own account: ask another admin", field="user_id")
    return user


@router.post("/users/{user_id}/lock", response_model=PlatformUserOut)
async def lock_user(
    user_id: UUID, body: LockBody, session: PlatformSession, state: State,
    admin: Principal = require(Permission.ADMIN_USERS),
) -> PlatformUserOut:
    """Lock an account: sign-in refused, every token it holds stops working at once."""
    user = await _user(session, user_id, admin)
    user.is_active = False
    revoked = await revoke_all_sessions(session, user.id, reason="locked_by_admin", redis=state.redis,
                                        settings=state.settings)
    await record_audit(session, tenant_id=user.tenant_id, action="platform.user_locked", actor_user_id=admin.user_id,
                       actor_role=admin.role.value, target_type="user", target_id=user.id,
                       details={"reason": body.reason, "sessions_revoked": revoked})
    await session.flush()
    return PlatformUserOut.model_validate(user)


@router.post("/users/{user_id}/unlock", response_model=PlatformUserOut)
async def unlock_user(
    user_id: UUID, body: LockBody, session: PlatformSession, admin: Principal = require(Permission.ADMIN_USERS),
) -> PlatformUserOut:
    user = await _user(session, user_id, admin)
    user.is_active = True
    await record_audit(session, tenant_id=user.tenant_id, action="platform.user_unlocked",
                       actor_user_id=admin.user_id, actor_role=admin.role.value, target_type="user",
                       target_id=user.id, details={"reason": body.reason})
    await session.flush()
    return PlatformUserOut.model_validate(user)


@router.post("/users/{user_id}/revoke-sessions", response_model=SessionsRevoked)
async def revoke_user_sessions(
    user_id: UUID, body: LockBody, session: PlatformSession, state: State,
    admin: Principal = require(Permission.ADMIN_USERS),
) -> SessionsRevoked:
    """Sign an account out everywhere (e.g. a lost phone); it may sign in again."""
    user = await _user(session, user_id, admin)
    revoked = await revoke_all_sessions(session, user.id, reason="revoked_by_admin", redis=state.redis,
                                        settings=state.settings)
    await record_audit(session, tenant_id=user.tenant_id, action="platform.sessions_revoked",
                       actor_user_id=admin.user_id, actor_role=admin.role.value, target_type="user",
                       target_id=user.id, details={"reason": body.reason, "sessions_revoked": revoked})
    return SessionsRevoked(user_id=user.id, sessions_revoked=revoked)
