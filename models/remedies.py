"""Remedies: the consultancy's catalogue, programmes (a remedy assigned to a client) and check-ins.

Every table is tenant-owned (row-level security). A programme's row mirrors its Remedy workflow
(`remedy-<id>`: status, counts, streak, the next occurrence), written by the workflow's
activities, so lists and the client's "today" view are answered without asking Temporal.
`remedy_check_ins` holds one row per occurrence that was answered or missed: the unique
(programme, occurrence) pair is what makes a check-in count once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TenantOwned, TimestampMixin


class Remedy(IdMixin, TimestampMixin, TenantOwned, Base):
    """A remedy of the catalogue: what to do, in English and Hindi, and its default schedule."""

    __tablename__ = "remedies"
    __table_args__ = (
        CheckConstraint("price_minor IS NULL OR price_minor >= 0", name="price_not_negative"),
        CheckConstraint("default_duration_days IS NULL OR default_duration_days > 0", name="duration_positive"),
        CheckConstraint("default_occurrences IS NULL OR default_occurrences > 0", name="occurrences_positive"),
    )

    kind: Mapped[str] = mapped_column(String(16))   # mantra, donation, gemstone, vastu, fasting, ...
    title: Mapped[str] = mapped_column(String(200))
    instructions_en: Mapped[str] = mapped_column(String(5000))
    instructions_hi: Mapped[str | None] = mapped_column(String(5000))
    default_schedule: Mapped[dict[str, Any]] = mapped_column(JSONB)
    default_duration_days: Mapped[int | None] = mapped_column(Integer)
    default_occurrences: Mapped[int | None] = mapped_column(Integer)
    price_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RemedyProgramme(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "remedy_programmes"
    __table_args__ = (
        Index("ix_remedy_programmes_client_status", "client_id", "status"),
        Index("ix_remedy_programmes_consultant_status", "consultant_id", "status"),
        Index("ix_remedy_programmes_next", "tenant_id", "next_occurrence_at"),
    )

    remedy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("remedies.id", ondelete="RESTRICT"), index=True)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    birth_profile_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("birth_profiles.id", ondelete="SET NULL"))
    consultant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                            doc="the consultant's user id")
    source: Mapped[str] = mapped_column(String(16))        # direct, consultation, suggestion, order
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    order_id: Mapped[uuid.UUID | None] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, paused, completed, stopped
    plan: Mapped[dict[str, Any]] = mapped_column(JSONB)
    timezone: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    workflow_id: Mapped[str] = mapped_column(String(100), unique=True)
    counted: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    streak: Mapped[int] = mapped_column(Integer, default=0)
    best_streak: Mapped[int] = mapped_column(Integer, default=0)
    next_occurrence_at: Mapped[datetime | None]
    next_occurrence_key: Mapped[str | None] = mapped_column(String(16))
    open_occurrence_key: Mapped[str | None] = mapped_column(String(16))
    open_until: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(500))
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RemedyCheckIn(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "remedy_check_ins"
    __table_args__ = (UniqueConstraint("programme_id", "occurrence_key"),)

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("remedy_programmes.id", ondelete="CASCADE"))
    occurrence_key: Mapped[str] = mapped_column(String(16))
    occurrence_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(8))   # done, skipped, missed
    note: Mapped[str | None] = mapped_column(String(1000))
    checked_at: Mapped[datetime]
    by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
