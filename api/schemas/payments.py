"""Schemas of payment settings, coupons, orders, checkout, refunds and the wallet.

Amounts are integers in minor units (paise) and must be sent as JSON integers: 499.0 or "499"
is refused, so a float never becomes money.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.schemas.identity import Strict
from domain.payments.gstin import gstin_problem
from domain.payments.money import MAX_AMOUNT, Currency
from domain.payments.orders import REFUND_HOLD_LIMIT, CheckoutInfo, RefundStatus
from domain.payments.pricing import CouponKind, GstMode, LineKind
from domain.payments.refunds import RefundDestination

Money = Annotated[int, Field(strict=True, ge=0, le=MAX_AMOUNT, description="minor units (paise), a JSON integer")]
PositiveMoney = Annotated[int, Field(strict=True, gt=0, le=MAX_AMOUNT,
                                     description="minor units (paise), a JSON integer")]
Text300 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _gstin(value: str) -> str:
    value = value.strip().upper()
    problem = gstin_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _code(value: str) -> str:
    value = value.strip().upper()
    if not (3 <= len(value) <= 40) or not all(c.isalnum() or c in "-_" for c in value):
        raise ValueError("use 3 to 40 letters, digits, '-' or '_'")
    return value


Gstin = Annotated[str, StringConstraints(max_length=15), AfterValidator(_gstin)]
CouponCode = Annotated[str, StringConstraints(max_length=40), AfterValidator(_code)]


# -- settings ---------------------------------------------------------------------------------
class PaymentSettingsIn(Strict):
    currency: Currency = "INR"
    gst_mode: GstMode = GstMode.NONE
    gst_rate_bp: int = Field(1800, strict=True, ge=0, le=10_000, description="basis points: 1800 = 18 %")
    gstin: Gstin | None = None
    legal_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
    invoice_prefix: Annotated[str, StringConstraints(max_length=16, pattern=r"^[A-Z0-9-]{1,16}$")] = "INV"
    payment_window_minutes: int = Field(30, strict=True, ge=5, le=7 * 24 * 60)
    razorpay_key_id: Annotated[str, StringConstraints(
        max_length=64, pattern=r"^rzp_(test|live)_[A-Za-z0-9]{6,40}$")] | None = Field(
        None, description="the tenant's own Razorpay account; omit to use the platform's")
    razorpay_key_secret: Annotated[str, StringConstraints(min_length=8, max_length=200)] | None = Field(
        None, description="write-only; stored encrypted")
    razorpay_webhook_secret: Annotated[str, StringConstraints(min_length=8, max_length=200)] | None = Field(
        None, description="write-only; stored encrypted")
    clear_razorpay_keys: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> PaymentSettingsIn:
        if self.gst_mode != GstMode.NONE and not self.gstin:
            raise ValueError("gstin: charging GST needs the consultancy's GSTIN")
        keys = (self.razorpay_key_id, self.razorpay_key_secret, self.razorpay_webhook_secret)
        if any(keys) and not all(keys):
            raise ValueError("razorpay_key_id: give the key id, key secret and webhook secret together")
        return self


class GatewayStatusOut(BaseModel):
    """How Razorpay last answered the consultancy's own keys (the platform's account: always ok)."""

    state: Literal["ok", "keys_refused"] = Field(
        description="ok; or keys_refused: Razorpay answered 401/403 to the saved keys, so checkouts fail")
    key_id: str | None = Field(None, description="the refused key id")
    reason: str | None = Field(None, description="Razorpay's own words, as last answered")
    since: datetime | None = Field(None, description="when Razorpay first refused these keys")
    action: str | None = Field(None, description="what the owner should do")


class PaymentSettingsOut(BaseModel):
    currency: str
    gst_mode: GstMode
    gst_rate_bp: int
    gstin: str | None
    legal_name: str | None
    address: str | None
    invoice_prefix: str
    payment_window_minutes: int
    razorpay_key_id: str | None = Field(description="the account payments go to")
    own_razorpay_account: bool
    webhook_url: str = Field(description="where to point this account's Razorpay webhooks")
    gateway_status: GatewayStatusOut = Field(description="whether Razorpay accepts the saved keys")


# -- coupons ----------------------------------------------------------------------------------
class CouponCreate(Strict):
    code: CouponCode
    kind: CouponKind
    percent_bp: int | None = Field(None, strict=True, gt=0, le=10_000, description="for percent: 1000 = 10 %")
    amount_off: PositiveMoney | None = Field(None, description="for fixed")
    currency: Currency = "INR"
    max_discount: PositiveMoney | None = None
    min_order_amount: Money = 0
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_uses: int | None = Field(None, strict=True, gt=0, le=10_000_000)
    max_uses_per_client: int | None = Field(None, strict=True, gt=0, le=10_000)
    offering_kinds: list[LineKind] = Field(default_factory=list, max_length=5)
    offering_ids: list[Ref] = Field(default_factory=list, max_length=200)
    description: Text300 | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CouponCreate:
        if self.kind == CouponKind.PERCENT and self.percent_bp is None:
            raise ValueError("percent_bp: a percent coupon needs percent_bp")
        if self.kind == CouponKind.FIXED and self.amount_off is None:
            raise ValueError("amount_off: a fixed coupon needs amount_off")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until: must be after valid_from")
        for name in ("valid_from", "valid_until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name}: give a time zone (e.g. 2026-12-01T00:00:00+05:30)")
        return self


class CouponUpdate(Strict):
    active: bool | None = None
    valid_until: datetime | None = None
    max_uses: int | None = Field(None, strict=True, gt=0, le=10_000_000)
    description: Text300 | None = None


class CouponOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    kind: CouponKind
    percent_bp: int | None
    amount_off: int | None
    currency: str
    max_discount: int | None
    min_order_amount: int
    valid_from: datetime | None
    valid_until: datetime | None
    max_uses: int | None
    max_uses_per_client: int | None
    uses: int
    offering_kinds: list[str]
    offering_ids: list[str]
    active: bool
    description: str | None
    created_at: datetime


# -- orders -----------------------------------------------------------------------------------
class LineCreate(Strict):
    kind: LineKind
    description: Text300
    unit_amount: Money
    quantity: int = Field(1, strict=True, ge=1, le=1000)
    offering_id: Ref | None = Field(None, description="the offering sold, for coupons restricted to some")
    ref_id: Ref | None = Field(None, description="what the line fulfils: the held booking's id for a consultation")

    @model_validator(mode="after")
    def _ref(self) -> LineCreate:
        if self.kind == LineKind.CONSULTATION and not self.ref_id:
            raise ValueError("ref_id: a consultation line names the held booking")
        if self.kind == LineKind.REPORT:
            try:
                UUID(self.ref_id or "")
            except ValueError:
                raise ValueError("ref_id: a report line names the consultant (user id) who writes it") from None
        return self


class OrderCreate(Strict):
    client_id: UUID
    lines: list[LineCreate] = Field(min_length=1, max_length=50)
    currency: Currency | None = Field(None, description="default: the consultancy's currency")
    coupon_code: CouponCode | None = None
    use_wallet: bool = Field(False, description="pay what the client's wallet holds first")
    wallet_amount: PositiveMoney | None = Field(None, description="at most this much from the wallet")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    place_of_supply: Annotated[str, StringConstraints(max_length=2, pattern=r"^[0-9]{2}$")] | None = Field(
        None, description="the client's state code (two digits, as a GSTIN starts: 29 Karnataka); another state "
                          "than the consultancy's GSTIN makes the tax IGST instead of CGST + SGST. Default: "
                          "the consultancy's own state")


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    position: int
    kind: LineKind | Literal["membership"] = Field(
        description="what the line sells; `membership`: a membership's charged period (docs/memberships.md)")
    description: str
    offering_id: str | None
    ref_id: str | None
    quantity: int
    unit_amount: int
    gross: int
    discount: int
    taxable: int
    tax: int
    total: int
    status: str
    status_detail: str | None


REFUND_HELD_ACTION = (
    "Nothing was sent to Razorpay yet and the amount stays reserved for this refund. It is sent (once, with "
    "the same idempotency key) as soon as Razorpay takes the keys: an owner updates them in the payment "
    "settings (PUT /payments/settings, which shows Razorpay's refusal), and the refund is tried at once; "
    "it is also tried again on its own at least hourly. Still refused at held_until, it fails and staff are told.")


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    amount: int
    gateway_amount: int
    wallet_amount: int
    destination: RefundDestination
    kind: str
    reason: str
    status: RefundStatus
    gateway_refund_id: str | None
    created_at: datetime
    processed_at: datetime | None
    failure: str | None = None
    # status `held`: not sent yet, because Razorpay refuses the keys (`held_reason`, in its words);
    # tried again until `held_until`, then failed (staff are told). `held_action` says what fixes it.
    held_since: datetime | None = None
    held_reason: str | None = None
    held_until: datetime | None = None
    held_action: str | None = None

    @model_validator(mode="after")
    def _hold(self) -> RefundOut:
        if self.status == RefundStatus.HELD:
            if self.held_since is not None:
                self.held_until = self.held_since + REFUND_HOLD_LIMIT
            self.held_action = REFUND_HELD_ACTION
        return self


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    workflow_id: str = ""
    client_id: UUID
    status: str
    currency: str
    subtotal: int
    discount: int
    taxable: int
    tax: int
    total: int
    wallet_applied: int
    amount_due: int = Field(description="what is paid online")
    amount_paid: int
    amount_refunded: int
    gst_mode: GstMode
    gst_rate_bp: int
    gstin: str | None
    place_of_supply: str | None = None
    coupon_code: str | None
    expires_at: datetime
    gateway_order_id: str | None
    paid_payment_id: str | None
    paid_at: datetime | None
    review_reason: str | None
    invoice_number: str | None = None
    note: str | None
    created_at: datetime
    lines: list[OrderLineOut] = Field(default_factory=list)
    refunds: list[RefundOut] = Field(default_factory=list)


class CheckoutOut(CheckoutInfo):
    prefill: dict[str, str] = Field(default_factory=dict)


class PaymentVerification(Strict):
    """What Razorpay Checkout's handler receives, passed on as it is."""

    razorpay_order_id: Annotated[str, StringConstraints(pattern=r"^order_[A-Za-z0-9]{6,40}$")]
    razorpay_payment_id: Annotated[str, StringConstraints(pattern=r"^pay_[A-Za-z0-9]{6,40}$")]
    razorpay_signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]


