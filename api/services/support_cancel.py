"""The support console's cancel: one route for every workflow that can be ended early, each
through that workflow's own way of ending (docs/team.md, "Which action, for which workflow").

A booking is cancelled by the consultancy (a full refund of what was paid, as
`/bookings/{id}/cancel` does for staff), a quotation withdrawn, a remedy programme stopped, an
enrolment revoked, an unpaid order cancelled, a broadcast stopped; each with the reason, and an
audit event `support.cancelled` on the workflow written once the workflow took the change (an
update's refusal is a 409 and leaves none). Report deliveries and onboarding cannot be cancelled.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus

from api.deps import Principal
from api.problems import CONFLICT, Problem
from api.schemas.support import ActionDone
from api.services.bookings import require_changeable, run_update
from api.services.course_learning import actor
from api.services.support import _owned
from api.state import AppState
from api.workflow_starts import signal_after_commit
from core.logging import request_id_var
from domain.bookings.consultation import WORKFLOW_TYPE as CONSULTATION
from domain.bookings.consultation import CancelRequest
from domain.bookings.policies import CancelledBy
from domain.courses.enrollment import ENROLLMENT_WORKFLOW, EndAccess, EnrollmentStatus
from domain.quotations import QUOTATION_WORKFLOW, WithdrawRequest
from domain.remedies.programme import REMEDY_WORKFLOW, Stop
from models.bookings import Booking
from models.courses import Enrollment
from models.notifications import Broadcast
from models.payments import Order
from models.platform import record_audit

CANCELLABLE = (CONSULTATION, "Order", "Broadcast", QUOTATION_WORKFLOW, REMEDY_WORKFLOW, ENROLLMENT_WORKFLOW)


async def cancel(request: Request, session: AsyncSession, state: AppState, client: Client, *, tenant_id: UUID,
                 workflow_id: str, reason: str, principal: Principal) -> ActionDone:
    described = await _owned(client, tenant_id, workflow_id)
    kind = described.workflow_type
    if kind not in CANCELLABLE:
        raise Problem(CONFLICT, f"a {kind} workflow cannot be cancelled from the console; the ones that can: "
                      + ", ".join(CANCELLABLE))
    if described.status != WorkflowExecutionStatus.RUNNING:
        raise Problem(CONFLICT, "this workflow has ended already: there is nothing to cancel")
    handle = client.get_workflow_handle(workflow_id)
    who = {"actor_user_id": principal.user_id, "actor_role": principal.role.value}
    answer: Any = None
    if kind == CONSULTATION:
        booking = (await session.execute(select(Booking).where(
            Booking.workflow_id == workflow_id, Booking.tenant_id == tenant_id))).scalar_one()
        require_changeable(booking, "cancelled")
        answer = await run_update(client, booking, "cancel", CancelRequest(
            by=CancelledBy.CONSULTANT, reason=reason, actor_user_id=principal.user_id,
            request_id=request_id_var.get()))
        done = "the booking is cancelled by the consultancy (what was paid is refunded in full)"
    elif kind == QUOTATION_WORKFLOW:
        answer = await handle.execute_update("withdraw", WithdrawRequest(reason=reason,
                                                                         actor_user_id=principal.user_id))
        done = "the quotation is withdrawn; the client is told why"
    elif kind == REMEDY_WORKFLOW:
        answer = await handle.execute_update("stop", Stop(reason=reason, **who))
        done = "the programme is stopped: no more reminders"
    elif kind == "Order":
        order = (await session.execute(select(Order).where(
            Order.id == UUID(workflow_id.removeprefix("order-")), Order.tenant_id == tenant_id).with_for_update()
        )).scalar_one()
        if order.status != "pending_payment":
            raise Problem(CONFLICT, f"this order is {order.status.replace('_', ' ')}: only an unpaid one is "
                          "cancelled (refund a paid one: docs/payments.md)")
        await signal_after_commit(request, session, state, workflow_id=workflow_id, signal="cancel",
                                  payload=reason, tenant_id=tenant_id)
        done = "the order is being cancelled: what it holds is released"
    elif kind == "Broadcast":
        broadcast = (await session.execute(select(Broadcast).where(
            Broadcast.workflow_id == workflow_id, Broadcast.tenant_id == tenant_id))).scalar_one()
        if broadcast.status in ("completed", "cancelled"):
            raise Problem(CONFLICT, f"this broadcast is {broadcast.status} already")
        await signal_after_commit(request, session, state, workflow_id=workflow_id, signal="cancel",
                                  payload=None, tenant_id=tenant_id)
        done = "the broadcast stops; clients already reached stay reached"
    else:  # an enrolment: written here (as /course-enrollments/{id}/revoke does), then signalled
        enrollment = (await session.execute(select(Enrollment).where(
            Enrollment.workflow_id == workflow_id, Enrollment.tenant_id == tenant_id).with_for_update())).scalar_one()
        if enrollment.status == EnrollmentStatus.REVOKED:
            raise Problem(CONFLICT, "this enrolment is already revoked")
        enrollment.status, enrollment.ended_at = EnrollmentStatus.REVOKED.value, datetime.now(UTC)
        enrollment.end_reason = reason
        await signal_after_commit(request, session, state, workflow_id=workflow_id, signal="revoke",
                                  payload=EndAccess(**actor(request, principal), reason=reason), tenant_id=tenant_id)
        done = "the enrolment is revoked: the client's access ended now"
    event = await record_audit(session, tenant_id=tenant_id, action="support.cancelled",
                               actor_user_id=principal.user_id, actor_role=principal.role.value,
                               target_type="workflow", target_id=workflow_id,
                               details={"reason": reason, "workflow_type": kind})
    await session.flush()
    state_now = answer.model_dump(mode="json") if hasattr(answer, "model_dump") else None
    return ActionDone(workflow_id=workflow_id, action=event.action, at=event.at, detail=done, state=state_now)
