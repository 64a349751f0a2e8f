"""/support: the console support staff, owners and platform admins use instead of the Temporal UI.

Read a workflow (live state, history in plain words, messages, actions), find a client's
workflows, and act with a reason: every action is an audit event, and changes reach the workflow
as signals written with the change (relayed if the first send fails). Booking changes that exist
already (cancel, complete, no-show, stop follow-ups, reschedule) are under /bookings, and the other
workflows' cancel and extend under their own routes; docs/team.md lists them all and who may do what.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request, status

from api.deps import CurrentTenant, Principal, Session, State, Temporal, require
from api.permissions import Permission
from api.schemas.support import (
    ActionDone,
    CancelIn,
    ExtendHold,
    ExtendPayment,
    HoldExtended,
    NoteIn,
    OutcomeIn,
    RemindersIn,
    ResendIn,
    RetryIn,
    SupportNote,
    WorkflowSummary,
    WorkflowView,
)
from api.services import support, support_actions, support_cancel

router = APIRouter(prefix="/support", tags=["support"])

WorkflowId = Annotated[str, Path(min_length=3, max_length=200, pattern=r"^[A-Za-z0-9:._-]+$",
                                 description="e.g. consultation-<booking id>, order-<order id>")]


@router.get("/workflows/{workflow_id}", response_model=WorkflowView)
async def read_workflow(
    workflow_id: WorkflowId, tenant: CurrentTenant, session: Session, client: Temporal,
    principal: Principal = require(Permission.SUPPORT_VIEW),
) -> WorkflowView:
    """A workflow of this consultancy: its live state (its own query), what happened in plain
    words, what is next (timers, retried steps), the messages it sent and the actions taken on it."""
    return await support.workflow_view(client, session, tenant.id, workflow_id)


@router.get("/clients/{client_id}/workflows", response_model=list[WorkflowSummary])
async def list_client_workflows(
    client_id: UUID, tenant: CurrentTenant, session: Session, client: Temporal,
    principal: Principal = require(Permission.SUPPORT_VIEW),
) -> list[WorkflowSummary]:
    """Every workflow of one client (bookings, orders, report deliveries, courses...), newest first."""
    return await support.client_workflows(client, session, tenant.id, client_id)


@router.post("/workflows/{workflow_id}/notes", status_code=status.HTTP_201_CREATED, response_model=SupportNote)
async def add_note(
    workflow_id: WorkflowId, body: NoteIn, tenant: CurrentTenant, session: Session, client: Temporal,
    principal: Principal = require(Permission.SUPPORT_ACT),
) -> SupportNote:
    """An internal note on a workflow (kept in the audit log; clients never see it)."""
    return await support.add_note(client, session, tenant.id, workflow_id, body.note, principal)


@router.post("/bookings/{booking_id}/extend-hold", response_model=HoldExtended)
async def extend_hold(
    booking_id: UUID, body: ExtendHold, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.SUPPORT_ACT),
) -> HoldExtended:
    """Give a held, unpaid booking more time to be paid, with a reason. The slot stays taken,
    the pay link keeps working until the new time, and the booking's order waits as long."""
    return await support.extend_hold(request, session, state, tenant_id=tenant.id, booking_id=booking_id,
                                     minutes=body.minutes, reason=body.reason, principal=principal)


@router.post("/workflows/{workflow_id}/resend", status_code=status.HTTP_202_ACCEPTED, response_model=ActionDone)
async def resend_message(
    workflow_id: WorkflowId, body: ResendIn, request: Request, tenant: CurrentTenant, session: Session,
    state: State, client: Temporal, principal: Principal = require(Permission.SUPPORT_ACT),
) -> ActionDone:
    """Send one of the workflow's messages again (`delivery_id` from its `messages`): the same
    words to the same person on the same channel, in the background (`follow_up_workflow_id`)."""
    return await support_actions.resend(request, session, state, client, tenant_id=tenant.id, workflow_id=workflow_id,
                                        delivery_id=body.delivery_id, reason=body.reason, principal=principal)


@router.post("/workflows/{workflow_id}/retry", response_model=ActionDone)
async def retry_failed_step(
    workflow_id: WorkflowId, body: RetryIn, tenant: CurrentTenant, session: Session, client: Temporal,
    principal: Principal = require(Permission.SUPPORT_ACT),
) -> ActionDone:
    """Retry now the steps a running workflow keeps retrying (a provider was down, a setting was
    fixed), or run a failed workflow again from its last completed step."""
    return await support_actions.retry(client, session, tenant_id=tenant.id, workflow_id=workflow_id,
                                       reason=body.reason, principal=principal)


@router.post("/workflows/{workflow_id}/reminders/pause", response_model=ActionDone)
async def pause_reminders(
    workflow_id: WorkflowId, body: RemindersIn, tenant: CurrentTenant, session: Session, client: Temporal,
    principal: Principal = require(Permission.SUPPORT_ACT),
) -> ActionDone:
    """Stop a booking's, a quotation's or a remedy programme's reminders until resumed (those due
    meanwhile are skipped, never sent late)."""
    return await support_actions.reminders(client, session, tenant_id=tenant.id, workflow_id=workflow_id,
                                           paused=True, reason=body.reason, principal=principal)


@router.post("/workflows/{workflow_id}/reminders/resume", response_model=ActionDone)
async def resume_reminders(
    workflow_id: WorkflowId, body: RemindersIn, tenant: CurrentTenant, session: Session, client: Temporal,
    principal: Principal = require(Permission.SUPPORT_ACT),
) -> ActionDone:
    """Reminders again, from the next one due."""
    return await support_actions.reminders(client, session, tenant_id=tenant.id, workflow_id=workflow_id,
                                           paused=False, reason=body.reason, principal=principal)


@router.post("/bookings/{booking_id}/outcome", response_model=ActionDone)
async def record_outcome(
    booking_id: UUID, body: OutcomeIn, tenant: CurrentTenant, session: Session, state: State, client: Temporal,
    principal: Principal = require(Permission.SUPPORT_ACT),
) -> ActionDone:
    """Record a started session as completed or a no-show on the consultant's behalf, with a reason."""
    return await support_actions.record_outcome(client, session, state, tenant_id=tenant.id, booking_id=booking_id,
                                                outcome=body.outcome, summary=body.summary, reason=body.reason,
                                                principal=principal)


@router.post("/orders/{order_id}/extend-payment", response_model=ActionDone)
async def extend_payment(
    order_id: UUID, body: ExtendPayment, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.SUPPORT_ACT),
) -> ActionDone:
    """Give an unpaid order (not a booking's: extend its hold) more time to be paid."""
    return await support_actions.extend_payment(request, session, state, tenant_id=tenant.id, order_id=order_id,
                                                minutes=body.minutes, reason=body.reason, principal=principal)


@router.post("/workflows/{workflow_id}/cancel", response_model=ActionDone)
async def cancel_workflow(
    workflow_id: WorkflowId, body: CancelIn, request: Request, tenant: CurrentTenant, session: Session,
    state: State, client: Temporal, principal: Principal = require(Permission.SUPPORT_ACT),
) -> ActionDone:
    """End a booking (cancelled by the consultancy), quotation (withdrawn), remedy programme
    (stopped), enrolment (revoked), unpaid order or broadcast, with a reason, each the way it ends."""
    return await support_cancel.cancel(request, session, state, client, tenant_id=tenant.id, workflow_id=workflow_id,
                                       reason=body.reason, principal=principal)