class PaymentAccepted(BaseModel):
    order_id: UUID
    status: str = Field(description="'verifying': the order workflow confirms the payment with Razorpay")


class RefundCreate(Strict):
    amount: PositiveMoney
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
    destination: RefundDestination = RefundDestination.ORIGINAL


class LineDelivered(Strict):
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)] = Field(
        description="what was delivered, how")


class OrderCancel(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]


# -- wallet ------------------------------------------------------------------------------------
class WalletEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    amount: int
    balance_after: int
    kind: str
    order_id: UUID | None
    refund_id: UUID | None
    note: str | None
    created_at: datetime


class WalletOut(BaseModel):
    client_id: UUID
    currency: str
    balance: int
    entries: list[WalletEntryOut] = Field(description="the latest movements, newest first")


class WalletCredit(Strict):
    amount: PositiveMoney
    currency: Currency = "INR"
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class WebhookAck(BaseModel):
    received: bool
    duplicate: bool = False
    event_id: str


def order_out(order: Any, lines: list[Any], refunds: list[Any], invoice_number: str | None,
              workflow_id: str) -> OrderOut:
    out = OrderOut.model_validate(order, from_attributes=True, context=None)
    return out.model_copy(update={
        "lines": [OrderLineOut.model_validate(line) for line in lines],
        "refunds": [RefundOut.model_validate(refund) for refund in refunds],
        "invoice_number": invoice_number, "workflow_id": workflow_id,
    })
