"""/report-deliveries: a sold report from the consultant's upload to the client's first open.

Each delivery is a ReportDeliveryWorkflow (`report-<id>`, id = the order (line) that sold it).
Until payments start it on payment, staff start it here. The database mirrors its state for
reads; `GET /report-deliveries/{id}` adds the live workflow's state for staff.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from temporalio.service import RPCError

from api.deps import CurrentTenant, Principal, Session, State, Temporal, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission, allowed
from api.problems import ALREADY_EXISTS, CONFLICT, NOT_FOUND, VALIDATION, Problem
from api.schemas.files import ManualDeliveryBody, ReportDeliveryCreate, ReportDeliveryOut, ReportDeliveryView
from api.services.files import multipart_body, put_upload, read_upload, storage_of
from api.temporal_calls import release
from api.workflow_starts import signal_after_commit, start_after_commit
from core.logging import request_id_var
from domain.files import FileKind
from domain.report_delivery import (
    FINAL_STATUSES,
    REPORT_DELIVERY_WORKFLOW,
    ManualDelivery,
    ReportDeliveryInput,
    ReportDeliveryState,
    ReportDeliveryStatus,
    ReportUploaded,
    start_arguments,
)
from models.files import ReportDelivery
from models.identity import Role, User
from models.platform import record_audit

log = logging.getLogger(__name__)

router = APIRouter(prefix="/report-deliveries", tags=["report deliveries"])

CONSULTANT_ROLES = (Role.OWNER, Role.CONSULTANT)


def _is_staff(principal: Principal) -> bool:
    return allowed(principal.role, Permission.MANAGE_REPORTS)


def deliveries_of(tenant_id: UUID, principal: Principal) -> Select[ReportDelivery]:
    """The one readable statement for deliveries: a client's own, every one of the tenant for staff."""
    stmt = select(ReportDelivery).where(ReportDelivery.tenant_id == tenant_id)
    if not _is_staff(principal):
        stmt = stmt.where(ReportDelivery.client_id == principal.user_id)
    return stmt


async def _delivery(session: Session, tenant_id: UUID, principal: Principal, delivery_id: UUID) -> ReportDelivery:
    stmt = deliveries_of(tenant_id, principal).where(ReportDelivery.id == delivery_id)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise Problem(NOT_FOUND, "you have no report delivery with this id", field="delivery_id")
    return found


def _refuse_if_delivered(delivery: ReportDelivery) -> None:
    if delivery.status in FINAL_STATUSES:
        raise Problem(CONFLICT, f"this report is already {delivery.status.value.replace('_', ' ')}")


def _out(delivery: ReportDelivery, principal: Principal) -> ReportDeliveryOut:
    out = ReportDeliveryOut.model_validate(delivery)
    if not _is_staff(principal):  # the client sees the report once it is theirs, and no staff notes
        delivered = delivery.status in (ReportDeliveryStatus.DELIVERED, ReportDeliveryStatus.OPENED)
        out = out.model_copy(update={"file_id": delivery.file_id if delivered else None, "delivery_note": None,
                                     "due_soon_alert_at": None, "overdue_alert_at": None})
    return out


async def _person(session: Session, tenant_id: UUID, user_id: UUID, roles: tuple[Role, ...], field: str,
                  what: str) -> User:
    user = await session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id or user.role not in roles or not user.is_active:
        raise Problem(VALIDATION, f"{field}: this consultancy has no {what} with this id", field=field)
    return user


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReportDeliveryOut)
async def start_delivery(
    body: ReportDeliveryCreate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_REPORTS),
) -> ReportDeliveryOut:
    """Start delivering a report to a client (until payments start it when an order is paid)."""
    if body.due_at <= datetime.now(UTC):
        raise Problem(VALIDATION, "due_at: the due date must be in the future", field="due_at")
    await _person(session, tenant.id, body.client_id, (Role.CLIENT,), "client_id", "client")
    consultant_id = body.consultant_id or principal.user_id
    await _person(session, tenant.id, consultant_id, CONSULTANT_ROLES,
                  "consultant_id" if body.consultant_id else "consultant_id (the caller is not a consultant)",
                  "consultant")
    order_id = body.order_id or uuid.uuid4()
    inp = ReportDeliveryInput(tenant_id=tenant.id, order_id=order_id, client_id=body.client_id,
                              consultant_id=consultant_id, title=body.title, due_at=body.due_at,
                              reference=body.reference, requested_by=principal.user_id)
    workflow_id, search_attributes, memo = start_arguments(inp)
    delivery = ReportDelivery(id=order_id, tenant_id=tenant.id, reference=body.reference, client_id=body.client_id,
                              consultant_id=consultant_id, title=body.title, due_at=body.due_at,
                              status=ReportDeliveryStatus.AWAITING_UPLOAD, workflow_id=workflow_id,
                              requested_by=principal.user_id)
    try:
        async with session.begin_nested():  # ids are unique across tenants (so are workflow ids)
            session.add(delivery)
            await session.flush()
    except IntegrityError as exc:
        raise Problem(ALREADY_EXISTS, "a report delivery for this order exists already", field="order_id") from exc
    await start_after_commit(request, session, state, workflow_type=REPORT_DELIVERY_WORKFLOW,
                             workflow_id=workflow_id, payload=inp, tenant_id=tenant.id,
                             search_attributes=search_attributes, memo=memo)
    await record_audit(session, tenant_id=tenant.id, action="report.delivery_started",
                       actor_user_id=principal.user_id, actor_role=principal.role.value,
                       target_type="report_delivery", target_id=order_id)
    await session.refresh(delivery)
    return _out(delivery, principal)


