"""/audit-events and /outbox of the signed-in consultancy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.deps import CurrentTenant, Principal, Session, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.schemas.admin import AuditEventOut, OutboxMessageOut
from models.platform import AuditEvent, OutboxMessage

router = APIRouter(tags=["records"])


@router.get("/audit-events", response_model=Page[AuditEventOut])
async def list_audit_events(
    tenant: CurrentTenant, session: Session, paging: Paging,
    action: Annotated[str | None, Query(max_length=100, description="exact action, e.g. auth.login")] = None,
    principal: Principal = require(Permission.VIEW_AUDIT),
) -> Page[AuditEventOut]:
    stmt = select(AuditEvent).where(AuditEvent.tenant_id == tenant.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    rows, cursor = await paginate(session, stmt, paging, sortable={"at": AuditEvent.at},
                                  default_sort="-at", id_column=AuditEvent.id)
    return Page[AuditEventOut](items=[AuditEventOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/outbox", response_model=Page[OutboxMessageOut])
async def list_outbox(
    tenant: CurrentTenant, session: Session, paging: Paging,
    template: Annotated[str | None, Query(max_length=100)] = None,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    principal: Principal = require(Permission.VIEW_OUTBOX),
) -> Page[OutboxMessageOut]:
    """Messages this consultancy's processes sent through the local (offline) provider."""
    stmt = select(OutboxMessage).where(OutboxMessage.tenant_id == tenant.id)
    if template:
        stmt = stmt.where(OutboxMessage.template == template)
    if recipient:
        stmt = stmt.where(OutboxMessage.recipient == recipient.strip().lower())
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": OutboxMessage.created_at},
                                  default_sort="-created_at", id_column=OutboxMessage.id)
    return Page[OutboxMessageOut](items=[OutboxMessageOut.model_validate(r) for r in rows], next_cursor=cursor)
