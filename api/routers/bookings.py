"""/bookings: book, list, reschedule, cancel, complete, no-show, mark paid offline.

Clients see and act on their own bookings; a consultant on theirs; the owner and staff on all
of the consultancy's. Changes go to the booking's Consultation workflow as validated Updates
and are answered once the database reflects them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import select

from api.deps import CurrentTenant, Principal, Session, State, Temporal, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import CONFLICT, FORBIDDEN, NOT_FOUND, VALIDATION, Problem
from api.schemas.bookings import (
    BookingCreate,
    BookingOut,
    CancelBody,
    CompleteBody,
    MarkPaidBody,
    NoShowBody,
    RescheduleBody,
    StopFollowUpsBody,
)
from api.services.booking_gate import booking_claim
from api.services.bookings import (
    PayWith,
    booking_out,
    create_booking,
    offering_of,
    own_consultant,
    require_changeable,
    reread,
    run_update,
    visible_booking,
)
from api.workflow_starts import signal_after_commit
from core.logging import request_id_var
from domain.bookings.consultation import (
    BookingStatus,
    CancelRequest,
    Outcome,
    OutcomeRequest,
    PaymentConfirmed,
    RescheduleRequest,
    StopFollowUps,
)
from domain.bookings.policies import CancelledBy
from domain.payments.orders import order_workflow_id
from models.bookings import Booking
from models.identity import Role, User
from models.platform import record_audit

router = APIRouter(prefix="/bookings", tags=["bookings"])


def _by(principal: Principal) -> CancelledBy:
    return CancelledBy.CLIENT if principal.role == Role.CLIENT else CancelledBy.CONSULTANT


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BookingOut)
async def book(
    _claim: Annotated[None, Depends(booking_claim, scope="function")],  # first: before any database work
    body: BookingCreate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.BOOK),
) -> BookingOut:
    """Book a free slot (or a webinar seat). Free offerings are confirmed at once; paid ones are
    *held* until paid or until the hold expires. 409 `slot-taken` if someone else got it first.
    A paid session takes a coupon (`coupon_code`) and store credit (`use_wallet`) on its order, or
    one session-package credit instead (`use_credit`: confirmed at once, no order)."""
    client_id = principal.user_id
    if body.client_id and body.client_id != principal.user_id:
        if principal.role == Role.CLIENT:
            raise Problem(FORBIDDEN, "clients book for themselves", field="client_id")
        client_id = body.client_id
    elif body.client_id is None and principal.role != Role.CLIENT:  # staff book for a named client
        raise Problem(VALIDATION, "client_id: staff book for a client: name the client (their user id)",
                      field="client_id", extra={"errors": [{
                          "field": "client_id", "message": "required when staff book", "code": "missing"}]})
    client = await session.get(User, client_id)
    if client is None or client.tenant_id != tenant.id or client.role != Role.CLIENT:
        raise Problem(NOT_FOUND, "this consultancy has no client with this id", field="client_id")
    offering = await offering_of(session, tenant, body.offering_id)
    booking = await create_booking(request, session, state, tenant=tenant, offering=offering, client=client,
                                   body=body, actor=principal,
                                   pay_with=PayWith(coupon_code=body.coupon_code, use_wallet=body.use_wallet,
                                                    use_credit=body.use_credit))
    return booking_out(booking, state, principal)


@router.get("", response_model=Page[BookingOut])
async def list_bookings(
    tenant: CurrentTenant, session: Session, state: State, paging: Paging,
    booking_status: Annotated[BookingStatus | None, Query(alias="status")] = None,
    consultant_id: Annotated[UUID | None, Query()] = None,
    client_id: Annotated[UUID | None, Query()] = None,
    starts_from: Annotated[datetime | None, Query(alias="from", description="starts at or after")] = None,
    starts_before: Annotated[datetime | None, Query(alias="to", description="starts before")] = None,
    principal: Principal = require(Permission.BOOK),
) -> Page[BookingOut]:
    stmt = select(Booking).where(Booking.tenant_id == tenant.id)
    if principal.role == Role.CLIENT:
        stmt = stmt.where(Booking.client_id == principal.user_id)
    elif principal.role == Role.CONSULTANT:
        mine = await own_consultant(session, principal)
        stmt = stmt.where(Booking.consultant_id == (mine.id if mine else None))
    if booking_status:
        stmt = stmt.where(Booking.status == booking_status)
    if consultant_id:
        stmt = stmt.where(Booking.consultant_id == consultant_id)
    if client_id:
        stmt = stmt.where(Booking.client_id == client_id)
    if starts_from:
        stmt = stmt.where(Booking.starts_at >= starts_from)
    if starts_before:
        stmt = stmt.where(Booking.starts_at < starts_before)
    rows, cursor = await paginate(session, stmt, paging, sortable={"starts_at": Booking.starts_at,
                                                                   "created_at": Booking.created_at},
                                  default_sort="starts_at", id_column=Booking.id)
    return Page[BookingOut](items=[booking_out(r, state, principal) for r in rows], next_cursor=cursor)


@router.get("/{booking_id}", response_model=BookingOut)
async def read_booking(
    booking_id: UUID, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.BOOK),
) -> BookingOut:
    return booking_out(await visible_booking(session, tenant, booking_id, principal), state, principal)


@router.post("/{booking_id}/reschedule", response_model=BookingOut)
async def reschedule(
    booking_id: UUID, body: RescheduleBody, tenant: CurrentTenant, session: Session, state: State,
    client: Temporal, principal: Principal = require(Permission.BOOK),
) -> BookingOut:
    """Move a confirmed booking to another free slot. Clients within the reschedule policy; the
    consultancy until the start. Reminders move with it; a new invitation (same UID, next
    SEQUENCE) goes to both."""
    booking = await visible_booking(session, tenant, booking_id, principal)
    require_changeable(booking, "moved")
    await run_update(client, booking, "reschedule", RescheduleRequest(
        starts_at=body.starts_at.astimezone(UTC), by=_by(principal), actor_user_id=principal.user_id,
        request_id=request_id_var.get()))
    return booking_out(await reread(session, booking), state, principal)


@router.post("/{booking_id}/cancel", response_model=BookingOut)
async def cancel(
    booking_id: UUID, body: CancelBody, tenant: CurrentTenant, session: Session, state: State,
    client: Temporal, principal: Principal = require(Permission.BOOK),
) -> BookingOut:
    """Cancel before the start. A client's cancellation refunds what the policy's band says; the
    consultancy's refunds in full and needs a reason. The refund due is recorded for payments."""
    booking = await visible_booking(session, tenant, booking_id, principal)
    require_changeable(booking, "cancelled")
    await run_update(client, booking, "cancel", CancelRequest(
        by=_by(principal), reason=body.reason, actor_user_id=principal.user_id, request_id=request_id_var.get()))
    return booking_out(await reread(session, booking), state, principal)


