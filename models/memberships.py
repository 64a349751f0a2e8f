"""Memberships: plans a consultancy offers, the clients' subscriptions to them, and each paid period.

* `membership_plans`: a monthly price granting `credits_per_period` session credits of an offering
  and/or access to courses (`course_ids`), renewed through a Razorpay plan (`gateway_plan_id`,
  made on the first subscription and kept per Razorpay account).
* `memberships`: one client's subscription to a plan: the database's mirror of the Membership
  workflow (`membership-<id>`), for reads. At most one live membership per client and plan.
* `membership_charges`: every paid period, once per Razorpay payment id (a replayed charge finds
  its row); the period's credits are a `package_grants` row (`membership_id` set) in the same
  ledger as session packages, so a booking takes them exactly like package credits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from domain.memberships import MembershipStatus
from models.base import Base, IdMixin, TenantOwned, TimestampMixin, utcnow

_LIVE_SQL = "status IN ('pending', 'active', 'paused', 'past_due')"


class MembershipPlan(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "membership_plans"
    __table_args__ = (
        CheckConstraint("period IN ('monthly')", name="period"),
        CheckConstraint("price_minor >= 100", name="price_at_least_one_rupee"),
        CheckConstraint("credits_per_period >= 0", name="credits_not_negative"),
        CheckConstraint("credits_per_period = 0 OR offering_id IS NOT NULL", name="credits_name_an_offering"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    period: Mapped[str] = mapped_column(String(16), default="monthly")
    offering_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    credits_per_period: Mapped[int] = mapped_column(Integer, default=0)
    course_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Razorpay's plan, per account (a plan lives in one account): {key_id: plan id}
    gateway_plans: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Membership(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'paused', 'past_due', 'cancelled', 'expired')",
                        name="status"),
        CheckConstraint("periods_paid >= 0", name="periods_not_negative"),
        Index("uq_memberships_live", "plan_id", "client_id", unique=True, postgresql_where=text(_LIVE_SQL)),
        Index("ix_memberships_client_status", "client_id", "status"),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("membership_plans.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=MembershipStatus.PENDING.value)
    title: Mapped[str] = mapped_column(String(200))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    terms: Mapped[dict[str, Any]] = mapped_column(JSONB, doc="the plan's terms when subscribed (PlanTerms)")
    gateway_subscription_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    gateway_key_id: Mapped[str | None] = mapped_column(String(40))
    short_url: Mapped[str | None] = mapped_column(String(300))
    current_start: Mapped[datetime | None]
    current_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    past_due_since: Mapped[datetime | None]
    periods_paid: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(300))
    gateway_error: Mapped[str | None] = mapped_column(String(300))
    workflow_id: Mapped[str] = mapped_column(String(100), unique=True)


class MembershipCharge(IdMixin, TenantOwned, Base):
    __tablename__ = "membership_charges"
    __table_args__ = (CheckConstraint("period_end > period_start", name="period_forward"),)

    membership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    payment_id: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    grant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("package_grants.id", ondelete="SET NULL"))
    charged_at: Mapped[datetime] = mapped_column(default=utcnow)
