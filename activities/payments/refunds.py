"""Refunds of an order: asked for once per key, the wallet part as store credit and the rest
through Razorpay with an idempotency key, held while Razorpay refuses the consultancy's keys, and
closed as processed or failed by the webhook or reconciliation.

The steps of `PaymentActivities.create_refund` and `.settle_refund` (activities/payments/orders.py),
which keeps the activities and hands them the order helpers they share, as
`activities/payments/gateway_order.py` does for the gateway order.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from activities.payments.razorpay_gateway import GatewayKeysRefused, GatewayRefused, GatewayUnavailable
from core.razorpay import TENANT, GatewayCredentials
from domain.ids import uuid_or_none
from domain.payments.orders import (
    CreateRefund,
    OrderRef,
    OrderStatus,
    RefundReport,
    RefundStatus,
    RefundView,
    SettleRefund,
    can_move,
)
from domain.payments.refunds import RefundDestination, split_refund
from models.bookings import Booking
from models.bookings import RefundStatus as BookingRefundStatus
from models.payments import Order, Payment, Refund, move_wallet
from models.platform import record_audit

if TYPE_CHECKING:
    from activities.payments.orders import PaymentActivities


def refused(message: str, kind: str = "PaymentRefused") -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def refund_view(refund: Refund) -> RefundView:
    return RefundView(
        refund_id=refund.id, key=refund.key, amount=refund.amount, gateway_amount=refund.gateway_amount,
        wallet_amount=refund.wallet_amount, destination=RefundDestination(refund.destination),
        status=RefundStatus(refund.status), kind=refund.kind, reason=refund.reason,
        payment_id=refund.gateway_payment_id, gateway_refund_id=refund.gateway_refund_id,
        held_since=refund.held_since, held_reason=refund.held_reason,
    )


def held_reason(credentials: GatewayCredentials, refusal: GatewayKeysRefused) -> str:
    """Why a refund is held: whose keys Razorpay refuses, which, and Razorpay's words (at most 500 characters)."""
    whose = "this consultancy's" if credentials.account == TENANT else "the platform's"
    return f"Razorpay refuses {whose} keys ({credentials.key_id}): {refusal}"[:500]


def refund_idempotency_key(refund_id: uuid.UUID) -> str:
    """Razorpay's X-Refund-Idempotency: 10+ letters, digits, '-' or '_'; one per refund of ours."""
    return f"muhurta-{refund_id}"


async def refundable(session: AsyncSession, order: Order, payment_id: str) -> tuple[int, int]:
    """(left to refund through `payment_id`, left to refund in all) for the order."""
    refunds = list((await session.execute(
        select(Refund).where(Refund.order_id == order.id, Refund.status != RefundStatus.FAILED.value))).scalars())
    payment = (await session.execute(
        select(Payment).where(Payment.gateway_payment_id == payment_id, Payment.order_id == order.id,
                              Payment.status == "captured"))).scalar_one_or_none()
    through_payment = (payment.amount or 0) if payment else 0
    through_payment -= sum(r.gateway_amount for r in refunds if r.gateway_payment_id == payment_id)
    wallet = 0 if order.wallet_released or order.status == OrderStatus.PENDING_PAYMENT else order.wallet_applied
    pool = order.amount_paid + wallet - sum(r.amount for r in refunds)
    return max(0, min(through_payment, pool)), max(0, pool)


async def create_refund(acts: PaymentActivities, step: CreateRefund) -> RefundView:
    """A refund once per key: the wallet part as store credit, the rest through Razorpay with
    its idempotency key, so a retry never refunds twice.

    Razorpay refusing the keys (401/403) holds the refund (`held`, with since when and why)
    when the workflow asks for that (`hold_on_keys_refused`); the same call for a held refund
    tries Razorpay again, with the same idempotency key."""
    ref, request = step.ref, step.request
    async with acts._session(ref) as session:
        order = await acts._order(session, ref.order_id, lock=True)
        refund = (await session.execute(
            select(Refund).where(Refund.tenant_id == order.tenant_id, Refund.key == request.key)
        )).scalar_one_or_none()
        if refund is None:
            payment_id = request.payment_id or order.paid_payment_id
            through_payment, pool = await refundable(session, order, payment_id or "")
            try:
                to_gateway, to_wallet = split_refund(
                    request.amount, request.destination, gateway_refundable=through_payment,
                    wallet_refundable=pool - through_payment)
            except ValueError as exc:
                raise refused(str(exc), "RefundTooLarge") from exc
            if 0 < to_gateway < 100:
                raise refused("Razorpay refunds at least 100 minor units; refund this to the wallet",
                              "RefundTooSmall")
            refund = Refund(
                tenant_id=order.tenant_id, order_id=order.id, key=request.key, gateway_payment_id=payment_id,
                amount=request.amount, gateway_amount=to_gateway, wallet_amount=to_wallet,
                destination=request.destination.value, kind=request.kind, reason=request.reason,
                status=RefundStatus.PENDING.value, requested_by=request.requested_by,
                cancellation_ref=request.cancellation_ref)
            session.add(refund)
            await session.flush()
            await record_audit(session, tenant_id=order.tenant_id, action="refund.requested",
                               actor_user_id=request.requested_by, target_type="order", target_id=order.id,
                               details={"refund_id": str(refund.id), "amount": request.amount,
                                        "kind": request.kind, "reason": request.reason})
            if to_gateway == 0:
                await processed(session, order, refund)
        view = refund_view(refund)
    if view.status not in (RefundStatus.PENDING, RefundStatus.HELD) or view.gateway_amount == 0 \
            or view.gateway_refund_id:
        return view
    # The row is committed before Razorpay is asked: a crash now retries with the same key.
    async with acts._session(ref) as session:
        order = await acts._order(session, ref.order_id)
        gateway = await acts._gateway(session, order)
    try:
        async with acts.keys_watch.watching(ref.tenant_id, gateway.credentials):
            answer = await gateway.refund(
                view.payment_id or "", amount=view.gateway_amount,
                idempotency_key=refund_idempotency_key(view.refund_id),
                notes={"refund_id": str(view.refund_id), "order_id": str(ref.order_id)},
                receipt=str(view.refund_id))
    except GatewayUnavailable as exc:
        raise ApplicationError(f"Razorpay unavailable: {exc}", type="GatewayUnavailable") from exc
    except GatewayRefused as exc:
        if isinstance(exc, GatewayKeysRefused) and step.hold_on_keys_refused:  # the consultancy's to fix
            return await _hold(acts, ref, view.refund_id, held_reason(gateway.credentials, exc))
        return await settle_refund(acts, SettleRefund(ref=ref, report=RefundReport(
            refund_id=view.refund_id, gateway_refund_id="", status="failed", amount=view.gateway_amount,
            payment_id=view.payment_id)), failure=f"Razorpay refused the refund: {exc}")
    async with acts._session(ref) as session:
        refund = await session.get(Refund, view.refund_id, with_for_update=True)
        assert refund is not None
        if refund.gateway_refund_id is None:
            refund.gateway_refund_id = str(answer["id"])
        if refund.status == RefundStatus.HELD.value:  # Razorpay took it: the hold is over
            refund.status, refund.held_since, refund.held_reason = RefundStatus.PENDING.value, None, None
            await record_audit(session, tenant_id=ref.tenant_id, action="refund.released",
                               target_type="order", target_id=ref.order_id,
                               details={"refund_id": str(refund.id), "amount": refund.amount})
        view = refund_view(refund)
    if answer.get("status") in ("processed", "failed") and view.status == RefundStatus.PENDING:
        return await settle_refund(acts, SettleRefund(ref=ref, report=RefundReport(
            refund_id=view.refund_id, gateway_refund_id=str(answer["id"]), status=answer["status"],
            amount=answer.get("amount"), payment_id=view.payment_id)))
    return view