async def _outcome(session: Session, state: State, client: Temporal, tenant: CurrentTenant, principal: Principal,
                   booking_id: UUID, request: OutcomeRequest) -> BookingOut:
    booking = await visible_booking(session, tenant, booking_id, principal)
    require_changeable(booking, "marked")
    await run_update(client, booking, "record_outcome", request)
    return booking_out(await reread(session, booking), state, principal)


@router.post("/{booking_id}/complete", response_model=BookingOut)
async def complete(
    booking_id: UUID, body: CompleteBody, tenant: CurrentTenant, session: Session, state: State,
    client: Temporal, principal: Principal = require(Permission.RECORD_OUTCOMES),
) -> BookingOut:
    """Mark the session completed (from its start), with a summary and private notes (encrypted)."""
    notes = state.keys.encrypt(body.private_notes) if body.private_notes else None
    return await _outcome(session, state, client, tenant, principal, booking_id, OutcomeRequest(
        outcome=Outcome.COMPLETED, summary=body.summary, private_notes_encrypted=notes,
        actor_user_id=principal.user_id, request_id=request_id_var.get()))


@router.post("/{booking_id}/no-show", response_model=BookingOut)
async def no_show(
    booking_id: UUID, body: NoShowBody, tenant: CurrentTenant, session: Session, state: State,
    client: Temporal, principal: Principal = require(Permission.RECORD_OUTCOMES),
) -> BookingOut:
    """The client did not come (from the session's start)."""
    notes = state.keys.encrypt(body.note) if body.note else None
    return await _outcome(session, state, client, tenant, principal, booking_id, OutcomeRequest(
        outcome=Outcome.NO_SHOW, private_notes_encrypted=notes, actor_user_id=principal.user_id,
        request_id=request_id_var.get()))


