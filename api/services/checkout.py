"""Paying an order through Razorpay Checkout: one code path for every payer.

A signed-in client pays through `/orders/{id}/checkout` and `/orders/{id}/payment`; a guest pays
their booking's order through the booking's signed link (`/booking-links/{token}/checkout` and
`/payment`). Both routes find the order their own way, then call these functions: the checkout
Update of the order's workflow (the Razorpay order is made once, however often it is asked), and
the verification of Checkout's answer against the gateway order id *we stored*, whose signal is
written with the commit and relayed if the API cannot send it. The Order workflow decides; the
webhook and the reconciliation Schedule bring the same payment too.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.payments.gateway_order import GATEWAY_KEYS_REFUSED
from api.problems import ORDER_NOT_PAYABLE, PAYMENT_SIGNATURE_INVALID, PAYMENTS_UNAVAILABLE, Problem
from api.schemas.payments import CheckoutOut, PaymentAccepted, PaymentVerification
from api.state import AppState
from api.workflow_starts import signal_after_commit
from core.db import TenantScope, scoped_session
from core.razorpay import PaymentsNotConfigured, checkout_signature_matches
from domain.payments.orders import (
    CheckoutInfo,
    OrderStatus,
    PaymentReport,
    PaymentSource,
    order_workflow_id,
)
from models.identity import User
from models.payments import Order, credentials_for
from models.platform import record_audit

log = logging.getLogger(__name__)


def require_payable(order: Order) -> None:
    """Refuse an order that cannot be checked out now (paid, expired, cancelled, or all wallet)."""
    if order.status != OrderStatus.PENDING_PAYMENT or order.amount_due == 0:
        raise Problem(ORDER_NOT_PAYABLE, f"this order is {order.status.replace('_', ' ')}"
                      + (" and paid from the wallet" if order.amount_due == 0 else ""))


async def begin_checkout(session: AsyncSession, temporal: Client, order: Order) -> CheckoutOut:
    """What Razorpay Checkout needs for this order, with the buyer's name, email and phone to prefill."""
    require_payable(order)
    handle = temporal.get_workflow_handle(order_workflow_id(order.id))
    try:
        info: CheckoutInfo = await handle.execute_update("checkout", result_type=CheckoutInfo)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == "GatewayUnavailable":
            raise Problem(PAYMENTS_UNAVAILABLE, "Razorpay did not answer; nothing was charged. Try again shortly.",
                          headers={"Retry-After": "30"}) from exc
        if isinstance(cause, ApplicationError) and cause.type == GATEWAY_KEYS_REFUSED:
            raise Problem(PAYMENTS_UNAVAILABLE, "Razorpay refused this consultancy's payment keys; nothing was "
                          "charged. The consultancy must check its payment settings.",
                          headers={"Retry-After": "300"}) from exc
        raise
    buyer = await session.get(User, order.client_id)
    prefill = {"name": buyer.full_name, "email": buyer.email, **({"contact": buyer.phone} if buyer.phone else {})} \
        if buyer else {}
    return CheckoutOut(**info.model_dump(), prefill=prefill)


async def accept_checkout_payment(
    request: Request, session: AsyncSession, state: AppState, order: Order, body: PaymentVerification, *,
    actor_user_id: uuid.UUID | None, actor_role: str, via: str = "account",
) -> PaymentAccepted:
    """Checkout's answer, verified: HMAC-SHA256 of `<our stored Razorpay order id>|<payment id>`
    with the key secret, compared in constant time; then `payment_captured` is signalled to the
    order's workflow after the commit (it confirms amount and currency with Razorpay itself).
    A signature that does not verify is audited (in its own transaction) and refused. `via`
    (audited) says how the payer came: "account" (signed in) or "booking_link" (a guest)."""
    if order.gateway_order_id is None or order.gateway_key_id is None:
        raise Problem(ORDER_NOT_PAYABLE, "this order has not been checked out", field="razorpay_order_id")
    try:
        credentials = await credentials_for(session, order.tenant_id, state.settings, state.keys,
                                            key_id=order.gateway_key_id)
    except PaymentsNotConfigured as exc:
        raise Problem(PAYMENTS_UNAVAILABLE, str(exc)) from exc
    stored = order.gateway_order_id
    genuine = checkout_signature_matches(credentials.key_secret, stored, body.razorpay_payment_id,
                                         body.razorpay_signature)
    if not genuine or body.razorpay_order_id != stored:
        log.warning("checkout signature rejected for order %s (payment %s)", order.id, body.razorpay_payment_id)
        # The request's own unit of work rolls back with the error: the audit gets its own.
        async with scoped_session(state.sessionmaker, TenantScope.of(order.tenant_id)) as audit:
            await record_audit(audit, tenant_id=order.tenant_id, action="payment.signature_rejected",
                               actor_user_id=actor_user_id, actor_role=actor_role, target_type="order",
                               target_id=order.id, ip=request.client.host if request.client else None,
                               details={"payment_id": body.razorpay_payment_id,
                                        "order_id_sent": body.razorpay_order_id, "via": via})
        raise Problem(PAYMENT_SIGNATURE_INVALID, field="razorpay_signature")
    report = PaymentReport(payment_id=body.razorpay_payment_id, gateway_order_id=stored, status="captured",
                           source=PaymentSource.CHECKOUT)
    await signal_after_commit(request, session, state, workflow_id=order_workflow_id(order.id),
                              signal="payment_captured", payload=report, tenant_id=order.tenant_id)
    await record_audit(session, tenant_id=order.tenant_id, action="payment.verified", actor_user_id=actor_user_id,
                       actor_role=actor_role, target_type="order", target_id=order.id,
                       details={"payment_id": body.razorpay_payment_id, "via": via})
    return PaymentAccepted(order_id=order.id, status="verifying")
