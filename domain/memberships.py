"""Memberships: a monthly plan that grants session credits and/or course access, renewed through
Razorpay Subscriptions, paused, resumed or cancelled by the client (docs/memberships.md).

Pure rules and the Membership workflow's contract. Razorpay drives the money: each billing cycle
it charges the client's authorised mandate and sends `subscription.charged`; the workflow
(`membership-<id>`) decides what that grants: one `package_grants` row per charge (id derived
from the payment id, so a replayed charge grants nothing more) expiring at the period's end,
and course enrolments at the first charge, ended when the membership ends.
"""

from __future__ import annotations

import calendar
import enum
import uuid
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, Field

MEMBERSHIP_WORKFLOW = "Membership"

# activity names (activities/memberships.py)
SAVE = "memberships.save"
CREATE_SUBSCRIPTION = "memberships.create_subscription"
GATEWAY_CALL = "memberships.gateway_call"
GRANT_PERIOD = "memberships.grant_period"
CLOSE_GRANTS = "memberships.close_grants"
COURSES_TO_OPEN = "memberships.courses_to_open"
NOTIFY = "memberships.notify"

# events of the notification templates
PAST_DUE_EVENT = "membership.past_due"
ENDED_EVENT = "membership.ended"
ERASED_REASON = "the client's personal data was erased"

# ApplicationError types the API maps to problems
GATEWAY_UNAVAILABLE = "GatewayUnavailable"

AUTHORISE_WITHIN = timedelta(days=2)     # a subscription not authorised by then is dropped
RENEWAL_GRACE = timedelta(days=3)        # after the period's end, wait this long for Razorpay's charge
PAST_DUE_GRACE = timedelta(days=7)       # a past-due membership keeps access this long, then ends
MAX_BILLING_CYCLES = 120                 # Razorpay needs a total_count: ten years of months
CHARGES_KEPT = 24                        # payment ids remembered by the workflow (the DB keeps them all)

_NS = uuid.UUID("1f0c5d0e-6b55-4c43-9d0c-6d656d626572")


class Period(enum.StrEnum):
    MONTHLY = "monthly"


class MembershipStatus(enum.StrEnum):
    PENDING = "pending"        # made; the client has not authorised the subscription yet
    ACTIVE = "active"          # paid for the current period
    PAUSED = "paused"          # billing paused by the client; nothing new is granted
    PAST_DUE = "past_due"      # a renewal failed (Razorpay halted it); access kept for a grace period
    CANCELLED = "cancelled"    # ended by a cancellation (at the period's end, or now)
    EXPIRED = "expired"        # never authorised, or past due for too long


LIVE = frozenset({MembershipStatus.PENDING, MembershipStatus.ACTIVE, MembershipStatus.PAUSED,
                  MembershipStatus.PAST_DUE})
ENDED = frozenset({MembershipStatus.CANCELLED, MembershipStatus.EXPIRED})


def membership_workflow_id(membership_id: UUID | str) -> str:
    return f"membership-{membership_id}"


def period_grant_id(membership_id: UUID, payment_id: str) -> UUID:
    """The credits of one charge: the same id however often the charge is reported."""
    return uuid.uuid5(_NS, f"grant:{membership_id}:{payment_id}")


def course_enrollment_id(membership_id: UUID, course_id: UUID) -> UUID:
    """The enrolment a membership opens in one of its plan's courses (one per membership and course)."""
    return uuid.uuid5(_NS, f"course:{membership_id}:{course_id}")


def add_months(at: datetime, months: int = 1) -> datetime:
    """The same wall-clock instant `months` later, clamped to the month's last day (31 Jan -> 28 Feb)."""
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


# -- what Razorpay tells (webhooks) -----------------------------------------------------------------
class SubscriptionEventKind(enum.StrEnum):
    AUTHENTICATED = "subscription.authenticated"
    ACTIVATED = "subscription.activated"
    CHARGED = "subscription.charged"
    PENDING = "subscription.pending"
    HALTED = "subscription.halted"
    PAUSED = "subscription.paused"
    RESUMED = "subscription.resumed"
    CANCELLED = "subscription.cancelled"
    COMPLETED = "subscription.completed"


