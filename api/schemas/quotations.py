"""Quotation requests and answers. Amounts are integers in minor units; instants are ISO 8601 with an offset."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.common import Email, Name, Phone, TimeZone
from api.schemas.identity import Strict
from api.schemas.payments import CheckoutOut, Money, Text300
from domain.payments.money import Currency
from domain.quotations import DiscountKind, QuotationStatus, QuoteLineKind
from domain.quotations import QuotationState as QuotationWorkflowState

LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
QuoteRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ReminderDays = Annotated[list[Annotated[int, Field(strict=True, ge=1, le=60)]], Field(max_length=5)]


class QuoteLineIn(Strict):
    kind: QuoteLineKind = Field(description="custom: free text; offering: one of the consultancy's offerings "
                                            "(at its price unless unit_amount is given); report: a report the "
                                            "quotation's consultant writes; course: a course (ref_id = its id)")
    description: Text300 | None = Field(None, description="required for custom lines; default: the offering's "
                                                          "or course's title")
    unit_amount: Money | None = Field(None, description="minor units; default: the offering's or course's price")
    quantity: int = Field(1, strict=True, ge=1, le=1000)
    offering_id: UUID | None = Field(None, description="the offering quoted (offering lines)")
    ref_id: QuoteRef | None = Field(None, description="course lines: the course id; report lines: the writer's user id "
                                                 "(default: the quotation's consultant)")


class ClientContact(Strict):
    """Someone who may not have an account yet: they become the consultancy's client when it is sent."""

    full_name: Name
    email: Email
    phone: Phone | None = None
    timezone: TimeZone | None = None


class QuotationContent(Strict):
    """What a version says: shared by drafts and revisions."""

    title: Title
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=50)
    currency: Currency | None = Field(None, description="default: the consultancy's currency")
    discount_kind: DiscountKind = DiscountKind.NONE
    discount_value: Money = Field(0, description="percent: basis points (1000 = 10 %); amount: minor units")
    notes: LongText | None = None
    terms: LongText | None = None
    file_id: UUID | None = Field(None, description="an attachment or image (a file uploaded to /files)")
    expires_at: AwareDatetime | None = Field(None, description="valid until (default: validity_days after sending)")
    validity_days: int | None = Field(None, strict=True, ge=1, le=366)


class QuotationCreate(QuotationContent):
    consultant_id: UUID | None = Field(None, description="default: the caller's own consultant profile")
    client_id: UUID | None = Field(None, description="an existing client; or give `client`")
    client: ClientContact | None = None
    reminder_days: ReminderDays | None = Field(None, description="days before expiry to remind the client "
                                                                  "(default: the consultancy's, 3 and 1)")


class QuotationEdit(Strict):
    """Change a draft (fields given replace the draft's; `lines` replaces every line)."""

    title: Title | None = None
    lines: list[QuoteLineIn] | None = Field(None, min_length=1, max_length=50)
    currency: Currency | None = None
    discount_kind: DiscountKind | None = None
    discount_value: Money | None = None
    notes: LongText | None = None
    terms: LongText | None = None
    file_id: UUID | None = None
    expires_at: AwareDatetime | None = None
    validity_days: int | None = Field(None, strict=True, ge=1, le=366)
    consultant_id: UUID | None = None
    client_id: UUID | None = None
    client: ClientContact | None = None
    reminder_days: ReminderDays | None = None


class SendBody(Strict):
    expires_at: AwareDatetime | None = Field(None, description="valid until; default: the draft's, or "
                                                               "validity_days after now")


class ExtendBody(Strict):
    expires_at: AwareDatetime


class ReasonBody(Strict):
    reason: Reason | None = None


class QuotationSettings(Strict):
    reminder_days: ReminderDays = Field(description="days before expiry to remind the client")
    validity_days: int = Field(strict=True, ge=1, le=366, description="validity when none is given")
    payment_window_hours: int = Field(strict=True, ge=1, le=24 * 30,
                                      description="how long an accepted quotation's order may be paid")


class QuoteLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    kind: str
    description: str
    offering_id: UUID | None
    ref_id: str | None
    quantity: int
    unit_amount: int
    gross: int
    discount: int
    tax: int
    total: int


class VersionOut(BaseModel):
    version: int
    title: str
    currency: str
    discount_kind: str
    discount_value: int
    subtotal: int
    discount: int
    taxable: int
    tax: int
    total: int
    gst_mode: str
    gst_rate_bp: int
    notes: str | None
    terms: str | None
    file_id: UUID | None
    issued_at: datetime | None
    expires_at: datetime | None
    superseded: bool
    lines: list[QuoteLineOut]


class ViewOut(BaseModel):
    version: int
    viewed_at: datetime
    via: str


class QuotationOut(BaseModel):
    id: UUID
    number: str
    status: QuotationStatus
    title: str
    consultant_id: UUID
    consultant_name: str
    client_id: UUID | None
    client_name: str
    client_email: str
    currency: str
    total: int
    version: int
    expires_at: datetime | None
    validity_days: int | None
    reminder_days: list[int]
    sent_at: datetime | None
    views: int
    first_viewed_at: datetime | None
    last_viewed_at: datetime | None
    decided_at: datetime | None
    decision_reason: str | None
    order_id: UUID | None
    paid_at: datetime | None
    workflow_id: str | None
    current: VersionOut
    can_accept: bool


class QuotationView(QuotationOut):
    """One quotation with its history: every issued version and every view; for staff, the workflow's state."""

    versions: list[VersionOut]
    view_log: list[ViewOut]
    workflow: QuotationWorkflowState | None = None


class PublicQuotation(BaseModel):
    """What the signed link shows: the current version, nothing about other clients or staff."""

    number: str
    status: QuotationStatus
    tenant_name: str
    consultant_name: str
    client_name: str
    expires_at: datetime | None
    version: int
    current: VersionOut
    can_accept: bool
    order_id: UUID | None
    can_pay: bool


class AcceptedOut(BaseModel):
    quotation_status: QuotationStatus
    order_id: UUID
    checkout: CheckoutOut | None = Field(None, description="what Razorpay Checkout needs; null if payments are "
                                                           "not set up (pay later through the order)")


class QuotationStats(BaseModel):
    sent: int
    viewed: int
    accepted: int
    paid: int
    rejected: int
    expired: int
    withdrawn: int
    lapsed: int
    open: int
    conversion_rate: float = Field(description="accepted (and paid) over sent, 0..1")
    median_hours_to_accept: float | None
    mean_hours_to_accept: float | None


PdfLanguage = Annotated[str, Query(pattern="^(en|hi)$", description="the PDF's language")]