@router.get("", response_model=Page[ReportDeliveryOut])
async def list_deliveries(
    tenant: CurrentTenant, session: Session, paging: Paging,
    status_: Annotated[ReportDeliveryStatus | None, Query(alias="status")] = None,
    client_id: Annotated[UUID | None, Query()] = None,
    consultant_id: Annotated[UUID | None, Query()] = None,
    principal: Principal = require(Permission.OWN_FILES),
) -> Page[ReportDeliveryOut]:
    """Staff: the consultancy's deliveries (filter by status, client, consultant); a client: their own.
    Sortable by `due_at` and `created_at`."""
    stmt = deliveries_of(tenant.id, principal)
    if status_:
        stmt = stmt.where(ReportDelivery.status == status_)
    if client_id:
        stmt = stmt.where(ReportDelivery.client_id == client_id)
    if consultant_id:
        stmt = stmt.where(ReportDelivery.consultant_id == consultant_id)
    rows, cursor = await paginate(session, stmt, paging,
                                  sortable={"due_at": ReportDelivery.due_at, "created_at": ReportDelivery.created_at},
                                  default_sort="due_at", id_column=ReportDelivery.id)
    return Page[ReportDeliveryOut](items=[_out(r, principal) for r in rows], next_cursor=cursor)


@router.get("/{delivery_id}", response_model=ReportDeliveryView)
async def read_delivery(
    delivery_id: UUID, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.OWN_FILES),
) -> ReportDeliveryView:
    """The delivery as the database records it; for staff, with the live workflow's state."""
    delivery = await _delivery(session, tenant.id, principal, delivery_id)
    live: ReportDeliveryState | None = None
    if _is_staff(principal) and state.temporal is not None:
        try:
            handle = state.temporal.get_workflow_handle(delivery.workflow_id)
            live = await handle.query("state", result_type=ReportDeliveryState)
        except RPCError as exc:
            log.info("state of %s not available: %s", delivery.workflow_id, exc)
    return ReportDeliveryView(**_out(delivery, principal).model_dump(), workflow=live)


@router.post("/{delivery_id}/report", response_model=ReportDeliveryOut,
             openapi_extra=multipart_body("the report: a PDF (recognised by its content)"))
async def upload_report(
    delivery_id: UUID, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_REPORTS),
) -> ReportDeliveryOut:
    """Upload the report's PDF (multipart, part `file`); it is delivered to the client at once."""
    delivery = await _delivery(session, tenant.id, principal, delivery_id)
    _refuse_if_delivered(delivery)
    await release(session)  # no connection held while the body arrives and the bytes are stored
    upload = await read_upload(request, state.settings.upload_max_bytes)
    stored = await put_upload(storage_of(state), upload, tenant_id=tenant.id, client_id=delivery.client_id,
                              uploaded_by=principal.user_id, allowed_kinds=frozenset({FileKind.PDF}),
                              purpose="report")
    await session.refresh(delivery, with_for_update=True)  # one upload at a time; it may have changed meanwhile
    _refuse_if_delivered(delivery)
    session.add(stored)
    await session.flush()
    now = datetime.now(UTC)
    delivery.file_id, delivery.uploaded_at, delivery.uploaded_by = stored.id, now, principal.user_id
    await record_audit(session, tenant_id=tenant.id, action="report.uploaded", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="report_delivery", target_id=delivery.id,
                       details={"file_id": str(stored.id), "size_bytes": stored.size_bytes})
    await session.flush()
    await signal_after_commit(
        request, session, state, workflow_id=delivery.workflow_id, signal="report_uploaded", tenant_id=tenant.id,
        payload=ReportUploaded(file_id=stored.id, uploaded_at=now, uploaded_by=principal.user_id))
    return _out(delivery, principal)


@router.post("/{delivery_id}/delivered-by-hand", response_model=ReportDeliveryView)
async def mark_delivered_by_hand(
    delivery_id: UUID, request: Request, tenant: CurrentTenant, session: Session, state: State, temporal: Temporal,
    body: ManualDeliveryBody | None = None, principal: Principal = require(Permission.MANAGE_REPORTS),
) -> ReportDeliveryView:
    """Record that the report reached the client another way (audited); the workflow ends."""
    delivery = await _delivery(session, tenant.id, principal, delivery_id)
    _refuse_if_delivered(delivery)
    context = request.state.context
    manual = ManualDelivery(actor_user_id=principal.user_id, actor_role=principal.role.value,
                            note=body.note if body else None, request_id=request_id_var.get(), ip=context.ip)
    handle = temporal.get_workflow_handle(delivery.workflow_id)
    live = await handle.execute_update("mark_delivered_by_hand", manual, result_type=ReportDeliveryState)
    await session.refresh(delivery)
    return ReportDeliveryView(**_out(delivery, principal).model_dump(), workflow=live)
