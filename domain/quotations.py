"""Quotations: statuses, pricing, reminder planning and the Quotation workflow's contract (pure).

A quotation (`quotation-<id>`) is a consultant's offer of a bespoke engagement to a client:
lines (offerings at their price or another, free-text items), a discount (percent or amount),
GST by the consultancy's rules, validity. Drafts are edited in place; once sent, a change is a
new *version* that supersedes the last (the link shows the newest), so what the client saw is
kept. The workflow carries ids, instants, counts and amounts; names and emails stay in
PostgreSQL.

    draft --send--> sent --first view--> viewed --accept--> accepted --order paid--> paid
                     |  \\                 |  \\                  \\--payment window over--> lapsed
                     |   \\--reject--------+---> rejected
                     |    \\--expires_at---+---> expired
                     \\--withdraw----------+---> withdrawn
          (revise: a new version, back to sent; extend: expires_at and reminders move)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from domain.outbox import PostedMessage
from domain.payments.pricing import CouponKind, CouponRules, GstMode, LineIn, LineKind, Price, PriceRefused, price_order

QUOTATION_WORKFLOW = "Quotation"
DEFAULT_REMINDER_DAYS = (3, 1)
DEFAULT_VALIDITY_DAYS = 14
DEFAULT_PAYMENT_WINDOW_HOURS = 48
MAX_LINES = 50
MAX_REMINDERS = 5
MAX_VALIDITY = timedelta(days=366)
LINK_PURPOSE = "quotation"        # signed links: core.signing purpose
LINK_GRACE = timedelta(days=30)  # a link keeps working this long after the quotation's validity ends


def quotation_workflow_id(quotation_id: UUID | str) -> str:
    return f"quotation-{quotation_id}"


def quote_number(number: int) -> str:
    """The consultancy's sequential quote number as people see it: Q-0001."""
    return f"Q-{number:04d}"


class QuotationStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    VIEWED = "viewed"
    ACCEPTED = "accepted"     # an order was made; waiting for its payment
    PAID = "paid"             # the order was paid: its lines are fulfilled as orders are
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"         # accepted but not paid within the payment window


OPEN = frozenset({QuotationStatus.SENT, QuotationStatus.VIEWED})          # the client may still decide
FINAL = frozenset({QuotationStatus.PAID, QuotationStatus.REJECTED, QuotationStatus.EXPIRED,
                   QuotationStatus.WITHDRAWN, QuotationStatus.LAPSED})


class QuoteLineKind(enum.StrEnum):
    OFFERING = "offering"   # one of the consultancy's offerings (sessions): delivered by staff booking them
    CUSTOM = "custom"       # free text
    REPORT = "report"       # a report the quotation's consultant writes (starts a report delivery)
    COURSE = "course"       # a course of the consultancy (starts an enrolment)


ORDER_LINE_KIND = {QuoteLineKind.OFFERING: LineKind.PRODUCT, QuoteLineKind.CUSTOM: LineKind.PRODUCT,
                   QuoteLineKind.REPORT: LineKind.REPORT, QuoteLineKind.COURSE: LineKind.ENROLLMENT}


class DiscountKind(enum.StrEnum):
    NONE = "none"
    PERCENT = "percent"     # value in basis points: 1000 = 10 %
    AMOUNT = "amount"       # value in minor units


@dataclass(frozen=True)
class QuoteLine:
    kind: QuoteLineKind
    description: str
    unit_amount: int
    quantity: int = 1
    offering_id: str | None = None
    ref_id: str | None = None    # report: the consultant's user id; course: the course id

    def order_line(self) -> LineIn:
        return LineIn(kind=ORDER_LINE_KIND[self.kind], description=self.description, unit_amount=self.unit_amount,
                      quantity=self.quantity, offering_id=self.offering_id, ref_id=self.ref_id)


