"""The support console: a workflow's live state, history in plain words and messages; a client's
workflows through Temporal visibility; and audited actions, each with a reason.

A workflow belongs to the tenant its `TenantId` search attribute names: anything else, or a
workflow that does not exist, is the same 404 (other tenants' workflows are not even confirmed).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Principal
from api.problems import CONFLICT, NOT_FOUND, Problem
from api.schemas.support import HistoryLine, HoldExtended, SentMessage, SupportNote, WorkflowSummary, WorkflowView
from api.services.support_history import HistoryReader
from api.state import AppState
from api.workflow_starts import signal_after_commit
from domain.bookings.consultation import BookingStatus, consultation_workflow_id
from domain.payments.orders import order_workflow_id
from models.bookings import Booking
from models.identity import Role, User
from models.notifications import NotificationDelivery
from models.payments import Order
from models.platform import AuditEvent, record_audit
from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID

log = logging.getLogger(__name__)

HISTORY_LINES = 60
_UUID_TAIL = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
_QUERY_OF = {"Broadcast": "progress"}  # the live-state query of each workflow type (default: "state")


def _not_found() -> Problem:
    return Problem(NOT_FOUND, "this consultancy has no workflow with this id", field="workflow_id")


def _status(status: WorkflowExecutionStatus | None) -> str:
    return status.name.lower().replace("_", " ") if status else "unknown"


async def _memo_summary(execution: WorkflowExecution) -> str | None:
    try:
        memo = await execution.memo()
    except Exception:  # a memo the converter cannot read is not worth failing the page for
        return None
    summary = memo.get("summary")
    return str(summary) if summary is not None else None


async def _owned(client: Client, tenant_id: UUID, workflow_id: str) -> WorkflowExecutionDescription:
    try:
        described = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise _not_found() from exc
        raise
    if described.typed_search_attributes.get(TENANT_ID) != str(tenant_id):
        raise _not_found()
    return described


async def workflow_view(client: Client, session: AsyncSession, tenant_id: UUID, workflow_id: str) -> WorkflowView:
    described = await _owned(client, tenant_id, workflow_id)
    handle = client.get_workflow_handle(workflow_id)
    state: dict[str, Any] | None = None
    try:
        answered = await handle.query(_QUERY_OF.get(described.workflow_type, "state"))
        state = answered if isinstance(answered, dict) else {"value": answered}
    except Exception as exc:  # no such query, no worker polling now: the rest of the page still helps
        log.info("support: no live state for %s: %s", workflow_id, exc)
    reader, lines = HistoryReader(), []
    async for event in handle.fetch_history_events():
        said = reader.line(event)
        if said:
            lines.append(HistoryLine(at=event.event_time.ToDatetime().replace(tzinfo=UTC), what=said))
    running = described.status == WorkflowExecutionStatus.RUNNING
    upcoming = [f"waiting until {at:%Y-%m-%d %H:%M} UTC" for at in sorted(reader.timers.values())] if running else []
    for pending in described.raw_description.pending_activities if running else []:
        why = pending.last_failure.message.strip().splitlines()[0][:200] if pending.last_failure.message else ""
        upcoming.append(f"step {pending.activity_type.name} running (attempt {pending.attempt})"
                        + (f", last failure: {why}" if why else ""))
    tail = _UUID_TAIL.search(workflow_id)
    targets = [workflow_id] + ([tail.group(1)] if tail else [])
    messages = (await session.execute(
        select(NotificationDelivery).where(NotificationDelivery.request_key.startswith(f"{workflow_id}:",
                                                                                       autoescape=True))
        .order_by(NotificationDelivery.created_at.desc()).limit(50))).scalars()
    actions = (await session.execute(
        select(AuditEvent).where(AuditEvent.tenant_id == tenant_id, AuditEvent.target_id.in_(targets))
        .order_by(AuditEvent.at.desc()).limit(50))).scalars()
    return WorkflowView(
        workflow_id=workflow_id, workflow_type=described.workflow_type, execution_status=_status(described.status),
        entity_status=described.typed_search_attributes.get(ENTITY_STATUS),
        client_id=described.typed_search_attributes.get(CLIENT_ID), summary=await _memo_summary(described),
        started_at=described.start_time, closed_at=described.close_time, state=state, next=upcoming,
        history=lines[-HISTORY_LINES:],
        messages=[SentMessage(delivery_id=m.id, at=m.created_at, event=m.event, channel=m.channel,
                              recipient=m.recipient, status=m.status, error=m.error) for m in messages],
        actions=[SupportNote(at=a.at, action=a.action, actor_user_id=a.actor_user_id, details=a.details)
                 for a in actions],
    )


async def client_workflows(client: Client, session: AsyncSession, tenant_id: UUID,
                           client_id: UUID) -> list[WorkflowSummary]:
    """Every workflow of one client, newest first, found by the ClientId search attribute."""
    person = await session.get(User, client_id)
    if person is None or person.tenant_id != tenant_id or person.role != Role.CLIENT:
        raise Problem(NOT_FOUND, "this consultancy has no client with this id", field="client_id")
    query = f"TenantId = '{tenant_id}' AND ClientId = '{client_id}'"  # both are UUIDs: nothing to escape
    found: list[WorkflowSummary] = []
    async for execution in client.list_workflows(query, limit=200):
        found.append(WorkflowSummary(
            workflow_id=execution.id, workflow_type=execution.workflow_type,
            execution_status=_status(execution.status),
            entity_status=execution.typed_search_attributes.get(ENTITY_STATUS),
            summary=await _memo_summary(execution), started_at=execution.start_time,
            closed_at=execution.close_time))
    return sorted(found, key=lambda w: w.started_at or datetime.min.replace(tzinfo=UTC), reverse=True)


async def add_note(client: Client, session: AsyncSession, tenant_id: UUID, workflow_id: str, note: str,
                   principal: Principal) -> SupportNote:
    await _owned(client, tenant_id, workflow_id)
    event = await record_audit(session, tenant_id=tenant_id, action="support.note", actor_user_id=principal.user_id,
                               actor_role=principal.role.value, target_type="workflow", target_id=workflow_id,
                               details={"note": note})
    return SupportNote(at=event.at, action=event.action, actor_user_id=event.actor_user_id, details=event.details)


async def extend_hold(request: Request, session: AsyncSession, state: AppState, *, tenant_id: UUID,
                      booking_id: UUID, minutes: int, reason: str, principal: Principal) -> HoldExtended:
    """Give a held, unpaid booking more time: written and audited here, then signalled to its
    Consultation workflow (and its order's, so the payment is still taken) after the commit."""
    booking = (await session.execute(select(Booking).where(Booking.id == booking_id, Booking.tenant_id == tenant_id)
                                     .with_for_update())).scalar_one_or_none()
    if booking is None:
        raise Problem(NOT_FOUND, "this consultancy has no booking with this id", field="booking_id")
    now = datetime.now(UTC)
    if booking.status != BookingStatus.HELD or booking.paid_at is not None:
        raise Problem(CONFLICT, f"this booking is {booking.status.value.replace('_', ' ')}: only a held, unpaid "
                      "booking has a hold to extend")
    if booking.hold_expires_at is None or booking.hold_expires_at <= now:
        raise Problem(CONFLICT, "the hold has run out already and the time is released; book again")
    before = booking.hold_expires_at
    booking.hold_expires_at = before + timedelta(minutes=minutes)
    order = None
    if booking.order_id is not None:
        order = (await session.execute(select(Order).where(Order.id == booking.order_id).with_for_update())
                 ).scalar_one_or_none()
        if order is not None and order.status == "pending_payment" and order.expires_at < booking.hold_expires_at:
            order.expires_at = booking.hold_expires_at
    await record_audit(session, tenant_id=tenant_id, action="support.hold_extended", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="booking", target_id=booking.id,
                       details={"reason": reason, "minutes": minutes, "from": before.isoformat(),
                                "to": booking.hold_expires_at.isoformat(),
                                "workflow_id": consultation_workflow_id(booking.id)})
    await session.flush()
    await signal_after_commit(request, session, state, workflow_id=consultation_workflow_id(booking.id),
                              signal="extend_hold", payload=booking.hold_expires_at, tenant_id=tenant_id)
    if order is not None and order.status == "pending_payment":
        await signal_after_commit(request, session, state, workflow_id=order_workflow_id(order.id),
                                  signal="extend_payment", payload=booking.hold_expires_at, tenant_id=tenant_id)
    return HoldExtended(booking_id=booking.id, hold_expires_at=booking.hold_expires_at,
                        order_pay_by=order.expires_at if order is not None else None)


