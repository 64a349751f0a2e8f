"""Orders: statuses, workflow ids, and the messages between API, Order workflow and activities.

The Order workflow (`order-<order id>`) accepts:
- signals `payment_captured` / `payment_failed` (PaymentReport) from the webhook, checkout
  verification and reconciliation; `refund_settled` (RefundReport) from the refund webhooks;
  `request_refund` (RefundRequest) from other workflows (a cancelled consultation); `cancel`;
  `gateway_keys_changed` (the owner saved or removed the Razorpay keys: held refunds are tried now);
- updates `checkout` (-> CheckoutInfo) and `refund` (RefundRequest -> RefundView, validated);
- query `state` (-> OrderState).
It sends to `consultation-<booking id>` the signal `payment_confirmed` (PaymentConfirmed), or
`payment_failed` (PaymentFailed) when the hold must be released.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from domain.payments.pricing import LineKind
from domain.payments.refunds import RefundDestination

PAYMENT_WINDOW = timedelta(minutes=30)      # an unpaid order expires after this (tenant setting)
LATE_PAYMENT_GRACE = timedelta(days=3)      # an expired order still catches (and refunds) late payments
REFUND_WINDOW = timedelta(days=180)         # a fulfilled order takes refunds this long
RECONCILE_EVERY = timedelta(minutes=10)
RECONCILE_OLDER_THAN = timedelta(minutes=5)  # pending orders older than this are checked with the gateway
RECONCILE_SCHEDULE_ID = "payments-reconciliation"
# A refund Razorpay will not take because it refuses the keys (401/403) is held, not failed: the
# Order workflow tries it again, first after a minute, then twice as long each time up to an hour,
# and at once when the owner saves keys; still refused this long after it was first held, it fails
# and staff are told.
REFUND_HOLD_LIMIT = timedelta(days=30)
REFUND_HOLD_FIRST_RETRY = timedelta(minutes=1)
REFUND_HOLD_MAX_RETRY = timedelta(hours=1)


def order_workflow_id(order_id: UUID | str) -> str:
    return f"order-{order_id}"


def consultation_workflow_id(booking_id: str) -> str:
    return f"consultation-{booking_id}"


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"                               # captured, fulfilment under way
    FULFILLED = "fulfilled"
    AWAITING_FULFILMENT = "awaiting_fulfilment"  # paid; some line has no fulfilment handler yet
    FULFILMENT_FAILED = "fulfilment_failed"      # compensated: holds released, money refunded
    NEEDS_REVIEW = "needs_review"                # paid the wrong amount/currency: staff decide, never fulfilled
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"                        # everything paid went back


# Where an order may go from each status: a paid order never returns to pending or expired.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.NEEDS_REVIEW, OrderStatus.EXPIRED,
                                            OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.FULFILLED, OrderStatus.AWAITING_FULFILMENT,
                                 OrderStatus.FULFILMENT_FAILED, OrderStatus.REFUNDED}),
    OrderStatus.AWAITING_FULFILMENT: frozenset({OrderStatus.FULFILLED, OrderStatus.REFUNDED}),
    OrderStatus.FULFILLED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.FULFILMENT_FAILED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.NEEDS_REVIEW: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.EXPIRED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}
CLOSED_UNPAID = frozenset({OrderStatus.EXPIRED, OrderStatus.CANCELLED})
# Statuses in which the order holds captured money (refunds are possible).
MONEY_HELD = frozenset({OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.AWAITING_FULFILMENT,
                        OrderStatus.FULFILMENT_FAILED, OrderStatus.NEEDS_REVIEW, OrderStatus.REFUNDED})


def can_move(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[current]


class LineStatus(enum.StrEnum):
    PENDING = "pending"
    FULFILLED = "fulfilled"
    AWAITING_HANDLER = "awaiting_handler"   # no fulfilment handler for this kind is wired yet
    FAILED = "failed"
    RELEASED = "released"                   # its hold was released (expiry, cancel, compensation)


class PaymentSource(enum.StrEnum):
    CHECKOUT = "checkout"
    WEBHOOK = "webhook"
    RECONCILIATION = "reconciliation"


class PaymentReport(BaseModel):
    """What someone learned about a gateway payment; only the gateway's own word has amounts."""

    payment_id: str
    gateway_order_id: str
    status: Literal["captured", "authorized", "failed"]
    amount: int | None = None
    currency: str | None = None
    method: str | None = None
    error: str | None = None
    source: PaymentSource
    event_id: str | None = None