async def _hold(acts: PaymentActivities, ref: OrderRef, refund_id: uuid.UUID, reason: str) -> RefundView:
    """The refund waits for keys Razorpay takes: `held`, since its first refusal, in Razorpay's words."""
    async with acts._session(ref) as session:
        refund = await session.get(Refund, refund_id, with_for_update=True)
        assert refund is not None
        if refund.status == RefundStatus.PENDING.value:
            refund.status, refund.held_since = RefundStatus.HELD.value, datetime.now(UTC)
            await record_audit(session, tenant_id=ref.tenant_id, action="refund.held", target_type="order",
                               target_id=ref.order_id, details={"refund_id": str(refund.id),
                                                                "amount": refund.amount, "reason": reason})
        if refund.status == RefundStatus.HELD.value:
            refund.held_reason = reason
        return refund_view(refund)


async def processed(session: AsyncSession, order: Order, refund: Refund) -> None:
    refund.status, refund.processed_at = RefundStatus.PROCESSED.value, datetime.now(UTC)
    if refund.wallet_amount:
        await move_wallet(session, tenant_id=order.tenant_id, client_id=order.client_id, currency=order.currency,
                          amount=refund.wallet_amount, kind="refund", dedupe_key=f"refund:{refund.id}:wallet",
                          order_id=order.id, refund_id=refund.id, note=refund.reason)
    order.amount_refunded += refund.amount
    booking_id = uuid_or_none(refund.cancellation_ref) if refund.kind == "cancellation_policy" else None
    if booking_id is not None:  # the cancelled booking's refund, carried out: bookings shows it refunded
        await session.execute(update(Booking).where(
            Booking.id == booking_id, Booking.order_id == order.id,
            Booking.refund_status == BookingRefundStatus.DUE).values(refund_status=BookingRefundStatus.REFUNDED))
    wallet = 0 if order.wallet_released else order.wallet_applied
    if order.amount_refunded >= order.amount_paid + wallet and can_move(OrderStatus(order.status),
                                                                        OrderStatus.REFUNDED):
        order.status = OrderStatus.REFUNDED.value


async def settle_refund(acts: PaymentActivities, step: SettleRefund, failure: str | None = None) -> RefundView:
    report = step.report
    async with acts._session(step.ref) as session:
        order = await acts._order(session, step.ref.order_id, lock=True)
        refund = None
        if report.refund_id is not None:
            refund = await session.get(Refund, report.refund_id)
        if refund is None and report.gateway_refund_id:
            refund = (await session.execute(
                select(Refund).where(Refund.gateway_refund_id == report.gateway_refund_id))).scalar_one_or_none()
        if refund is None or refund.order_id != order.id:
            raise refused(f"order {order.id} has no refund {report.refund_id or report.gateway_refund_id}",
                          "UnknownRefund")
        if refund.gateway_refund_id is None and report.gateway_refund_id:
            refund.gateway_refund_id = report.gateway_refund_id
        if refund.status in (RefundStatus.PENDING.value, RefundStatus.HELD.value):
            if report.status == "processed":
                await processed(session, order, refund)
            else:
                refund.status = RefundStatus.FAILED.value
                refund.failure = failure or step.failure or "the gateway failed it"
            await record_audit(session, tenant_id=order.tenant_id, action=f"refund.{refund.status}",
                               target_type="order", target_id=order.id,
                               details={"refund_id": str(refund.id), "amount": refund.amount})
        return refund_view(refund)
