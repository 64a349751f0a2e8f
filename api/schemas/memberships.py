"""Request and response bodies of membership plans and memberships (docs/memberships.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from api.schemas.identity import Strict
from domain.memberships import MembershipStatus, Period
from domain.payments.money import MAX_AMOUNT, Currency

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
PlanPrice = Annotated[int, Field(strict=True, ge=100, le=MAX_AMOUNT,
                                 description="per period, minor units (paise), a JSON integer; Razorpay's "
                                             "minimum is 100")]


class PlanCreate(Strict):
    title: Title
    description: Description | None = None
    price_minor: PlanPrice
    currency: Currency = "INR"
    period: Period = Period.MONTHLY
    offering_id: UUID | None = Field(None, description="the offering the period's session credits book")
    credits_per_period: int = Field(0, strict=True, ge=0, le=100,
                                    description="session credits granted each paid period (they expire with it)")
    course_ids: list[UUID] = Field(default_factory=list, max_length=20, validate_default=True,
                                   description="courses the member may follow while the membership lasts")

    @field_validator("credits_per_period")
    @classmethod
    def _credits_book_an_offering(cls, value: int, info: ValidationInfo) -> int:
        if value and info.data.get("offering_id") is None:
            raise ValueError("session credits book an offering: send offering_id too")
        return value

    @field_validator("course_ids")
    @classmethod
    def _grants_something(cls, value: list[UUID], info: ValidationInfo) -> list[UUID]:
        if not value and info.data.get("credits_per_period") == 0:
            raise ValueError("a plan grants session credits (credits_per_period), course access, or both")
        if len(set(value)) != len(value):
            raise ValueError("name each course once")
        return value


class PlanUpdate(Strict):
    """Changes apply to memberships subscribed from now on; running ones keep their terms."""

    title: Title | None = None
    description: Description | None = None
    active: bool | None = None


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    title: str
    description: str | None
    price_minor: int
    currency: str
    period: Period
    offering_id: UUID | None
    credits_per_period: int
    course_ids: list[UUID]
    active: bool
    created_at: datetime


class Subscribe(Strict):
    plan_id: UUID


class MembershipPause(Strict):
    reason: Reason | None = None


class MembershipCancel(Strict):
    at_period_end: bool = Field(True, description="keep the benefits until the paid period ends (default), or "
                                                  "end now (nothing is refunded)")
    reason: Reason | None = None


class MembershipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    plan_id: UUID
    client_id: UUID
    status: MembershipStatus
    title: str
    price_minor: int
    currency: str
    gateway_subscription_id: str | None = Field(description="Razorpay's subscription id, once made")
    short_url: str | None = Field(description="where the client authorises the subscription (Razorpay's page)")
    current_start: datetime | None
    current_end: datetime | None = Field(description="the paid period ends (renews, or the membership ends)")
    cancel_at_period_end: bool
    past_due_since: datetime | None
    periods_paid: int
    ended_at: datetime | None
    end_reason: str | None
    gateway_error: str | None
    workflow_id: str
    created_at: datetime


class SubscriptionCheckout(BaseModel):
    membership_id: UUID
    subscription_id: str = Field(description="Razorpay Checkout's `subscription_id`")
    short_url: str | None = Field(description="or send the client to Razorpay's hosted page")
    key_id: str = Field(description="Razorpay Checkout's `key`")
