"""/clients: a consultancy's clients, for its consultants and staff (dashboard: active tenants only)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import or_, select

from api.deps import CurrentTenant, Principal, Session, State, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import NOT_FOUND, Problem
from api.schemas.admin import ClientCreate
from api.schemas.identity import UserOut
from api.services.identity import add_user, send_one_time_link
from models.identity import Role, TokenPurpose, User
from models.platform import record_audit

router = APIRouter(prefix="/clients", tags=["clients"])


def clients_of(tenant_id: UUID):  # type: ignore[no-untyped-def]
    """The one readable statement for a tenant's clients (RLS guards it a second time)."""
    return select(User).where(User.tenant_id == tenant_id, User.role == Role.CLIENT)


@router.get("", response_model=Page[UserOut])
async def list_clients(
    tenant: CurrentTenant,
    session: Session,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100, description="part of the name or email")] = None,
    verified: Annotated[bool | None, Query(description="only (un)verified emails")] = None,
    principal: Principal = require(Permission.VIEW_CLIENTS),
) -> Page[UserOut]:
    stmt = clients_of(tenant.id)
    if q:
        pattern = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(User.email.like(pattern), User.full_name.ilike(pattern)))
    if verified is not None:
        stmt = stmt.where(User.email_verified_at.is_not(None) if verified else User.email_verified_at.is_(None))
    rows, cursor = await paginate(
        session, stmt, paging,
        sortable={"created_at": User.created_at, "full_name": User.full_name, "email": User.email},
        default_sort="-created_at", id_column=User.id,
    )
    return Page[UserOut](items=[UserOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserOut)
async def create_client(
    body: ClientCreate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_CLIENTS),
) -> UserOut:
    """Staff add a client (e.g. one who booked by phone); the client gets a link to set a password."""
    user = await add_user(session, User(
        tenant_id=tenant.id, email=body.email, full_name=body.full_name, phone=body.phone,
        timezone=body.timezone or tenant.timezone, locale=body.locale, role=Role.CLIENT,
    ))
    await send_one_time_link(request, session, state, user=user, tenant=tenant, purpose=TokenPurpose.RESET_PASSWORD)
    await record_audit(session, tenant_id=tenant.id, action="client.created_by_staff",
                       actor_user_id=principal.user_id, actor_role=principal.role.value,
                       target_type="user", target_id=user.id)
    return UserOut.model_validate(user)


@router.get("/{client_id}", response_model=UserOut)
async def read_client(
    client_id: UUID, tenant: CurrentTenant, session: Session, principal: Principal = require(Permission.VIEW_CLIENTS)
) -> UserOut:
    user = (await session.execute(clients_of(tenant.id).where(User.id == client_id))).scalar_one_or_none()
    if user is None:
        raise Problem(NOT_FOUND, "this consultancy has no client with this id", field="client_id")
    return UserOut.model_validate(user)
