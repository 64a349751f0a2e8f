"""Listing the audit log and the outbox, shared by the tenant's and the platform's endpoints."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.pagination import Page, PageParams, paginate
from api.schemas.admin import AuditEventOut, OutboxMessageOut
from models.platform import AuditEvent, OutboxMessage


async def audit_page(
    session: AsyncSession, paging: PageParams, *, tenant_id: UUID | None, action: str | None
) -> Page[AuditEventOut]:
    stmt = select(AuditEvent)
    if tenant_id:
        stmt = stmt.where(AuditEvent.tenant_id == tenant_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    rows, cursor = await paginate(session, stmt, paging, sortable={"at": AuditEvent.at},
                                  default_sort="-at", id_column=AuditEvent.id)
    return Page[AuditEventOut](items=[AuditEventOut.model_validate(r) for r in rows], next_cursor=cursor)


async def outbox_page(
    session: AsyncSession, paging: PageParams, *, tenant_id: UUID | None, template: str | None,
    recipient: str | None,
) -> Page[OutboxMessageOut]:
    stmt = select(OutboxMessage)
    if tenant_id:
        stmt = stmt.where(OutboxMessage.tenant_id == tenant_id)
    if template:
        stmt = stmt.where(OutboxMessage.template == template)
    if recipient:
        stmt = stmt.where(OutboxMessage.recipient == recipient.strip().lower())
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": OutboxMessage.created_at},
                                  default_sort="-created_at", id_column=OutboxMessage.id)
    return Page[OutboxMessageOut](items=[OutboxMessageOut.model_validate(r) for r in rows], next_cursor=cursor)