def quotation_discount(kind: DiscountKind, value: int) -> CouponRules | None:
    """The quotation's discount as the pricing rules take a coupon's, so that the order made on
    acceptance is priced by the very same arithmetic (shares per line, GST after discount)."""
    if kind == DiscountKind.NONE or value == 0:
        return None
    if kind == DiscountKind.PERCENT:
        return CouponRules(code="QUOTATION", kind=CouponKind.PERCENT, currency="", percent_bp=value)
    return CouponRules(code="QUOTATION", kind=CouponKind.FIXED, currency="", amount_off=value)


def price_quotation(lines: list[QuoteLine], *, currency: str, discount_kind: DiscountKind, discount_value: int,
                    gst_mode: GstMode, gst_rate_bp: int) -> Price:
    """The quotation's figures; raises PriceRefused naming the field at fault."""
    if not lines:
        raise PriceRefused("a quotation needs at least one line", "lines")
    if len(lines) > MAX_LINES:
        raise PriceRefused(f"a quotation has at most {MAX_LINES} lines", "lines")
    for position, line in enumerate(lines):
        if line.unit_amount < 0:
            raise PriceRefused("an amount cannot be negative", f"lines.{position}.unit_amount")
        if line.quantity < 1:
            raise PriceRefused("a quantity is at least 1", f"lines.{position}.quantity")
    subtotal = sum(line.unit_amount * line.quantity for line in lines)
    if discount_value < 0:
        raise PriceRefused("a discount cannot be negative", "discount_value")
    if discount_kind == DiscountKind.PERCENT and discount_value > 10_000:
        raise PriceRefused("a percent discount is at most 10000 basis points (100 %)", "discount_value")
    if discount_kind == DiscountKind.AMOUNT and discount_value > subtotal:
        raise PriceRefused(f"the discount ({discount_value}) is more than the lines add up to ({subtotal})",
                           "discount_value")
    order_lines = [line.order_line() for line in lines]
    coupon = quotation_discount(discount_kind, discount_value)
    return price_order(order_lines, currency=currency, gst_mode=gst_mode, gst_rate_bp=gst_rate_bp, coupon=coupon,
                       eligible=subtotal if coupon else None)


def check_reminder_days(days: list[int]) -> list[int]:
    """Distinct days before expiry, largest first; raises ValueError with the reason."""
    if len(days) > MAX_REMINDERS:
        raise ValueError(f"at most {MAX_REMINDERS} reminders")
    if any(d < 1 or d > 60 for d in days):
        raise ValueError("a reminder is 1 to 60 days before expiry")
    return sorted(set(days), reverse=True)


@dataclass(frozen=True)
class PlannedReminder:
    days_before: int
    due_at: datetime
    step: str


def planned_reminders(*, expires_at: datetime, days_before: list[int], sent_at: datetime, now: datetime,
                      done: set[str]) -> list[PlannedReminder]:
    """Reminders still to send for this expiry, earliest first. A reminder whose time came before
    the quotation was sent is skipped (a quotation sent two days before expiry gets no "3 days"
    reminder); one due now or at a time already passed while the workflow slept is still due.
    The step names the expiry, so an extension plans fresh reminders."""
    plan = []
    for days in days_before:
        due = expires_at - timedelta(days=days)
        step = f"reminder:{expires_at.isoformat()}:{days}"
        if due <= sent_at or due >= expires_at or step in done:
            continue
        plan.append(PlannedReminder(days, due, step))
    return sorted(plan, key=lambda r: r.due_at)


def check_expiry(expires_at: datetime, now: datetime, *, field: str = "expires_at") -> None:
    """Raise PriceRefused-like ValueError when an expiry is in the past or too far away."""
    if expires_at <= now:
        raise ExpiryRefused("choose a time in the future", field)
    if expires_at - now > MAX_VALIDITY:
        raise ExpiryRefused("a quotation is valid for at most a year", field)


