"""The Order workflow's side effects: the gateway order, payments, lines, invoices, receipts, refunds.

Each activity is idempotent, keyed by what the workflow passes (workflow id and step, the
gateway's payment id, the refund's key): a retry after a crash finds its own earlier work and
does nothing twice. The workflow is the only writer of an order's status; every change here is
also guarded by `domain.payments.orders.can_move`, so a paid order never goes back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notifications import Notifier, attempt_time, deliver_or_retry
from activities.payments import refunds
from activities.payments.gateway_health import GatewayKeysWatch
from activities.payments.gateway_order import ensure_gateway_order
from activities.payments.invoice import issue_order_invoice
from activities.payments.razorpay_gateway import (
    GatewayRefused,
    GatewayUnavailable,
    RazorpayGateway,
)
from core.db import TenantScope, scoped_session
from core.observability.metrics import PAYMENTS_CAPTURED
from core.razorpay import GatewayCredentials, PaymentsNotConfigured
from core.security import Keys
from core.settings import Settings
from domain.notification_templates import order_notice_words
from domain.notifications import NotificationOutcome, NotificationRequest
from domain.payments.money import format_amount
from domain.payments.orders import (
    CHECK_GATEWAY,
    CLOSE_ORDER,
    CREATE_GATEWAY_ORDER,
    CREATE_REFUND,
    FIND_STALE,
    ISSUE_INVOICE,
    NOTIFY,
    RECORD_PAYMENT,
    SEND_RECEIPT,
    SETTLE_REFUND,
    UPDATE_LINE,
    CheckoutInfo,
    CloseOrder,
    CreateRefund,
    GatewayFindings,
    LineUpdate,
    OrderNotice,
    OrderRef,
    OrderStatus,
    PaymentOutcome,
    PaymentReport,
    PaymentResult,
    PaymentSource,
    RecordPayment,
    RefundReport,
    RefundStatus,
    RefundView,
    SettleRefund,
    StaleOrder,
    StaleQuery,
    can_move,
    order_workflow_id,
)
from domain.zones import zone_of
from models.identity import Role, User
from models.payments import (
    Invoice,
    Order,
    OrderLine,
    Payment,
    Refund,
    credentials_for,
    move_wallet,
    release_coupon,
)
from models.platform import record_audit
from models.tenancy import Tenant

# Results of a capture recorded now; a repeat of the same payment answers ALREADY_PAID, or the
# earlier result with the detail RECORDED_BEFORE, and is not counted again.
CAPTURED_NOW = frozenset({PaymentResult.PAID, PaymentResult.MISMATCH, PaymentResult.EXTRA, PaymentResult.LATE})
RECORDED_BEFORE = "recorded before"
log = logging.getLogger(__name__)

GatewayFactory = Callable[[GatewayCredentials], RazorpayGateway]


def _refused(message: str, kind: str = "PaymentRefused") -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def _sent_now(outcome: NotificationOutcome) -> bool:
    """Some channel was sent by this attempt (False when an earlier attempt had sent it all)."""
    return any(c.channel in outcome.sent_on and not c.already_done for c in outcome.channels)


class PaymentActivities:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        keys: Keys,
        gateway_factory: GatewayFactory = RazorpayGateway,
        notifier: Notifier | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.keys = keys
        self.gateway_factory = gateway_factory
        self.notifier = notifier or Notifier(sessionmaker, settings, keys)
        self.keys_watch = GatewayKeysWatch(sessionmaker, keys, self.notifier)

    # -- helpers ---------------------------------------------------------------------------
    def _session(self, ref: OrderRef) -> Any:
        return scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id))

    async def _order(self, session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False) -> Order:
        stmt = select(Order).where(Order.id == order_id)
        if lock:
            stmt = stmt.with_for_update()
        order = (await session.execute(stmt)).scalar_one_or_none()
        if order is None:
            raise _refused(f"order {order_id} does not exist", "OrderNotFound")
        return order

    async def _gateway(self, session: AsyncSession, order: Order) -> RazorpayGateway:
        try:
            credentials = await credentials_for(session, order.tenant_id, self.settings, self.keys,
                                                key_id=order.gateway_key_id)
        except PaymentsNotConfigured as exc:
            raise _refused(str(exc), "PaymentsNotConfigured") from exc
        return self.gateway_factory(credentials)

    @staticmethod
    def _move(order: Order, target: OrderStatus) -> bool:
        current = OrderStatus(order.status)
        if current == target:
            return False
        if not can_move(current, target):
            raise _refused(f"order {order.id} is {current.value}; it cannot become {target.value}", "BadTransition")
        order.status = target.value
        return True

    # -- the gateway order -----------------------------------------------------------------------
    @activity.defn(name=CREATE_GATEWAY_ORDER)
    async def create_gateway_order(self, ref: OrderRef) -> CheckoutInfo:
        """The Razorpay order to pay this order with, created once (a retry finds it by receipt);
        no transaction is held while Razorpay answers (see activities/payments/gateway_order.py)."""
        return await ensure_gateway_order(self, ref)

    # -- payments ----------------------------------------------------------------------------------
    async def _authoritative(self, ref: OrderRef, report: PaymentReport) -> PaymentReport:
        """What the gateway itself says about the payment (a browser's word carries no amount),
        asked with no transaction open: the order is locked only once the answer is in."""
        if report.amount is not None and report.currency is not None and report.source != PaymentSource.CHECKOUT:
            return report
        async with self._session(ref) as session:
            gateway = await self._gateway(session, await self._order(session, ref.order_id))
        try:
            async with self.keys_watch.watching(ref.tenant_id, gateway.credentials):
                fetched = await gateway.fetch_payment(report.payment_id)
        except GatewayRefused as exc:
            raise _refused(f"Razorpay does not know payment {report.payment_id}: {exc}", "UnknownPayment") from exc
        status = fetched.get("status")
        return report.model_copy(update={
            "status": status if status in ("captured", "authorized", "failed") else "authorized",
            "amount": fetched.get("amount"), "currency": fetched.get("currency"),
            "gateway_order_id": fetched.get("order_id") or report.gateway_order_id,
            "method": fetched.get("method"), "error": fetched.get("error_description"),
        })

    @activity.defn(name=RECORD_PAYMENT)
    async def record_payment(self, step: RecordPayment) -> PaymentOutcome:
        """Record a payment once and decide what it means for the order (see PaymentResult)."""
        outcome = await self._record_payment(step)
        if outcome.result in CAPTURED_NOW and outcome.detail != RECORDED_BEFORE:  # committed; counted once
            PAYMENTS_CAPTURED.labels(outcome.result.value).inc()
        return outcome

    async def _record_payment(self, step: RecordPayment) -> PaymentOutcome:
        ref = step.ref
        try:
            report = await self._authoritative(ref, step.report)
            async with self._session(ref) as session:
                order = await self._order(session, ref.order_id, lock=True)
                if order.gateway_order_id is None or report.gateway_order_id != order.gateway_order_id:
                    log.warning("payment %s is for gateway order %s, not %s", report.payment_id,
                                report.gateway_order_id, order.gateway_order_id)
                    return PaymentOutcome(result=PaymentResult.NOT_CAPTURED, payment_id=report.payment_id,
                                          detail="this payment belongs to another order")
                existing = (await session.execute(
                    select(Payment).where(Payment.gateway_payment_id == report.payment_id)
                )).scalar_one_or_none()
                if existing is not None and existing.status == "captured":
                    result = PaymentResult(existing.result)
                    return PaymentOutcome(
                        result=PaymentResult.ALREADY_PAID if result == PaymentResult.PAID else result,
                        payment_id=existing.gateway_payment_id, amount=existing.amount or 0,
                        currency=existing.currency or "", detail=RECORDED_BEFORE)
                if report.status != "captured":
                    if existing is None and report.status == "failed":
                        session.add(Payment(
                            tenant_id=order.tenant_id, order_id=order.id, gateway_payment_id=report.payment_id,
                            gateway_order_id=report.gateway_order_id, status="failed",
                            result=PaymentResult.FAILED.value, amount=report.amount, currency=report.currency,
                            method=report.method, source=report.source.value, error=report.error))
                    result = PaymentResult.FAILED if report.status == "failed" else PaymentResult.NOT_CAPTURED
                    return PaymentOutcome(result=result, payment_id=report.payment_id, detail=report.error or "")
                amount, currency = int(report.amount or 0), str(report.currency or "")
                status = OrderStatus(order.status)
                detail = ""
                if status == OrderStatus.PENDING_PAYMENT:
                    if amount == order.amount_due and currency == order.currency:
                        result = PaymentResult.PAID
                        self._move(order, OrderStatus.PAID)
                        order.paid_payment_id, order.paid_at = report.payment_id, datetime.now(UTC)
                    else:
                        result = PaymentResult.MISMATCH
                        detail = (f"received {format_amount(amount, currency) if currency else amount} "
                                  f"for an order of {format_amount(order.amount_due, order.currency)}")
                        self._move(order, OrderStatus.NEEDS_REVIEW)
                        order.review_reason = detail
                        order.paid_payment_id = report.payment_id
                        await record_audit(session, tenant_id=order.tenant_id, action="payment.mismatch",
                                           target_type="order", target_id=order.id,
                                           details={"payment_id": report.payment_id, "amount": amount,
                                                    "currency": currency, "expected": order.amount_due})
                elif status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED):
                    result, detail = PaymentResult.LATE, f"captured after the order was {status.value}"
                else:
                    result, detail = PaymentResult.EXTRA, "another payment for an order already paid"
                order.amount_paid += amount
                if existing is not None:  # an attempt first seen as authorized/failed, now captured
                    existing.status, existing.result = "captured", result.value
                    existing.amount, existing.currency = amount, currency
                else:
                    session.add(Payment(
                        tenant_id=order.tenant_id, order_id=order.id, gateway_payment_id=report.payment_id,
                        gateway_order_id=report.gateway_order_id, status="captured", result=result.value,
                        amount=amount, currency=currency, method=report.method, source=report.source.value))
                return PaymentOutcome(result=result, payment_id=report.payment_id, amount=amount,
                                      currency=currency, detail=detail)
        except GatewayUnavailable as exc:
            raise ApplicationError(f"Razorpay unavailable: {exc}", type="GatewayUnavailable") from exc

    # -- lines, status ----------------------------------------------------------------------------
    @activity.defn(name=UPDATE_LINE)
    async def update_line(self, step: LineUpdate) -> None:
        async with self._session(step.ref) as session:
            line = await session.get(OrderLine, step.line_id)
            if line is None or line.order_id != step.ref.order_id:
                raise _refused(f"order {step.ref.order_id} has no line {step.line_id}")
            line.status, line.status_detail = step.status.value, step.detail

    @activity.defn(name=CLOSE_ORDER)
    async def close_order(self, step: CloseOrder) -> str:
        """Move the order to `step.status`; an unpaid order gives back its coupon use and wallet money.
        Returns the status the order has afterwards."""
        async with self._session(step.ref) as session:
            order = await self._order(session, step.ref.order_id, lock=True)
            moved = self._move(order, step.status)
            if step.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED):
                await release_coupon(session, order.id)
                if order.wallet_applied and not order.wallet_released:
                    await move_wallet(session, tenant_id=order.tenant_id, client_id=order.client_id,
                                      currency=order.currency, amount=order.wallet_applied, kind="order_release",
                                      dedupe_key=f"order:{order.id}:release", order_id=order.id,
                                      note=f"order {step.status.value}")
                    order.wallet_released = True
                order.closed_at = datetime.now(UTC)
            if step.status == OrderStatus.PAID and moved:  # paid in full from the wallet and coupon
                order.paid_at = datetime.now(UTC)
            if moved:
                await record_audit(session, tenant_id=order.tenant_id, action=f"order.{step.status.value}",
                                   target_type="order", target_id=order.id, details={"reason": step.reason})
            return order.status

    # -- invoice and receipt ------------------------------------------------------------------------
    @activity.defn(name=ISSUE_INVOICE)
    async def issue_invoice(self, ref: OrderRef) -> str:
        """The order's invoice, numbered in the tenant's series without gaps; once per order."""
        async with self._session(ref) as session:
            return await issue_order_invoice(session, await self._order(session, ref.order_id))

    @activity.defn(name=SEND_RECEIPT)
    async def send_receipt(self, ref: OrderRef) -> bool:
        """The receipt with the invoice link, through the notifications capability; once per order."""
        async with self._session(ref) as session:
            order = await self._order(session, ref.order_id)
            tenant = await session.get(Tenant, order.tenant_id)
            client = await session.get(User, order.client_id)
            invoice = (await session.execute(select(Invoice).where(Invoice.order_id == order.id))).scalar_one_or_none()
            if tenant is None or client is None or invoice is None:
                raise _refused(f"order {order.id}: no invoice, tenant or client to send a receipt for")
            lines = list((await session.execute(
                select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position))).scalars())
            link = f"{self.settings.public_base_url}/api/v1/orders/{order.id}/invoice"
            request = NotificationRequest(
                dedupe_key=f"{ref.workflow_id}:receipt", tenant_id=order.tenant_id, recipient_user_id=client.id,
                event="payment_receipt", at=attempt_time(),
                variables={
                    "full_name": client.full_name, "tenant_name": tenant.name,
                    "amount": format_amount(order.total, order.currency), "order_ref": str(order.id)[:8],
                    "items": "\n".join(f"- {line.description}: {format_amount(line.total, order.currency)}"
                                       for line in lines),
                    "invoice_number": invoice.invoice_number, "link": link,
                },
                data={"order_id": str(order.id), "invoice_number": invoice.invoice_number, "link": link,
                      "amount": order.total, "currency": order.currency})
        return _sent_now(await deliver_or_retry(self.notifier, request))

    @activity.defn(name=NOTIFY)
    async def notify(self, notice: OrderNotice) -> int:
        """Tell the client or the tenant's staff (owner and staff) something about the order; once per step."""
        async with self._session(notice.ref) as session:
            order = await self._order(session, notice.ref.order_id)
            tenant = await session.get(Tenant, order.tenant_id)
            if notice.audience == "client":
                client = await session.get(User, order.client_id)
                recipients = [client] if client else []
            else:
                recipients = list((await session.execute(
                    select(User).where(User.tenant_id == order.tenant_id, User.role.in_([Role.OWNER, Role.STAFF]),
                                       User.is_active.is_(True)))).scalars())
            requests = [NotificationRequest(
                dedupe_key=f"{notice.ref.workflow_id}:{notice.step}:{user.id}", tenant_id=order.tenant_id,
                recipient_user_id=user.id, event=notice.event, at=attempt_time(),
                variables={"full_name": user.full_name, "tenant_name": tenant.name if tenant else "",
                           "order_ref": str(order.id)[:8],
                           **order_notice_words(notice.variables, zone_of(user, tenant), user.locale)},
                data={"order_id": str(order.id)}) for user in recipients]
        # Sent outside the order's transaction: no lock is held while a provider answers.
        return sum([_sent_now(await deliver_or_retry(self.notifier, request)) for request in requests])

    # -- refunds (activities/payments/refunds.py) ---------------------------------------------------
    @activity.defn(name=CREATE_REFUND)
    async def create_refund(self, step: CreateRefund) -> RefundView:
        """A refund once per key, the wallet part as store credit and the rest through Razorpay
        (`refunds.create_refund`)."""
        return await refunds.create_refund(self, step)

    @activity.defn(name=SETTLE_REFUND)
    async def settle_refund(self, step: SettleRefund) -> RefundView:
        """Close a refund as processed or failed (from its webhook or reconciliation); idempotent."""
        return await refunds.settle_refund(self, step)

    # -- reconciliation ---------------------------------------------------------------------------
    @activity.defn(name=FIND_STALE)
    async def find_stale(self, query: StaleQuery) -> list[StaleOrder]:
        """Orders still waiting for a payment (or with refunds still pending) after a while."""
        cutoff = datetime.now(UTC) - timedelta(seconds=query.older_than_seconds)
        async with scoped_session(self.sessionmaker, TenantScope.system()) as session:
            unpaid = (await session.execute(
                select(Order.id, Order.tenant_id)
                .where(Order.status == OrderStatus.PENDING_PAYMENT.value, Order.gateway_order_id.is_not(None),
                       Order.created_at <= cutoff)
                .order_by(Order.created_at).limit(query.limit))).all()
            refunding = (await session.execute(
                select(Refund.order_id, Refund.tenant_id)
                .where(Refund.status == RefundStatus.PENDING.value, Refund.gateway_amount > 0,
                       Refund.created_at <= cutoff)
                .group_by(Refund.order_id, Refund.tenant_id).limit(query.limit))).all()
        found = {row[0]: StaleOrder(order_id=row[0], tenant_id=row[1], workflow_id=order_workflow_id(row[0]))
                 for row in unpaid}
        for order_id, tenant_id in refunding:
            found.setdefault(order_id, StaleOrder(order_id=order_id, tenant_id=tenant_id,
                                                  workflow_id=order_workflow_id(order_id), pending_refunds_only=True))
        return list(found.values())

    @activity.defn(name=CHECK_GATEWAY)
    async def check_gateway(self, stale: StaleOrder) -> GatewayFindings:
        """Ask Razorpay what became of an order's payments and pending refunds."""
        ref = OrderRef(workflow_id=stale.workflow_id, order_id=stale.order_id, tenant_id=stale.tenant_id)
        async with self._session(ref) as session:
            order = await self._order(session, stale.order_id)
            pending = list((await session.execute(
                select(Refund).where(Refund.order_id == order.id, Refund.status == RefundStatus.PENDING.value,
                                     Refund.gateway_refund_id.is_not(None)))).scalars())
            gateway = await self._gateway(session, order) if order.gateway_order_id else None
        findings = GatewayFindings(order=stale)
        if gateway is None or order.gateway_order_id is None:
            return findings
        try:
            async with self.keys_watch.watching(stale.tenant_id, gateway.credentials):
                if not stale.pending_refunds_only:
                    for payment in await gateway.order_payments(order.gateway_order_id):
                        if payment.get("status") in ("captured", "failed"):
                            findings.payments.append(PaymentReport(
                                payment_id=payment["id"], gateway_order_id=order.gateway_order_id,
                                status=payment["status"], amount=payment.get("amount"),
                                currency=payment.get("currency"), method=payment.get("method"),
                                error=payment.get("error_description"),
                                source=PaymentSource.RECONCILIATION))
                for refund in pending:
                    answer = await gateway.fetch_refund(refund.gateway_refund_id or "")
                    if answer.get("status") in ("processed", "failed"):
                        findings.refunds.append(RefundReport(
                            refund_id=refund.id, gateway_refund_id=str(answer["id"]), status=answer["status"],
                            amount=answer.get("amount"), payment_id=refund.gateway_payment_id,
                            source=PaymentSource.RECONCILIATION))
        except GatewayUnavailable as exc:
            raise ApplicationError(f"Razorpay unavailable: {exc}", type="GatewayUnavailable") from exc
        except GatewayRefused as exc:
            log.warning("reconciliation of order %s refused by Razorpay: %s", order.id, exc)
        return findings

    def all(self) -> list[Callable[..., Any]]:
        return [self.create_gateway_order, self.record_payment, self.update_line, self.close_order,
                self.issue_invoice, self.send_receipt, self.notify, self.create_refund, self.settle_refund,
                self.find_stale, self.check_gateway]
