"""/support: the console support staff, owners and platform admins use instead of the Temporal UI.

Read a workflow (live state, history in plain words, messages, actions), find a client's
workflows, and act with a reason: every action is an audit event, and changes reach the workflow
as signals written with the change (relayed if the first send fails). Booking changes that exist
already (cancel, complete, no-show, stop follow-ups, reschedule) are under /bookings; docs/team.md
lists them all and who may do what.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request, status

from api.deps import CurrentTenant, Principal, Session, State, Temporal, require
from api.permissions import Permission
from api.schemas.support import ExtendHold, HoldExtended, NoteIn, SupportNote, WorkflowSummary, WorkflowView
from api.services import support

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