class ExpiryRefused(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# -- the workflow's contract ---------------------------------------------------------------------
NOTIFY = "quotations.notify"
ACCEPT = "quotations.accept"
REJECT = "quotations.reject"
EXPIRE = "quotations.expire"
EXTEND = "quotations.extend"
WITHDRAW = "quotations.withdraw"
REVISE = "quotations.revise"
SETTLE = "quotations.settle"

Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class QuotationInput(BaseModel):
    quotation_id: UUID
    tenant_id: UUID
    client_id: UUID
    consultant_id: UUID
    number: str
    expires_at: AwareDatetime
    sent_at: AwareDatetime
    reminder_days: list[int] = Field(default_factory=lambda: list(DEFAULT_REMINDER_DAYS))
    payment_window_seconds: int = DEFAULT_PAYMENT_WINDOW_HOURS * 3600
    version: int = 1


class QuotationRef(BaseModel):
    workflow_id: str
    tenant_id: UUID
    quotation_id: UUID


class QuotationState(BaseModel):
    quotation_id: UUID
    number: str
    status: QuotationStatus
    version: int
    expires_at: datetime
    views: int = 0
    first_viewed_at: datetime | None = None
    reminders_sent: list[str] = Field(default_factory=list)
    order_id: UUID | None = None
    pay_by: datetime | None = None
    payment_reminded: bool = False
    reminders_paused: bool = False  # support paused them: reminders falling due are skipped
    reminders_skipped: list[str] = Field(default_factory=list)
    decided_at: datetime | None = None
    reason: str | None = None
    extensions: int = 0
    messages: list[PostedMessage] = Field(default_factory=list)


class Notice(BaseModel):
    """One message of the workflow: `event` is `quotation.<event>`; audience client and/or consultant."""

    ref: QuotationRef
    step: str
    event: str
    audience: list[Literal["client", "consultant"]]
    version: int
    variables: dict[str, str] = Field(default_factory=dict)
    attach_pdf: bool = False


class AcceptRequest(BaseModel):
    actor_user_id: UUID | None = None
    via: Literal["link", "account", "staff"] = "account"


class Accepted(BaseModel):
    """The accept update's answer: the new state and the order to pay."""

    state: QuotationState
    order_id: UUID


class AcceptStep(BaseModel):
    ref: QuotationRef
    at: datetime
    request: AcceptRequest
    payment_window_seconds: int


class RejectRequest(BaseModel):
    reason: Reason | None = None
    actor_user_id: UUID | None = None


class ExtendRequest(BaseModel):
    expires_at: AwareDatetime
    actor_user_id: UUID | None = None


class WithdrawRequest(BaseModel):
    reason: Reason | None = None
    actor_user_id: UUID | None = None


class ReviseRequest(BaseModel):
    """A new version, already written by the API as an unissued version row; the activity issues it."""

    version: int = Field(ge=2)
    expires_at: AwareDatetime
    actor_user_id: UUID | None = None


class Step(BaseModel):
    """A change the workflow makes through an activity (`what` says which request)."""

    ref: QuotationRef
    at: datetime
    reject: RejectRequest | None = None
    extend: ExtendRequest | None = None
    withdraw: WithdrawRequest | None = None
    revise: ReviseRequest | None = None


class Viewed(BaseModel):
    """Signal `viewed` from the API: the link was opened (the row already counts the view)."""

    at: datetime
    views: int


class SettleStep(BaseModel):
    """Record how the order's payment ended; `reported` None: read the order's status from the database."""

    ref: QuotationRef
    at: datetime
    order_id: UUID
    reported: str | None = None


def summary(state: QuotationState) -> str:
    return (f"Quotation {state.number} v{state.version}: {state.status.value}, "
            f"valid until {state.expires_at:%Y-%m-%d %H:%M} UTC, {state.views} view(s)")


QuotationInput.model_rebuild()


def quotation_settings(tenant_settings: dict[str, object] | None) -> dict[str, object]:
    """The consultancy's quotation defaults (kept in tenants.settings['quotations'])."""
    saved = (tenant_settings or {}).get("quotations") or {}
    assert isinstance(saved, dict)
    return {"reminder_days": list(saved.get("reminder_days", DEFAULT_REMINDER_DAYS)),
            "validity_days": int(saved.get("validity_days", DEFAULT_VALIDITY_DAYS)),
            "payment_window_hours": int(saved.get("payment_window_hours", DEFAULT_PAYMENT_WINDOW_HOURS))}
