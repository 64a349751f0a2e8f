"""A stand-in for the bookings capability's Consultation workflow, speaking its real payments contract
(`domain.bookings.consultation.PaymentConfirmed`), so order tests need no slot, offering or hold:
it takes `payment_confirmed` / `payment_failed` from the Order workflow, and on cancellation asks
the Order workflow for the refund its policy gives (`request_refund`). It stays for what the real
workflow cannot do on cue (seeing every signal, mixed-line orders); the real Consultation workflow
and its order run together in tests/workflows/test_booking_payments.py."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.bookings.consultation import PaymentConfirmed
    from domain.payments.orders import PaymentFailed, RefundRequest, order_workflow_id
    from domain.payments.refunds import refund_due_on_cancellation


class Cancellation(BaseModel):
    order_id: UUID
    paid: int
    starts_at: datetime
    cancelled_at: datetime


class Seen(BaseModel):
    confirmed: list[PaymentConfirmed] = []
    failed: list[PaymentFailed] = []
    refund_asked: int | None = None


@workflow.defn(name="FakeConsultation")
class FakeConsultation:
    def __init__(self) -> None:
        self.seen = Seen()
        self.done = False

    @workflow.run
    async def run(self, booking_id: str) -> Seen:
        await workflow.wait_condition(lambda: self.done)
        return self.seen

    @workflow.signal(name="payment_confirmed")
    def payment_confirmed(self, payload: PaymentConfirmed) -> None:
        self.seen.confirmed.append(payload)

    @workflow.signal(name="payment_failed")
    def payment_failed(self, payload: PaymentFailed) -> None:
        self.seen.failed.append(payload)

    @workflow.signal
    async def cancel_booking(self, cancellation: Cancellation) -> None:
        amount = refund_due_on_cancellation(cancellation.paid, cancellation.starts_at, cancellation.cancelled_at)
        self.seen.refund_asked = amount
        if amount:
            booking = workflow.info().workflow_id.removeprefix("consultation-")
            await workflow.get_external_workflow_handle(order_workflow_id(cancellation.order_id)).signal(
                "request_refund", RefundRequest(amount=amount, reason="consultation cancelled by the client",
                                                kind="cancellation_policy", key=f"cancel:{booking}",
                                                cancellation_ref=booking))

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def state(self) -> Seen:
        return self.seen


class DeliveryStart(BaseModel):
    order_id: UUID
    line_id: UUID
    description: str


@workflow.defn(name="TestDelivery")
class TestDelivery:
    """A child workflow the registry's StartChildWorkflowHandler starts in the tests."""

    @workflow.run
    async def run(self, start: DeliveryStart) -> str:
        return f"delivered {start.description}"
