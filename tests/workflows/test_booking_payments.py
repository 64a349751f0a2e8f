"""A paid booking and its order, together: the real Consultation and Order workflows on the
time-skipping server, the real activities and database, the local Razorpay with its signed
webhooks. (tests/workflows/test_order_workflow.py drives orders against a stand-in consultation.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from booking_support import Practice, booking_row, load_booking, messages, next_hour, practice, templates
from payments_support import count, payment_reports, report_of, rows
from sqlalchemy import select
from support import poll_until
from temporalio.client import WorkflowHandle

from api.services.orders import NewOrder, create_order
from core.db import TenantScope, scoped_session
from domain.bookings.consultation import BookingStatus, CancelRequest, ConsultationInput, ConsultationState
from domain.bookings.policies import CancelledBy
from domain.payments.orders import (
    OrderInput,
    OrderState,
    OrderStatus,
    RefundRequest,
    RefundStatus,
    order_workflow_id,
)
from domain.payments.pricing import LineIn, LineKind
from models.bookings import Booking
from models.bookings import RefundStatus as BookingRefundStatus
from models.payments import Refund
from models.platform import AuditEvent
from models.tenancy import Tenant
from workflows.consultation import ConsultationWorkflow
from workflows.orders import OrderWorkflow

HOUR = timedelta(hours=1)
SETTLE = 30  # seconds a condition may take to hold on a busy machine; passing tests never wait it
PRICE = 150_000


@dataclass
class PaidBooking:
    practice: Practice
    booking_id: uuid.UUID
    consultation: WorkflowHandle
    order: WorkflowHandle
    order_input: OrderInput
    consultation_input: ConsultationInput


async def _paid_booking(env, sessionmaker, *, starts_in: timedelta, pay_after_hold: timedelta = timedelta(0)
                        ) -> PaidBooking:
    """A held booking and its order as `create_booking` makes them (the order's time to pay ends with
    the hold, or `pay_after_hold` later), both workflows started."""
    p = await practice(sessionmaker, price_minor=PRICE)
    now = await env.get_current_time()
    booking_id, cinp = await booking_row(sessionmaker, p, next_hour(now) + starts_in, now=now)
    async with scoped_session(sessionmaker, TenantScope.of(p.tenant_id)) as session:
        tenant = await session.get(Tenant, p.tenant_id)
        booking = await session.get(Booking, booking_id)
        assert tenant is not None and booking is not None
        order, oinp = await create_order(session, tenant, NewOrder(
            client_id=p.client_id, currency="INR", pay_by=booking.hold_expires_at + pay_after_hold, now=now, lines=[
                LineIn(kind=LineKind.CONSULTATION, description="Kundli reading", unit_amount=PRICE,
                       ref_id=str(booking_id), offering_id=str(p.offering_id))]))
        booking.order_id = order.id
    cinp = cinp.model_copy(update={"order_id": order.id})
    consultation = await env.client.start_workflow(ConsultationWorkflow.run, cinp, id=f"consultation-{booking_id}",
                                                   task_queue=env.task_queue)
    env.started.append(consultation)
    handle = await env.client.start_workflow(OrderWorkflow.run, oinp, id=order_workflow_id(order.id),
                                             task_queue=env.task_queue)
    env.started.append(handle)
    return PaidBooking(p, booking_id, consultation, handle, oinp, cinp)


async def _async(value: Any) -> Any:
    return value


async def _consultation(b: PaidBooking) -> ConsultationState:
    return await b.consultation.query(ConsultationWorkflow.state)


async def _order(b: PaidBooking) -> OrderState:
    return await b.order.query(OrderWorkflow.state)


async def _booking_becomes(b: PaidBooking, status: BookingStatus, *, step: str) -> ConsultationState:
    state = await poll_until(lambda: _consultation(b), lambda s: s.status == status and step in s.steps_notified,
                             timeout=SETTLE)
    assert state.status == status and step in state.steps_notified, state
    return state


async def _order_becomes(b: PaidBooking, status: OrderStatus) -> OrderState:
    state = await poll_until(lambda: _order(b), lambda s: s.status == status, timeout=SETTLE)
    assert state.status == status, state
    return state


async def _pay(b: PaidBooking, gateway) -> str:
    """Checkout, pay at the local Razorpay, deliver its signed webhook as the API would."""
    info = await b.order.execute_update(OrderWorkflow.checkout)
    assert info.amount == PRICE
    gateway.pay(info.gateway_order_id)
    for report in payment_reports(gateway, info.gateway_order_id):
        await b.order.signal(OrderWorkflow.payment_captured, report)
    return info.gateway_order_id


async def test_paying_the_order_confirms_the_booking(env, sessionmaker, gateway):
    b = await _paid_booking(env, sessionmaker, starts_in=3 * 24 * HOUR)
    assert b.order_input.total == PRICE and b.order_input.lines[0].ref_id == str(b.booking_id)
    await _pay(b, gateway)
    await _order_becomes(b, OrderStatus.FULFILLED)
    state = await _booking_becomes(b, BookingStatus.CONFIRMED, step="confirmed")
    assert state.paid and state.meeting_url
    row = await load_booking(sessionmaker, b.booking_id)
    assert (row.status, row.amount_paid_minor, row.payment_method) == (BookingStatus.CONFIRMED, PRICE, "razorpay")
    assert row.payment_reference and str(b.order_input.order_id) in row.payment_reference
    assert "consultation.confirmed.client" in templates(await messages(sessionmaker, b.booking_id))


async def test_a_failed_order_releases_the_hold_at_once(env, sessionmaker, gateway):
    b = await _paid_booking(env, sessionmaker, starts_in=3 * 24 * HOUR)
    info = await b.order.execute_update(OrderWorkflow.checkout)
    gateway.pay(info.gateway_order_id, outcome="failed")  # a declined card: the client may try again
    for report in payment_reports(gateway, info.gateway_order_id, "payment.failed"):
        await b.order.signal(OrderWorkflow.payment_failed, report)
    assert (await _consultation(b)).status == BookingStatus.HELD
    # The order is cancelled before the hold runs out: its release tells the booking at once.
    await b.order.signal(OrderWorkflow.cancel, "the client gave up")
    await _order_becomes(b, OrderStatus.CANCELLED)
    state = await _booking_becomes(b, BookingStatus.ABANDONED, step="hold-expired")
    assert state.payment_failed_reason and "gave up" in state.payment_failed_reason
    assert await env.get_current_time() < b.consultation_input.hold_expires_at  # early, not by the timer
    row = await load_booking(sessionmaker, b.booking_id)
    assert row.status == BookingStatus.ABANDONED  # out of the exclusion constraint: the slot is free
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        actions = (await session.execute(select(AuditEvent.action).where(
            AuditEvent.target_id == str(b.booking_id)))).scalars().all()
    assert "booking.hold_released" in actions
    assert templates(await messages(sessionmaker, b.booking_id, "consultation.hold_expired.client")) == [
        "consultation.hold_expired.client"]
    # The freed slot can be booked again.
    await booking_row(sessionmaker, b.practice, row.starts_at, now=await env.get_current_time())


async def test_an_unpaid_hold_that_runs_out_closes_its_order(env, sessionmaker, gateway):
    # The order could wait an hour longer: it is the booking's hold running out that closes it. (With
    # both timers due together, as `create_booking` sets them, the time-skipping test server may fire
    # one while the workflow task that cancels it is with the worker; it then refuses that task
    # ("invalid history builder state", temporalio/sdk-java#2606, #3088) and the run is stranded.
    # The real server takes such a task. test_order_workflow.py covers an order's own expiry.)
    b = await _paid_booking(env, sessionmaker, starts_in=3 * 24 * HOUR, pay_after_hold=HOUR)
    assert b.consultation_input.hold_expires_at is not None
    await env.sleep(b.consultation_input.hold_expires_at - await env.get_current_time() + timedelta(seconds=5))
    await _booking_becomes(b, BookingStatus.ABANDONED, step="hold-expired")
    await _order_becomes(b, OrderStatus.CANCELLED)
    assert await env.get_current_time() < b.consultation_input.hold_expires_at + HOUR  # not by its own timer
    assert (await load_booking(sessionmaker, b.booking_id)).status == BookingStatus.ABANDONED


async def test_cancelling_a_paid_booking_refunds_the_policys_amount_once(env, sessionmaker, gateway):
    # 10 hours before the start: the default policy gives back 50 %.
    b = await _paid_booking(env, sessionmaker, starts_in=10 * HOUR)
    gateway_order_id = await _pay(b, gateway)
    await _booking_becomes(b, BookingStatus.CONFIRMED, step="confirmed")
    await _order_becomes(b, OrderStatus.FULFILLED)
    cancelled = await b.consultation.execute_update(ConsultationWorkflow.cancel, CancelRequest(
        by=CancelledBy.CLIENT, actor_user_id=b.practice.client_id))
    assert (cancelled.refund_percent, cancelled.refund_due_minor, cancelled.refund_requested) == (50, PRICE // 2, True)

    async def refunds() -> list[Refund]:
        return await rows(sessionmaker, Refund, Refund.order_id == b.order_input.order_id)
    [refund] = await poll_until(refunds, lambda found: len(found) == 1, timeout=SETTLE)
    assert (refund.amount, refund.kind, refund.key) == (PRICE // 2, "cancellation_policy", f"cancel:{b.booking_id}")
    assert refund.cancellation_ref == str(b.booking_id)
    # The same request again (a retried signal) refunds nothing more; the refund settles once.
    await b.order.signal(OrderWorkflow.request_refund, RefundRequest(
        amount=PRICE // 2, reason="again", kind="cancellation_policy", key=f"cancel:{b.booking_id}"))
    # The refund row is written before the gateway is asked: wait for the gateway's answer.
    [settled] = await poll_until(
        lambda: _async(gateway.deliveries_for(gateway_order_id, "refund.processed")),
        lambda found: len(found) >= 1, timeout=SETTLE)
    await b.order.signal(OrderWorkflow.refund_settled, report_of(settled))
    state = await poll_until(lambda: _order(b), lambda s: s.refunded == PRICE // 2, timeout=SETTLE)
    assert [r.status for r in state.refunds] == [RefundStatus.PROCESSED]
    assert await count(sessionmaker, Refund, Refund.order_id == b.order_input.order_id) == 1
    row = await load_booking(sessionmaker, b.booking_id)
    assert (row.refund_due_minor, row.refund_status) == (PRICE // 2, BookingRefundStatus.REFUNDED)


async def test_a_refund_its_order_can_no_longer_take_goes_to_the_consultant_to_make_by_hand(
        env, sessionmaker, gateway):
    b = await _paid_booking(env, sessionmaker, starts_in=3 * 24 * HOUR)
    await _pay(b, gateway)
    await _booking_becomes(b, BookingStatus.CONFIRMED, step="confirmed")
    await _order_becomes(b, OrderStatus.FULFILLED)
    await b.order.terminate("closed, as after its 180 days of taking refunds")
    cancelled = await b.consultation.execute_update(ConsultationWorkflow.cancel, CancelRequest(
        by=CancelledBy.CLIENT, actor_user_id=b.practice.client_id))
    assert (cancelled.refund_due_minor, cancelled.refund_requested) == (PRICE, False)
    await _booking_becomes(b, BookingStatus.CANCELLED, step="refund-by-hand")
    [notice] = await messages(sessionmaker, b.booking_id, "consultation.refund_by_hand.consultant")
    assert notice.recipient == b.practice.owner_email and "₹1,500.00" in notice.body
    row = await load_booking(sessionmaker, b.booking_id)
    assert (row.refund_due_minor, row.refund_status) == (PRICE, BookingRefundStatus.DUE)


async def test_a_cancellation_without_refund_asks_for_nothing(env, sessionmaker, gateway):
    # 2 hours before the start: the default policy gives nothing back.
    b = await _paid_booking(env, sessionmaker, starts_in=2 * HOUR)
    await _pay(b, gateway)
    await _booking_becomes(b, BookingStatus.CONFIRMED, step="confirmed")
    await _order_becomes(b, OrderStatus.FULFILLED)
    cancelled = await b.consultation.execute_update(ConsultationWorkflow.cancel, CancelRequest(
        by=CancelledBy.CLIENT, actor_user_id=b.practice.client_id))
    assert (cancelled.refund_due_minor, cancelled.refund_requested) == (0, False)
    await _booking_becomes(b, BookingStatus.CANCELLED, step="cancelled")
    assert (await _order(b)).refunds == [] and (await _order(b)).status == OrderStatus.FULFILLED
    assert await count(sessionmaker, Refund, Refund.order_id == b.order_input.order_id) == 0


async def test_cancelling_a_held_booking_cancels_its_order(env, sessionmaker, gateway):
    b = await _paid_booking(env, sessionmaker, starts_in=3 * 24 * HOUR)
    await b.consultation.execute_update(ConsultationWorkflow.cancel, CancelRequest(
        by=CancelledBy.CLIENT, actor_user_id=b.practice.client_id))
    await _order_becomes(b, OrderStatus.CANCELLED)
    assert (await load_booking(sessionmaker, b.booking_id)).status == BookingStatus.CANCELLED