class SubscriptionReport(BaseModel):
    """One Razorpay subscription event, as the workflow takes it (signal `gateway_event`)."""

    kind: SubscriptionEventKind
    subscription_id: str
    status: str | None = None
    payment_id: str | None = None          # subscription.charged: the period's payment
    amount: int | None = None
    currency: str | None = None
    current_start: datetime | None = None  # the period the charge pays for
    current_end: datetime | None = None
    event_id: str | None = None


# -- the workflow's input, state and requests -----------------------------------------------------
class PlanTerms(BaseModel):
    """What a plan grants, copied at subscription: later plan edits do not change a membership."""

    plan_id: UUID
    title: str
    price_minor: int
    currency: str
    offering_id: UUID | None = None
    credits_per_period: int = 0
    course_ids: list[UUID] = Field(default_factory=list)


class MembershipInput(BaseModel):
    membership_id: UUID
    tenant_id: UUID
    client_id: UUID
    terms: PlanTerms
    resume: MembershipState | None = None  # carried over by continue-as-new


class MembershipState(BaseModel):
    membership_id: UUID
    status: MembershipStatus
    subscription_id: str | None = None
    short_url: str | None = None
    authorise_by: datetime | None = None
    current_start: datetime | None = None
    current_end: datetime | None = None
    resumed_at: datetime | None = None
    cancel_at_period_end: bool = False
    past_due_since: datetime | None = None
    periods_paid: int = 0
    credits_granted: int = 0
    charges: list[str] = Field(default_factory=list)   # the latest payment ids (CHARGES_KEPT)
    courses_open: list[UUID] = Field(default_factory=list)
    ended_at: datetime | None = None
    end_reason: str | None = None
    gateway_error: str | None = None
    # Razorpay's events that will echo our own pause/resume calls: consumed without a state change
    echoes: dict[str, int] = Field(default_factory=dict)
    erased: bool = False   # ended by the client's erasure: no message, nothing kept until the period ends


class Checkout(BaseModel):
    """What the client needs to authorise the subscription (Razorpay Checkout or its short URL)."""

    subscription_id: str
    short_url: str | None
    key_id: str


class PauseRequest(BaseModel):
    reason: str | None = Field(None, max_length=300)


class CancelRequest(BaseModel):
    at_period_end: bool = True
    reason: str | None = Field(None, max_length=300)
    erasure: bool = False  # the client's personal data is being erased: now, silently (never from the API)


# -- activity arguments ------------------------------------------------------------------------------
class MembershipRef(BaseModel):
    membership_id: UUID
    tenant_id: UUID
    workflow_id: str


class SaveStep(BaseModel):
    ref: MembershipRef
    state: MembershipState


class SubscriptionRequest(BaseModel):
    ref: MembershipRef
    terms: PlanTerms
    expire_by: datetime


class GatewayOp(enum.StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL_NOW = "cancel_now"
    CANCEL_AT_PERIOD_END = "cancel_at_period_end"


class GatewayCall(BaseModel):
    ref: MembershipRef
    subscription_id: str
    op: GatewayOp


class PeriodGrant(BaseModel):
    ref: MembershipRef
    client_id: UUID
    terms: PlanTerms
    charge: SubscriptionReport
    period_start: datetime
    period_end: datetime


class GrantedPeriod(BaseModel):
    new: bool          # False: this charge was recorded before (a replay)
    credits: int


class CloseGrants(BaseModel):
    ref: MembershipRef
    at: datetime
    revoke: bool = False   # the membership ended early: what is left is revoked, not expired


class MembershipNotice(BaseModel):
    ref: MembershipRef
    event: str
    step: str


MembershipInput.model_rebuild()