@router.post("/{booking_id}/mark-paid", status_code=status.HTTP_202_ACCEPTED, response_model=BookingOut)
async def mark_paid(
    booking_id: UUID, body: MarkPaidBody, request: Request, tenant: CurrentTenant, session: Session,
    state: State, principal: Principal = require(Permission.MANAGE_BOOKINGS),
) -> BookingOut:
    """Staff record a payment made outside the platform (cash, UPI to the consultant). The payment
    is written here, audited, and the workflow is told (`payment_confirmed`), which confirms the
    booking; the signal is written with the payment, so the worker's relay sends it should the
    API not (and the hold's expiry finds the payment anyway). The booking's order is cancelled (a
    payment that still reaches it is refunded by the Consultation workflow: it paid for nothing)."""
    booking = await visible_booking(session, tenant, booking_id, principal, lock=True)
    if booking.status != BookingStatus.HELD or booking.paid_at is not None:
        raise Problem(CONFLICT, f"only a booking held for payment can be marked paid; this one is "
                                f"{booking.status.value}{' and paid' if booking.paid_at else ''}")
    now = datetime.now(UTC)
    booking.paid_at, booking.amount_paid_minor = now, body.amount_minor
    booking.payment_method, booking.payment_reference = f"offline-{body.method}", body.reference
    await record_audit(session, tenant_id=tenant.id, action="booking.marked_paid", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="booking", target_id=booking.id,
                       details={"amount_minor": body.amount_minor, "currency": booking.currency,
                                "method": body.method, "reference": body.reference})
    payment = PaymentConfirmed(amount_minor=body.amount_minor, currency=booking.currency,
                               method=f"offline-{body.method}", reference=body.reference, paid_at=now,
                               actor_user_id=principal.user_id)
    await signal_after_commit(request, session, state, workflow_id=booking.workflow_id, signal="payment_confirmed",
                              payload=payment, tenant_id=tenant.id)
    if booking.order_id is not None:  # paid another way: the booking's order no longer takes payment
        await signal_after_commit(request, session, state, workflow_id=order_workflow_id(booking.order_id),
                                  signal="cancel", payload="the booking was paid offline", tenant_id=tenant.id)
    await session.flush()
    return booking_out(booking, state, principal)


@router.post("/{booking_id}/follow-ups/stop", response_model=BookingOut)
async def stop_follow_ups(
    booking_id: UUID, body: StopFollowUpsBody, tenant: CurrentTenant, session: Session, state: State,
    client: Temporal, principal: Principal = require(Permission.BOOK),
) -> BookingOut:
    """No feedback request and/or follow-up nudge for this booking (the client may ask too)."""
    booking = await visible_booking(session, tenant, booking_id, principal)
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED):
        raise Problem(CONFLICT, f"this booking is {booking.status.value}; no follow-ups are planned")
    await run_update(client, booking, "stop_follow_ups", StopFollowUps(which=body.which,
                                                                       actor_user_id=principal.user_id))
    await record_audit(session, tenant_id=tenant.id, action="booking.follow_ups_stopped",
                       actor_user_id=principal.user_id, actor_role=principal.role.value, target_type="booking",
                       target_id=booking.id, details={"which": [w.value for w in body.which]})
    return booking_out(booking, state, principal)