class RefundReport(BaseModel):
    refund_id: UUID | None = None        # ours, from the refund's notes
    gateway_refund_id: str
    payment_id: str | None = None
    status: Literal["processed", "failed"]
    amount: int | None = None
    source: PaymentSource = PaymentSource.WEBHOOK


class FulfilmentLine(BaseModel):
    line_id: UUID
    kind: LineKind
    ref_id: str | None = None
    description: str
    total: int


RefundKind = Literal["staff", "cancellation_policy", "compensation", "duplicate_payment", "late_payment",
                     "review"]
RefundKey = Annotated[str, StringConstraints(min_length=10, max_length=100, pattern=r"^[A-Za-z0-9_:.-]+$")]


class RefundRequest(BaseModel):
    amount: int = Field(gt=0, le=10**11)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    destination: RefundDestination = RefundDestination.ORIGINAL
    kind: RefundKind = "staff"
    key: RefundKey                         # idempotency: the same key is the same refund
    requested_by: UUID | None = None
    cancellation_ref: str | None = None    # the booking whose cancellation this is
    payment_id: str | None = None          # a specific payment (a duplicate); default: the order's


class LineCompletion(BaseModel):
    """Staff delivered a line that has no automatic fulfilment (update `complete_line`)."""

    line_id: UUID
    actor_user_id: UUID | None = None
    note: str = Field("", max_length=500)


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    HELD = "held"              # not sent: Razorpay refuses the keys; tried again (REFUND_HOLD_LIMIT)
    PROCESSED = "processed"
    FAILED = "failed"


class RefundView(BaseModel):
    refund_id: UUID
    key: str
    amount: int
    gateway_amount: int
    wallet_amount: int
    destination: RefundDestination
    status: RefundStatus
    kind: str
    reason: str
    payment_id: str | None = None
    gateway_refund_id: str | None = None
    held_since: datetime | None = None     # HELD: since when, and why (the keys Razorpay refuses)
    held_reason: str | None = None


class OrderInput(BaseModel):
    order_id: UUID
    tenant_id: UUID
    client_id: UUID
    currency: str
    total: int
    amount_due: int
    wallet_applied: int
    expires_at: datetime                  # for people; the workflow counts payment_window from its start
    payment_window_seconds: int = int(PAYMENT_WINDOW.total_seconds())
    lines: list[FulfilmentLine]
    resume: OrderState | None = None      # carried over by continue-as-new
    # A workflow told `order_settled` (OrderSettled) once the payment is decided: paid, or closed
    # unpaid (a quotation's order tells its quotation).
    notify_workflow_id: str | None = None


class CheckoutInfo(BaseModel):
    """What a frontend passes to Razorpay Checkout."""

    order_id: UUID
    key_id: str
    gateway_order_id: str
    amount: int
    currency: str
    expires_at: datetime
    name: str
    description: str


class OrderState(BaseModel):
    order_id: UUID
    status: OrderStatus
    amount_due: int
    wallet_applied: int
    paid_payment_id: str | None = None
    amount_paid: int = 0                   # captured by the gateway for this order
    refunded: int = 0                      # processed refunds
    refunds: list[RefundView] = Field(default_factory=list)
    lines: dict[str, LineStatus] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    invoice_number: str | None = None
    extra_payments: list[str] = Field(default_factory=list)
    pay_by: datetime | None = None
    after_sales_until: datetime | None = None
    access_ended: bool = False             # refunded in full: the lines' `refunded` hooks have run


