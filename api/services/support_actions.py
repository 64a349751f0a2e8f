"""The support console's actions that were missing elsewhere (docs/team.md, "Support console").

Each needs a reason and is an audit event naming who did it, on the workflow (`target_type`
"workflow", `target_id` its id, so the console's `actions` list shows it). Changes reach the
workflow as its own validated updates (answered with the new state, refusals are 409s) or, for
a resend, as a `ResendMessage` workflow started after the commit: the request never waits on a
provider. The update goes first and the audit event after, so a refused action leaves no trace
of a change that did not happen.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ResetActivityRequest, ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus

from api.deps import Principal
from api.problems import CONFLICT, NOT_FOUND, Problem
from api.schemas.support import ActionDone
from api.services.bookings import require_changeable, run_update
from api.services.support import _owned
from api.state import AppState
from api.temporal_calls import release_request_session
from api.workflow_starts import signal_after_commit, start_after_commit
from domain.bookings.consultation import WORKFLOW_TYPE as CONSULTATION
from domain.bookings.consultation import Outcome, OutcomeRequest
from domain.payments.orders import order_workflow_id
from domain.quotations import QUOTATION_WORKFLOW
from domain.remedies.programme import REMEDY_WORKFLOW, Pause, Resume
from domain.support import RESEND_WORKFLOW, PauseReminders, ResendRequest, resend_workflow_id
from models.bookings import Booking
from models.notifications import NotificationDelivery
from models.payments import Order
from models.platform import AuditEvent, record_audit
from workflows.search_attributes import ENTITY_STATUS, TENANT_ID

RETRYABLE_CLOSED = (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TIMED_OUT)


async def _audit(session: AsyncSession, tenant_id: UUID, principal: Principal, action: str, workflow_id: str,
                 details: dict[str, Any]) -> AuditEvent:
    return await record_audit(session, tenant_id=tenant_id, action=action, actor_user_id=principal.user_id,
                              actor_role=principal.role.value, target_type="workflow", target_id=workflow_id,
                              details=details)


def _done(event: AuditEvent, workflow_id: str, detail: str, **more: Any) -> ActionDone:
    return ActionDone(workflow_id=workflow_id, action=event.action, at=event.at, detail=detail, **more)


def _dump(state: Any) -> dict[str, Any] | None:
    if state is None:
        return None
    return state.model_dump(mode="json") if hasattr(state, "model_dump") else dict(state)


# -- resend a message ----------------------------------------------------------------------------
async def resend(request: Request, session: AsyncSession, state: AppState, client: Client, *, tenant_id: UUID,
                 workflow_id: str, delivery_id: UUID, reason: str, principal: Principal) -> ActionDone:
    """Send one of the workflow's logged messages again, its words unchanged, to the same person
    on the same channel (attachments are not kept in the log: the message's links still work)."""
    await _owned(client, tenant_id, workflow_id)
    message = (await session.execute(select(NotificationDelivery).where(
        NotificationDelivery.id == delivery_id, NotificationDelivery.tenant_id == tenant_id,
        NotificationDelivery.request_key.startswith(f"{workflow_id}:", autoescape=True)))).scalar_one_or_none()
    if message is None:
        raise Problem(NOT_FOUND, "this workflow sent no message with this id (see its `messages`)",
                      field="delivery_id")
    if message.channel == "in_app":
        raise Problem(CONFLICT, "an in-app message stays in the person's inbox: there is nothing to send again",
                      field="delivery_id")
    action_id = uuid.uuid4()
    follow_up = resend_workflow_id(action_id)
    event = await _audit(session, tenant_id, principal, "support.message_resent", workflow_id, {
        "reason": reason, "delivery_id": str(message.id), "event": message.event, "channel": message.channel,
        "recipient": message.recipient, "resend_workflow_id": follow_up})
    await start_after_commit(
        request, session, state, workflow_type=RESEND_WORKFLOW, workflow_id=follow_up,
        payload=ResendRequest(tenant_id=tenant_id, delivery_id=message.id,
                              request_key=f"{workflow_id}:resend:{action_id}"),
        tenant_id=tenant_id, search_attributes={TENANT_ID.name: str(tenant_id), ENTITY_STATUS.name: "sending"},
        memo={"summary": f"resend {message.event} by {message.channel} to {message.recipient}"})
    return _done(event, workflow_id, f"{message.event} will be sent again by {message.channel} to "
                                     f"{message.recipient}", follow_up_workflow_id=follow_up)


# -- retry a failed step -------------------------------------------------------------------------
async def retry(client: Client, session: AsyncSession, *, tenant_id: UUID, workflow_id: str, reason: str,
                principal: Principal) -> ActionDone:
    """A running workflow: every step being retried (an activity past its first attempt) is tried
    again now, its attempts counted afresh. A failed or timed-out workflow: reset to its last
    completed step, so it runs on from there (a new run of the same workflow id)."""
    described = await _owned(client, tenant_id, workflow_id)
    execution = WorkflowExecution(workflow_id=workflow_id, run_id=described.run_id)
    await release_request_session()  # raw service calls do not pass the client's guard
    if described.status == WorkflowExecutionStatus.RUNNING:
        failing = [p for p in described.raw_description.pending_activities
                   if p.attempt > 1 or p.last_failure.message]
        if not failing:
            raise Problem(CONFLICT, "nothing is failing here: no step of this workflow is being retried")
        for pending in failing:
            await client.workflow_service.reset_activity(ResetActivityRequest(
                namespace=client.namespace, execution=execution, id=pending.activity_id,
                identity=f"support:{principal.user_id}"))
        steps = [p.activity_type.name for p in failing]
        event = await _audit(session, tenant_id, principal, "support.step_retried", workflow_id,
                             {"reason": reason, "steps": steps})
        return _done(event, workflow_id, f"tried again now: {', '.join(steps)}")
    if described.status not in RETRYABLE_CLOSED:
        status = described.status.name.lower().replace("_", " ") if described.status else "unknown"
        raise Problem(CONFLICT, f"this workflow is {status}: only a running, failed or timed-out one has a "
                      "step to retry")
    last_completed = 0
    async for history_event in client.get_workflow_handle(workflow_id, run_id=described.run_id) \
            .fetch_history_events():
        if history_event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            last_completed = history_event.event_id
    if not last_completed:
        raise Problem(CONFLICT, "this workflow failed before its first step: start it again instead")
    await release_request_session()
    reset = await client.workflow_service.reset_workflow_execution(ResetWorkflowExecutionRequest(
        namespace=client.namespace, workflow_execution=execution, reason=f"support: {reason}"[:500],
        workflow_task_finish_event_id=last_completed, request_id=str(uuid.uuid4()),
        identity=f"support:{principal.user_id}"))
    event = await _audit(session, tenant_id, principal, "support.workflow_reset", workflow_id, {
        "reason": reason, "from_run_id": described.run_id, "run_id": reset.run_id, "event_id": last_completed})
    return _done(event, workflow_id, f"running again from its last completed step (event {last_completed})")


# -- pause and resume reminders ------------------------------------------------------------------
async def reminders(client: Client, session: AsyncSession, *, tenant_id: UUID, workflow_id: str, paused: bool,
                    reason: str, principal: Principal) -> ActionDone:
    """Bookings (the Consultation workflow's reminders before the session), quotations (before
    they expire, and to pay an accepted one) and remedy programmes (their daily reminders); the
    other workflows send no reminders a client would want paused."""
    described = await _owned(client, tenant_id, workflow_id)
    handle = client.get_workflow_handle(workflow_id)
    if described.workflow_type in (CONSULTATION, QUOTATION_WORKFLOW):
        answer: Any = await handle.execute_update(
            "pause_reminders", PauseReminders(paused=paused, reason=reason, actor_user_id=principal.user_id))
    elif described.workflow_type == REMEDY_WORKFLOW:
        actor = {"actor_user_id": principal.user_id, "actor_role": principal.role.value}
        answer = await handle.execute_update("pause", Pause(reason=reason, **actor)) if paused \
            else await handle.execute_update("resume", Resume(**actor))
    else:
        raise Problem(CONFLICT, f"a {described.workflow_type} workflow sends no reminders to pause: only bookings "
                      "(Consultation), quotations and remedy programmes do")
    event = await _audit(session, tenant_id, principal,
                         "support.reminders_paused" if paused else "support.reminders_resumed", workflow_id,
                         {"reason": reason, "workflow_type": described.workflow_type})
    return _done(event, workflow_id, "reminders paused: those falling due are skipped" if paused
                 else "reminders resumed from the next one", state=_dump(answer))


# -- record a session's outcome ------------------------------------------------------------------
async def record_outcome(client: Client, session: AsyncSession, state: AppState, *, tenant_id: UUID,
                         booking_id: UUID, outcome: str, summary: str | None, reason: str,
                         principal: Principal) -> ActionDone:
    """Completed or no-show for a confirmed booking whose session has started (the consultant
    forgot, or asked support to), through the same `record_outcome` update as the consultant's."""
    booking = (await session.execute(select(Booking).where(Booking.id == booking_id, Booking.tenant_id == tenant_id))
               ).scalar_one_or_none()
    if booking is None:
        raise Problem(NOT_FOUND, "this consultancy has no booking with this id", field="booking_id")
    require_changeable(booking, "marked")
    answer = await run_update(client, booking, "record_outcome", OutcomeRequest(
        outcome=Outcome(outcome), summary=summary, actor_user_id=principal.user_id))
    workflow_id = booking.workflow_id
    event = await _audit(session, tenant_id, principal, "support.outcome_recorded", workflow_id,
                         {"reason": reason, "outcome": outcome, "booking_id": str(booking.id)})
    return _done(event, workflow_id, f"the session is recorded as {outcome.replace('_', ' ')}",
                 state=_dump(answer))


# -- an order's time to pay ----------------------------------------------------------------------
async def extend_payment(request: Request, session: AsyncSession, state: AppState, *, tenant_id: UUID,
                         order_id: UUID, minutes: int, reason: str, principal: Principal) -> ActionDone:
    """Give an unpaid order more time: written and audited here, then signalled (`extend_payment`,
    relayed if the first send fails). A booking's order moves with its hold instead (extend-hold)."""
    order = (await session.execute(select(Order).where(Order.id == order_id, Order.tenant_id == tenant_id)
                                   .with_for_update())).scalar_one_or_none()
    if order is None:
        raise Problem(NOT_FOUND, "this consultancy has no order with this id", field="order_id")
    if order.status != "pending_payment":
        raise Problem(CONFLICT, f"this order is {order.status.replace('_', ' ')}: only an unpaid one waits for "
                      "its payment")
    booked = (await session.execute(select(Booking.id).where(Booking.order_id == order.id))).first()
    if booked is not None:
        raise Problem(CONFLICT, "this order pays for a booking: extend the booking's hold instead "
                      f"(POST /support/bookings/{booked[0]}/extend-hold), so the slot stays taken as long")
    now = datetime.now(UTC)
    if order.expires_at <= now:
        raise Problem(CONFLICT, "the time to pay has run out already; the order is being closed")
    before = order.expires_at
    order.expires_at = before + timedelta(minutes=minutes)
    workflow_id = order_workflow_id(order.id)
    event = await _audit(session, tenant_id, principal, "support.payment_extended", workflow_id, {
        "reason": reason, "minutes": minutes, "from": before.isoformat(), "to": order.expires_at.isoformat(),
        "order_id": str(order.id)})
    await session.flush()
    await signal_after_commit(request, session, state, workflow_id=workflow_id, signal="extend_payment",
                              payload=order.expires_at, tenant_id=tenant_id)
    return _done(event, workflow_id, f"the order waits for its payment until {order.expires_at:%Y-%m-%d %H:%M} UTC")
