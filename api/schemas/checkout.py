"""Schemas of the client's checkout (a cart), the product catalogue, session packages and credits.

Prices are never sent by the client: a cart names what it buys (kind + id) and the server
prices it from the catalogue. Amounts are integers in minor units (paise).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from api.schemas.identity import Strict
from api.schemas.payments import CouponCode, Money, OrderOut
from domain.payments.money import Currency

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


# -- products ------------------------------------------------------------------------------------
class ProductKind(enum.StrEnum):
    REPORT = "report"     # written by a consultant, delivered through a report delivery
    PRODUCT = "product"   # anything else sold once, delivered by hand (staff mark the line fulfilled)


class ProductCreate(Strict):
    kind: ProductKind
    title: Title
    description: Description | None = None
    price_minor: Money
    currency: Currency = "INR"
    consultant_user_id: UUID | None = Field(None, validate_default=True,
                                            description="a report: the consultant (user id) who writes it")

    @field_validator("consultant_user_id")
    @classmethod
    def _writer(cls, value: UUID | None, info: ValidationInfo) -> UUID | None:
        if value is None and info.data.get("kind") == ProductKind.REPORT:
            raise ValueError("a report names the consultant (user id) who writes it")
        return value


class ProductUpdate(Strict):
    title: Title | None = None
    description: Description | None = None
    price_minor: Money | None = None
    active: bool | None = None


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: ProductKind
    title: str
    description: str | None
    price_minor: int
    currency: str
    consultant_user_id: UUID | None
    active: bool
    created_at: datetime


# -- session packages ------------------------------------------------------------------------------
class PackageCreate(Strict):
    offering_id: UUID = Field(description="the 1:1 offering (or webinar) the credits book")
    title: Title
    description: Description | None = None
    sessions: int = Field(strict=True, ge=1, le=100, description="credits granted")
    price_minor: Money = Field(description="the package price (for all sessions together)")
    currency: Currency = "INR"
    valid_days: int = Field(strict=True, ge=1, le=3 * 365, description="credits expire this many days after purchase")
    reminder_days: int | None = Field(None, strict=True, ge=0, le=365,
                                      description="remind the client this many days before expiry (0: no "
                                                  "reminder; default 7, or the day before for a shorter package)")
    credit_back_min_percent: int = Field(
        100, strict=True, ge=0, le=100,
        description="a cancelled booking gives its credit back when the booking's cancellation policy would refund "
                    "at least this percentage of a paid booking (a consultant cancelling always gives it back)")

    @field_validator("reminder_days")
    @classmethod
    def _reminder(cls, value: int | None, info: ValidationInfo) -> int | None:
        valid_days = info.data.get("valid_days")
        if value and valid_days is not None and value >= valid_days:
            raise ValueError("remind before the credits expire: fewer days than valid_days")
        return value


class PackageUpdate(Strict):
    title: Title | None = None
    description: Description | None = None
    price_minor: Money | None = None
    active: bool | None = None


class PackageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    offering_id: UUID
    title: str
    description: str | None
    sessions: int
    price_minor: int
    currency: str
    valid_days: int
    reminder_days: int
    credit_back_min_percent: int
    active: bool
    created_at: datetime


class CreditMoveOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    delta: int
    left_after: int
    booking_id: UUID | None
    note: str | None
    created_at: datetime


class GrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    package_id: UUID | None = Field(description="the session package bought (None: a membership's period)")
    membership_id: UUID | None = Field(None, description="the membership whose paid period granted these credits")
    offering_id: UUID
    client_id: UUID
    order_id: UUID | None
    title: str
    credits_total: int
    credits_used: int
    credits_left: int = 0
    status: str
    expires_at: datetime
    workflow_id: str
    moves: list[CreditMoveOut] = Field(default_factory=list)


# -- the cart ------------------------------------------------------------------------------------
class CartKind(enum.StrEnum):
    COURSE = "course"       # ref_id: a published course (or one of its cohorts): enrols
    REMEDY = "remedy"       # ref_id: a remedy of the catalogue with a price: starts the programme
    PRODUCT = "product"     # ref_id: a product (a report, or another item)
    PACKAGE = "package"     # ref_id: a session package: grants its credits


class CartItem(Strict):
    kind: CartKind
    ref_id: UUID = Field(description="the course, cohort, remedy, product or session package bought")
    quantity: int = Field(1, strict=True, ge=1, le=20, description="products only; everything else is one")


class CartCheckout(Strict):
    items: list[CartItem] = Field(min_length=1, max_length=20)
    coupon_code: CouponCode | None = None
    use_wallet: bool = Field(True, description="store credit pays first; the rest is paid through Razorpay")
    place_of_supply: Annotated[str, StringConstraints(max_length=2, pattern=r"^[0-9]{2}$")] | None = Field(
        None, description="the buyer's state code (two digits, as a GSTIN starts); default: the consultancy's state")


class CartQuote(BaseModel):
    """A priced cart: the order to pay (POST /orders/{order_id}/checkout) unless the wallet and a
    coupon paid it all (`amount_due` 0: fulfilled without Razorpay)."""

    order: OrderOut
    next: str = Field(description="what the frontend does next")


class CreditsOut(BaseModel):
    client_id: UUID
    grants: list[GrantOut]