# -- to and from other workflows ---------------------------------------------------------
class PaymentConfirmed(BaseModel):
    """Signal `payment_confirmed` to `consultation-<booking id>`: the hold is paid for."""

    order_id: UUID
    payment_id: str
    amount: int
    currency: str


class OrderSettled(BaseModel):
    """Signal `order_settled` to `OrderInput.notify_workflow_id`: the order left pending_payment."""

    order_id: UUID
    status: OrderStatus


class PaymentFailed(BaseModel):
    """Signal `payment_failed` to `consultation-<booking id>`: release the hold."""

    order_id: UUID
    reason: str


# -- activity contracts ------------------------------------------------------------------
class OrderRef(BaseModel):
    workflow_id: str
    order_id: UUID
    tenant_id: UUID


class PaymentResult(enum.StrEnum):
    PAID = "paid"                 # this payment pays the order
    ALREADY_PAID = "already_paid"  # this very payment was recorded before
    MISMATCH = "mismatch"         # wrong amount or currency: flagged for staff
    EXTRA = "extra"               # another captured payment for an order already paid
    LATE = "late"                 # captured after the order expired or was cancelled
    FAILED = "failed"             # a failed attempt, recorded
    NOT_CAPTURED = "not_captured"  # the gateway does not (yet) say captured


class RecordPayment(BaseModel):
    ref: OrderRef
    report: PaymentReport


class PaymentOutcome(BaseModel):
    result: PaymentResult
    payment_id: str
    amount: int = 0
    currency: str = ""
    detail: str = ""


class LineUpdate(BaseModel):
    ref: OrderRef
    line_id: UUID
    status: LineStatus
    detail: str | None = None


class OrderNotice(BaseModel):
    ref: OrderRef
    event: str           # a template of domain.payments.messages
    audience: Literal["client", "staff"]
    step: str            # part of the dedupe key
    variables: dict[str, str] = Field(default_factory=dict)


class CreateRefund(BaseModel):
    ref: OrderRef
    request: RefundRequest
    # Razorpay refusing the keys holds the refund (HELD) instead of failing it; workflows from
    # before REFUND_HOLD_LIMIT existed send False and keep failing it.
    hold_on_keys_refused: bool = False


class SettleRefund(BaseModel):
    ref: OrderRef
    report: RefundReport
    failure: str | None = None   # why, when the workflow itself fails it (a hold that ran out)


class CloseOrder(BaseModel):
    ref: OrderRef
    status: OrderStatus
    reason: str


class StaleOrder(BaseModel):
    order_id: UUID
    tenant_id: UUID
    workflow_id: str
    pending_refunds_only: bool = False


class StaleQuery(BaseModel):
    older_than_seconds: int
    limit: int = 200


class GatewayFindings(BaseModel):
    order: StaleOrder
    payments: list[PaymentReport] = Field(default_factory=list)
    refunds: list[RefundReport] = Field(default_factory=list)


class ReconcileInput(BaseModel):
    older_than_seconds: int = int(RECONCILE_OLDER_THAN.total_seconds())
    limit: int = 200


class ReconcileResult(BaseModel):
    checked: int = 0
    payments_found: int = 0
    refunds_found: int = 0
    signalled: list[str] = Field(default_factory=list)


CREATE_GATEWAY_ORDER = "payments.create_gateway_order"
RECORD_PAYMENT = "payments.record_payment"
UPDATE_LINE = "payments.update_line"
ISSUE_INVOICE = "payments.issue_invoice"
SEND_RECEIPT = "payments.send_receipt"
NOTIFY = "payments.notify"
CLOSE_ORDER = "payments.close_order"
CREATE_REFUND = "payments.create_refund"
SETTLE_REFUND = "payments.settle_refund"
FIND_STALE = "payments.find_stale"
CHECK_GATEWAY = "payments.check_gateway"

OrderInput.model_rebuild()
