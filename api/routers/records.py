"""/audit-events and /outbox of the signed-in consultancy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentTenant, Principal, Session, require
from api.pagination import Page, Paging
from api.permissions import Permission
from api.schemas.admin import AuditEventOut, OutboxMessageOut
from api.services.records import audit_page, outbox_page

router = APIRouter(tags=["records"])


@router.get("/audit-events", response_model=Page[AuditEventOut])
async def list_audit_events(
    tenant: CurrentTenant, session: Session, paging: Paging,
    action: Annotated[str | None, Query(max_length=100, description="exact action, e.g. auth.login")] = None,
    principal: Principal = require(Permission.VIEW_AUDIT),
) -> Page[AuditEventOut]:
    return await audit_page(session, paging, tenant_id=tenant.id, action=action)


@router.get("/outbox", response_model=Page[OutboxMessageOut])
async def list_outbox(
    tenant: CurrentTenant, session: Session, paging: Paging,
    template: Annotated[str | None, Query(max_length=100)] = None,
    recipient: Annotated[str | None, Query(max_length=320)] = None,
    principal: Principal = require(Permission.VIEW_OUTBOX),
) -> Page[OutboxMessageOut]:
    """Messages this consultancy's processes sent through the local (offline) provider."""
    return await outbox_page(session, paging, tenant_id=tenant.id, template=template, recipient=recipient)
